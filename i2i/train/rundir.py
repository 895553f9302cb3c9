"""Choosing and preparing a run directory without touching an earlier run."""

from __future__ import annotations

import contextlib
from pathlib import Path

from i2i.errors import RecipeError, quoted
from i2i.files import remove_stray_temporaries
from i2i.lock import lock_folder

RUN_MARKERS = ("config.yaml", "metrics.jsonl", "checkpoints")

STARTED_MARK = ".i2i-run"
"""Written by a run before any other file: proof that the folder's run files are i2i's."""

WRITTEN_FILES = ("config.yaml", "metrics.jsonl", "losses.png")
"""The files of a run that :func:`clear_unstarted_run` may remove (besides samples and events)."""


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


def mark_started(folder: Path) -> None:
    """Record, before a run writes anything else, that i2i started a run in ``folder``."""
    from i2i.files import write_text_atomic

    if not (folder / STARTED_MARK).is_file():
        write_text_atomic(folder / STARTED_MARK, "i2i run\n")


def clear_unstarted_run(folder: Path) -> None:
    """Remove what a run killed before its first checkpoint wrote, so it can start afresh.

    Only a folder where i2i started a run (its :data:`STARTED_MARK`) is touched, and only
    the files a run writes are removed (config, metrics, plot, sample grids, TensorBoard
    events, temporary checkpoint files); anything else in the folder stays. A folder of
    someone else's files that happen to share those names is refused, unchanged.
    """
    if not (folder / STARTED_MARK).is_file():
        names = ", ".join(sorted(p.name for p in folder.iterdir())[:5])
        raise RecipeError(
            f"run.dir {quoted(folder)} holds files i2i did not write ({names}); give an empty "
            "or new run.dir (nothing was changed)"
        )
    take_over(folder)  # another process may be training here before its first checkpoint
    if has_checkpoint(folder):
        raise RecipeError(f"run.dir {quoted(folder)} has a checkpoint; resume it instead")
    for name in WRITTEN_FILES:
        (folder / name).unlink(missing_ok=True)
    for grid in folder.glob("samples/step_*.png"):
        grid.unlink()
    for events in folder.glob("tensorboard/events.out.tfevents.*"):
        events.unlink()
    for name in ("samples", "tensorboard", "checkpoints"):
        with contextlib.suppress(OSError):  # only when empty: anything else in it stays
            (folder / name).rmdir()


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
