"""What every launcher runs (tasks) and what it must answer (its queue), and a task's record.

A **task** is one run of work with a folder of its own: a study's (variant, seed) run, or a
single ``i2i run``. It is a sequence of stages, each a child ``i2i`` process, and it is
idempotent: asked again after any interruption it continues from what its folder holds, so
a launcher may run it again at will (a requeued SLURM job does exactly that).

A **launcher** starts tasks. The local one runs them here and returns when they end; a
cluster launcher submits them and returns, and the folder (``launch.json`` in each task's
folder) is the single source of truth about them from then on.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

from i2i.errors import I2IError
from i2i.files import write_text_atomic
from i2i.launch.process import Stage

RECORD_NAME = "launch.json"


class TaskFailed(I2IError):
    """A task's stage (training, scoring) ended with an error."""


class Task(Protocol):
    """One run of work: stages run one after another in its folder (see module docstring)."""

    name: str
    """How progress lines and the queue name it, e.g. ``objective L1 seed 0``."""
    folder: Path
    """Its run directory: stage logs and ``launch.json`` live here."""

    def next_stage(self) -> Stage | None:
        """The stage to run now, judged from the folder alone; None once the task is done."""

    def finished(self, stage: Stage) -> None:
        """``stage`` ended with status 0: record what follows from it."""


class Launcher(ABC):
    """Starts tasks somewhere: here (``local``) or on a cluster (``slurm``)."""

    name: ClassVar[str]
    detached: ClassVar[bool]
    """True when tasks go on after the launching process exits (a cluster's queue)."""

    @abstractmethod
    def launch(self, tasks: Sequence[Task]) -> None:
        """Run ``tasks`` to their end (local) or submit them (cluster), recording each."""

    def queued(self, job_ids: Sequence[str]) -> dict[str, str]:
        """``pending`` or ``running`` for each of ``job_ids`` the engine will still run.

        Jobs that ended (or that it never knew) are left out: those are the ones to submit
        again when they are not done.
        """
        return {}


def read_record(folder: Path) -> dict[str, Any]:
    """A task's ``launch.json`` (empty when it has none or it cannot be read)."""
    try:
        record = json.loads((folder / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_record(folder: Path, **changes: Any) -> dict[str, Any]:
    """Update a task's ``launch.json`` with ``changes`` (state, job id, error...)."""
    record = {**read_record(folder), **changes, "updated": round(time.time(), 3)}
    write_text_atomic(folder / RECORD_NAME, json.dumps(record, indent=2) + "\n")
    return record
