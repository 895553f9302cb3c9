"""Choosing and preparing a run directory without touching an earlier run."""

from __future__ import annotations

from pathlib import Path

from i2i.errors import RecipeError, quoted
from i2i.files import remove_stray_temporaries
from i2i.lock import lock_folder

RUN_MARKERS = ("config.yaml", "metrics.jsonl", "checkpoints")


def holds_run(folder: Path) -> bool:
    """True when ``folder`` already holds (part of) a run."""
    return any((folder / marker).exists() for marker in RUN_MARKERS)


def choose_run_dir(requested: str | None, recipe_path: str | Path | None) -> Path:
    """The requested ``run.dir`` unless it holds a run; else a fresh ``runs/<recipe>[-N]``."""
    if requested:
        folder = Path(requested).expanduser()
        refuse_existing_run(folder)
        return folder
    stem = Path(recipe_path).stem if recipe_path else "run"
    candidate, number = Path("runs") / stem, 1
    while holds_run(candidate):
        number += 1
        candidate = Path("runs") / f"{stem}-{number}"
    return candidate


def refuse_existing_run(folder: Path) -> None:
    """Fail in one line when ``folder`` is not a directory, or already holds a run."""
    if folder.exists() and not folder.is_dir():
        raise RecipeError(f"run.dir {quoted(folder)} is a file, not a folder; pick another run.dir")
    if holds_run(folder):
        raise RecipeError(
            f"run.dir {quoted(folder)} already holds a run; pick a new run.dir=... "
            "(nothing in it was changed)"
        )


def take_over(folder: Path) -> None:
    """Lock the run directory for this process, then remove what killed processes left.

    Called by every process that writes into a run directory, before its first write.
    """
    if folder.exists() and not folder.is_dir():
        raise RecipeError(f"run.dir {quoted(folder)} is a file, not a folder; pick another run.dir")
    lock_folder(folder, "run.dir")
    remove_stray_temporaries(folder)
    remove_stray_temporaries(folder / "checkpoints")
    (folder / "metrics.jsonl.tmp").unlink(missing_ok=True)  # as i2i 0.1.0 left it


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

    take_over(folder)  # another process may be training here before its first checkpoint
    if has_checkpoint(folder):
        raise RecipeError(f"run.dir {quoted(folder)} has a checkpoint; resume it instead")
    for name in ("config.yaml", "metrics.jsonl", "losses.png"):
        (folder / name).unlink(missing_ok=True)
    for name in ("samples", "tensorboard"):
        shutil.rmtree(folder / name, ignore_errors=True)
    checkpoints = folder / "checkpoints"
    if checkpoints.is_dir() and not any(checkpoints.iterdir()):
        checkpoints.rmdir()


def is_trained(folder: Path) -> bool:
    """True when the run's training ended (its metrics end with the run's elapsed time)."""
    import json

    metrics = folder / "metrics.jsonl"
    if not metrics.is_file() or not has_checkpoint(folder):
        return False
    lines = [line for line in metrics.read_text().splitlines() if line.strip()]
    try:
        return bool(lines) and "elapsed_s" in json.loads(lines[-1])
    except ValueError:
        return False
