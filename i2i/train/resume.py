"""Continuing a run from its last checkpoint, exactly where it stopped."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from i2i.checkpoint import list_checkpoints, load_checkpoint
from i2i.config.load import load_recipe, recipe_to_dict
from i2i.errors import CheckpointError, RecipeError, quoted
from i2i.files import write_text_atomic
from i2i.provenance import differences as provenance_changes
from i2i.registry import Registry
from i2i.train.distributed import SINGLE, Processes
from i2i.train.prepare import Run, prepare
from i2i.train.rundir import take_over


def truncate_metrics(path: Path, step: int) -> None:
    """Drop metrics lines after ``step`` (steps a killed run made past its last checkpoint)."""
    if not path.is_file():
        return
    kept = [
        line for line in path.read_text().splitlines() if line.strip() and _step_of(line) <= step
    ]
    write_text_atomic(path, "".join(f"{line}\n" for line in kept))


def _step_of(line: str) -> int:
    """The step of a metrics line; a line a crash cut short counts as after every step."""
    try:
        return int(json.loads(line).get("step", 0))
    except (ValueError, AttributeError, TypeError):
        return 2**62


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


def newest_intact_checkpoint(
    folder: Path, set_aside: bool = True
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The newest checkpoint that reads completely: its path, tensors and metadata.

    Newer ones that do not read (cut short by a full disk, damaged) are skipped with a
    warning naming each and why; with ``set_aside`` they are renamed ``*.unreadable`` (kept,
    but no longer taken for the run's latest, so pruning cannot delete intact ones for them).
    """
    checkpoints = list_checkpoints(folder)
    if not checkpoints:
        raise CheckpointError(f"{quoted(folder.parent)} has no complete checkpoint to resume from")
    skipped: list[tuple[Path, CheckpointError]] = []
    for path in reversed(checkpoints):
        try:
            tensors, meta = load_checkpoint(path)
        except CheckpointError as error:
            skipped.append((path, error))
            continue
        for bad, error in skipped:
            kept = ""
            if set_aside:
                for part in (bad, bad.with_suffix(".json")):
                    part.rename(part.with_name(part.name + ".unreadable"))
                kept = f"; it is kept as {bad.name}.unreadable"
            warnings.warn(
                f"skipped checkpoint {bad.name}, which does not read ({error}){kept}; "
                f"resuming from {path.name}",
                stacklevel=2,
            )
        return path, tensors, meta
    reasons = "; ".join(str(error) for _, error in skipped[:1])
    raise CheckpointError(
        f"no checkpoint in {quoted(folder)} reads completely ({len(skipped)} tried: {reasons})"
    )


def resume(
    run_dir: Path, overrides: Sequence[str], registry: Registry, processes: Processes = SINGLE
) -> Run:
    """Rebuild the run in ``run_dir`` from its config.yaml and continue from its last checkpoint.

    Under torchrun each process restores its own random state; a run saved by fewer
    processes continues on new streams for the extra ones (and says so).
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise RecipeError(f"{quoted(run_dir)} is a file, not a run directory")
    config = run_dir / "config.yaml"
    if not config.is_file():
        raise RecipeError(
            f"{quoted(run_dir)} holds no run (no config.yaml); start one with i2i run"
        )
    if processes.main:
        take_over(run_dir)  # from here on no other process writes into it
    recipe = load_recipe(config, [*overrides, f"run.dir={run_dir}"])
    path, tensors, meta = newest_intact_checkpoint(run_dir / "checkpoints", processes.main)
    differences = _model_differences(
        meta.get("recipe", {}).get("model", {}), recipe_to_dict(recipe)["model"]
    )
    if differences:
        raise CheckpointError(
            f"{path.name} was trained with another model: {'; '.join(differences)}; "
            "resume with the checkpoint's model settings"
        )
    run = prepare(recipe, run_dir, registry, processes)
    if processes.main:
        trained_with = meta.get("recipe", {}).get("provenance")
        for change in provenance_changes(trained_with, recipe.provenance):
            warnings.warn(f"{path.name} was trained with other versions: {change}", stacklevel=1)
    run.state.load_tensors(tensors, meta, processes.rank)
    run.precision.load_state_dict(meta.get("grad_scaler", {}))
    if meta.get("optimizer_state") is False and processes.main:
        warnings.warn(
            f"{path.name} holds no optimiser state (checkpoint.optimizer=latest keeps it in the "
            "latest checkpoint only): the optimisers start afresh, so the continuation is not "
            "the uninterrupted run's",
            stacklevel=1,
        )
    saved = meta.get("processes", 1)
    if saved != processes.world and processes.main:
        warnings.warn(
            f"{path.name} was saved by {saved} process(es), this run has "
            f"{processes.world}: the extra processes draw new random streams, so the "
            "continuation is not bit-identical to an uninterrupted run",
            stacklevel=1,
        )
    if processes.main:
        truncate_metrics(run_dir / "metrics.jsonl", run.state.step)
    return run
