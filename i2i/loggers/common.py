"""What the built-in loggers share: checking their package, and the run's card and weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from i2i.errors import RecipeError


def require(package: str, logger: str) -> None:
    """Fail on one line, before anything is written, when ``package`` is not installed."""
    if importlib.util.find_spec(package) is None:
        raise RecipeError(
            f"log.loggers: the {logger} logger needs the {package} package; "
            f"pip install 'i2i[{logger}]', or remove {logger} from log.loggers"
        )


def card_of(run_dir: Path) -> Path | None:
    """The run's model card, once the finished run has written it."""
    card = run_dir / "checkpoints" / "README.md"
    return card if card.is_file() else None


def weights_to_upload(run_dir: Path, last: Path | None) -> Path | None:
    """The checkpoint a tracker stores as an artefact: the best one when kept, else the last."""
    best = run_dir / "checkpoints" / "best.safetensors"
    return best if best.is_file() else last
