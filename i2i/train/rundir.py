"""Choosing and preparing a run directory without touching an earlier run."""

from __future__ import annotations

from pathlib import Path

from i2i.errors import RecipeError

RUN_MARKERS = ("config.yaml", "metrics.jsonl", "checkpoints")


def holds_run(folder: Path) -> bool:
    """True when ``folder`` already holds (part of) a run."""
    return any((folder / marker).exists() for marker in RUN_MARKERS)


def choose_run_dir(requested: str | None, recipe_path: str | Path | None) -> Path:
    """The requested ``run.dir`` unless it holds a run; else a fresh ``runs/<recipe>[-N]``."""
    if requested:
        folder = Path(requested).expanduser()
        if holds_run(folder):
            raise RecipeError(
                f"run.dir '{folder}' already holds a run; pick a new run.dir=... "
                "(nothing in it was changed)"
            )
        return folder
    stem = Path(recipe_path).stem if recipe_path else "run"
    candidate, number = Path("runs") / stem, 1
    while holds_run(candidate):
        number += 1
        candidate = Path("runs") / f"{stem}-{number}"
    return candidate


def has_checkpoint(folder: Path) -> bool:
    """True when the run in ``folder`` has a complete checkpoint to resume from."""
    from i2i.checkpoint import list_checkpoints

    return bool(list_checkpoints(folder / "checkpoints"))


def clear_unstarted_run(folder: Path) -> None:
    """Remove what a run killed before its first checkpoint wrote, so it can start afresh.

    Only the files a run writes are removed (config, metrics, plot, samples, TensorBoard
    events, temporary checkpoint files); anything else in the folder stays.
    """
    import shutil

    if has_checkpoint(folder):
        raise RecipeError(f"run.dir '{folder}' has a checkpoint; resume it instead")
    for name in ("config.yaml", "metrics.jsonl", "metrics.jsonl.tmp", "losses.png"):
        (folder / name).unlink(missing_ok=True)
    for name in ("samples", "tensorboard"):
        shutil.rmtree(folder / name, ignore_errors=True)
    checkpoints = folder / "checkpoints"
    if checkpoints.is_dir():
        for temporary in checkpoints.glob(".*.tmp"):
            temporary.unlink()
        if not any(checkpoints.iterdir()):
            checkpoints.rmdir()
