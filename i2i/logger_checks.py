"""The contract check of experiment loggers (re-exported by :mod:`i2i.testing`)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from i2i.registry import Registry
from i2i.train.events import RunInfo, Subscriber

RECIPE = {"seed": 0, "train": {"optimizer": {"lr": 0.0002}}, "log": {"every": 1}}


def check_logger(
    name: str,
    options: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
    folder: Path | None = None,
) -> dict[str, Any]:
    """Build logger ``name`` with ``options`` (say where it may write: a local store, offline
    mode) and play it a short run, then a resumed one, as the training loop would.

    Fails with :class:`i2i.testing.ContractError` naming the event it raised in, or when
    ``resume_record()`` is not a JSON object. Returns that record.
    """
    from i2i.testing import ContractError, _registry

    registry = _registry(registry)
    where = f"logger '{name}'"
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(folder or scratch) / "run"
        grid, weights = _run_folder(run_dir)
        logger = registry.build("logger", {"name": name, **(options or {})}, where)
        if not isinstance(logger, Subscriber):
            raise ContractError(f"{where}: builds a {type(logger).__name__}, not a Subscriber")
        first = RunInfo(run_dir, RECIPE, 0, "check", {"variant": "a"})
        _play(logger, where, first, grid, weights, steps=(1, 2))
        record = logger.resume_record()
        try:
            if not isinstance(json.loads(json.dumps(record)), dict):
                raise TypeError("not a mapping")
        except (TypeError, ValueError) as error:
            raise ContractError(f"{where}: resume_record() is not a JSON object: {error}") from None
        resumed = registry.build("logger", {"name": name, **(options or {})}, where)
        again = RunInfo(run_dir, RECIPE, 2, "check", {"variant": "a"}, record)
        _play(resumed, where, again, grid, weights, steps=(3,))
        held = resumed.last_step_held()
        if held is not None and not isinstance(held, int):
            raise ContractError(f"{where}: last_step_held() returned {held!r}, not an int")
        return record


def _run_folder(run_dir: Path) -> tuple[Path, Path]:
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    grid = run_dir / "samples" / "step_00000002.png"
    Image.new("RGB", (96, 48), (120, 30, 200)).save(grid)
    weights = run_dir / "checkpoints" / "step_00000002.safetensors"
    weights.write_bytes(b"{}")
    return grid, weights


def _play(
    logger: Subscriber, where: str, run: RunInfo, grid: Path, weights: Path, steps: tuple
) -> None:
    from i2i.testing import ContractError

    events: list[tuple[str, tuple]] = [("run_started", (run,))]
    for step in steps:
        events.append(("scalars", (step, {"loss/g": 1.0 / step, "lr": 0.0002, "epoch": 1})))
    events += [
        ("preview", (steps[-1], grid, {"val/l1": 0.3, "val/psnr": 20.0})),
        ("best_changed", (steps[-1], weights, {"val/l1": 0.3})),
        ("checkpoint", (steps[-1], weights)),
        ("run_ended", ("finished", weights)),
    ]
    for event, args in events:
        try:
            getattr(logger, event)(*args)
        except Exception as error:  # noqa: BLE001 - any failure is the contract's
            raise ContractError(
                f"{where}: {event}() raised {type(error).__name__}: {error}"
            ) from None
