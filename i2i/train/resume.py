"""Continuing a run from its last checkpoint, exactly where it stopped."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from i2i.checkpoint import list_checkpoints, load_checkpoint
from i2i.config.load import load_recipe, recipe_to_dict
from i2i.errors import CheckpointError, RecipeError
from i2i.registry import Registry
from i2i.train.distributed import SINGLE, Processes
from i2i.train.loop import Run, prepare


def truncate_metrics(path: Path, step: int) -> None:
    """Drop metrics lines after ``step`` (steps a killed run made past its last checkpoint)."""
    if not path.is_file():
        return
    kept = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and json.loads(line).get("step", 0) <= step
    ]
    temporary = path.with_suffix(".jsonl.tmp")
    temporary.write_text("".join(f"{line}\n" for line in kept))
    os.replace(temporary, path)


def _model_differences(saved: dict[str, Any], current: dict[str, Any], prefix: str = "model"):
    """``key: checkpoint X, recipe Y`` for every model setting that differs."""
    differences = []
    for key in sorted(set(saved) | set(current)):
        old, new = saved.get(key, "(unset)"), current.get(key, "(unset)")
        if isinstance(old, dict) and isinstance(new, dict):
            differences += _model_differences(old, new, f"{prefix}.{key}")
        elif old != new:
            differences.append(f"{prefix}.{key}: checkpoint {old!r}, recipe {new!r}")
    return differences


def resume(
    run_dir: Path, overrides: Sequence[str], registry: Registry, processes: Processes = SINGLE
) -> Run:
    """Rebuild the run in ``run_dir`` from its config.yaml and continue from its last checkpoint.

    Under torchrun each process restores its own random state; a run saved by fewer
    processes continues on new streams for the extra ones (and says so).
    """
    config = run_dir / "config.yaml"
    if not config.is_file():
        raise RecipeError(f"'{run_dir}' holds no run (no config.yaml); start one with i2i run")
    checkpoints = list_checkpoints(run_dir / "checkpoints")
    if not checkpoints:
        raise CheckpointError(f"'{run_dir}' has no complete checkpoint to resume from")
    recipe = load_recipe(config, [*overrides, f"run.dir={run_dir}"])
    tensors, meta = load_checkpoint(checkpoints[-1])
    differences = _model_differences(
        meta.get("recipe", {}).get("model", {}), recipe_to_dict(recipe)["model"]
    )
    if differences:
        raise CheckpointError(
            f"{checkpoints[-1].name} was trained with another model: {'; '.join(differences)}; "
            "resume with the checkpoint's model settings"
        )
    run = prepare(recipe, run_dir, registry, processes)
    run.state.load_tensors(tensors, meta, processes.rank)
    run.precision.load_state_dict(meta.get("grad_scaler", {}))
    saved = meta.get("processes", 1)
    if saved != processes.world and processes.main:
        warnings.warn(
            f"{checkpoints[-1].name} was saved by {saved} process(es), this run has "
            f"{processes.world}: the extra processes draw new random streams, so the "
            "continuation is not bit-identical to an uninterrupted run",
            stacklevel=1,
        )
    if processes.main:
        truncate_metrics(run_dir / "metrics.jsonl", run.state.step)
    return run
