"""A collected study's results, sent to the trackers its recipe logs to."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from i2i.study.schema import Plan
from i2i.train.trackers import TrackerWarning


def send_results(plan: Plan, folder: Path, results: dict[str, Any]) -> list[str]:
    """Give each of the study recipe's ``log.loggers`` the results; the names that took them.

    A logger that fails is one warning: the results on disk are what counts.
    """
    from i2i.config import load_recipe
    from i2i.plugins import default_registry
    from i2i.train.trackers import build_loggers

    recipe = load_recipe(str(plan.base), [*plan.study.budget, *plan.overrides])
    sent = []
    for name, logger in build_loggers(recipe, default_registry()):
        try:
            logger.study_results(plan.name, folder, results)
            sent.append(name)
        except Exception as error:  # noqa: BLE001 - a tracker must not lose the results
            first = (str(error).strip().splitlines() or [""])[0]
            warnings.warn(
                f"log.loggers: '{name}' could not take the study's results "
                f"({type(error).__name__}: {first}); they are in {folder}",
                TrackerWarning,
                stacklevel=1,
            )
    return sent
