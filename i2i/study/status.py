"""Where each run of a study stands, read from the study folder (and the cluster's queue).

The folder is the single source of truth: ``study.json`` names the runs, each run directory
holds its metrics, logs, checkpoints and (for a cluster) ``launch.json`` with its job id
and last known state. Any machine that sees the folder can answer, while the study runs or
after the submitting shell has gone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from i2i.errors import RecipeError, quoted
from i2i.launch import read_record
from i2i.launch.process import last_line
from i2i.study.schema import slug_of
from i2i.train.rundir import has_checkpoint, is_trained

Queue = Callable[[Sequence[str]], dict[str, str]]


@dataclass
class RunStatus:
    """One run's state: done, running, pending, requeued, failed, preempted, stopped..."""

    variant: str
    seed: int
    folder: Path
    state: str
    job_id: str | None = None
    step: int | None = None
    total: int | None = None
    metric: tuple[str, float] | None = None
    error: str | None = None
    log: str | None = None

    def line(self) -> str:
        """The run as one line of ``i2i study status``."""
        parts = [f"{self.variant} seed {self.seed}", self.state]
        if self.job_id:
            parts.append(f"job {self.job_id}")
        if self.step is not None:
            parts.append(f"step {self.step}/{self.total if self.total else '?'}")
        if self.metric:
            parts.append(f"{self.metric[0]} {self.metric[1]:.4g}")
        if self.error:
            parts.append(f"{self.error} (log: {self.log})")
        return "  ".join(parts)


def _progress(folder: Path) -> tuple[int | None, tuple[str, float] | None]:
    """The last logged step and the latest held-out metric of a run."""
    metrics = folder / "metrics.jsonl"
    if not metrics.is_file():
        return None, None
    step, metric = None, None
    for line in metrics.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        step = record.get("step", step)
        held_out = sorted(k for k in record if k.startswith("val/"))
        if held_out:
            key = "val/l1" if "val/l1" in held_out else held_out[0]
            metric = (key, float(record[key]))
    return step, metric


def _total(folder: Path) -> int | None:
    """The run's length in iterations, as its training log announced it."""
    log = folder / "train.log"
    if not log.is_file():
        return None
    found = re.findall(r" (\d+) iterations on ", log.read_text(errors="replace"))
    return int(found[-1]) if found else None


def run_status(variant: str, seed: int, folder: Path, queue: dict[str, str]) -> RunStatus:
    """One run's state from its folder and what the queue holds."""
    record = read_record(folder)
    job = record.get("job_id")
    held = queue.get(job or "")
    step, metric = _progress(folder)
    status = RunStatus(variant, seed, folder, "not started", job, step, _total(folder), metric)
    recorded = record.get("state")
    if (folder / "study.json").is_file():
        status.state = "done"
    elif held == "pending":
        status.state = "requeued" if recorded in ("preempted", "requeued") else "pending"
    elif held == "running":
        status.state = "running"
    elif recorded == "failed":
        status.state, status.error, status.log = "failed", record.get("error"), record.get("log")
    elif recorded in ("preempted", "requeued"):
        status.state = "preempted"
    elif recorded in ("submitted", "running"):
        status.state = "stopped"  # gone from the queue without a word: resubmitted next time
        log = record.get("slurm_log")
        status.error, status.log = (last_line(Path(log)) if log else None), log
    elif is_trained(folder):
        status.state = "trained"
    elif has_checkpoint(folder):
        status.state = "interrupted"
    return status


def study_status(out: Path, queue: Queue | None = None) -> list[RunStatus]:
    """Every run of the study in ``out``, in the plan's order."""
    try:
        plan = json.loads((out / "study.json").read_text())
        runs = [(run["variant"], int(run["seed"])) for run in plan["runs"]]
    except (OSError, ValueError, KeyError, TypeError):
        raise RecipeError(
            f"{quoted(out)} is not a study folder (no readable study.json); give the folder "
            "`i2i study` wrote (-o)"
        ) from None
    folders = [out / slug_of(name) / f"seed{seed}" for name, seed in runs]
    records: list[dict[str, Any]] = [read_record(folder) for folder in folders]
    jobs = [r["job_id"] for r in records if r.get("job_id")]
    held = queue(jobs) if queue and jobs else {}
    return [run_status(n, s, f, held) for (n, s), f in zip(runs, folders)]
