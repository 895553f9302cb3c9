"""Running a study: each variant is trained by ``i2i run`` and scored by ``i2i eval``.

Each run of the plan is a task (:class:`StudyRun`) of two child processes of the same
command lines a user would type, so a study gets everything a run gets (exact resume,
precision options, plugins) and nothing in it is specific to a model or a method. A
launcher runs the tasks: here (``--launcher local``) or as a SLURM job array
(``--launcher slurm``); the results do not depend on which. The study folder holds::

    study.json            the plan (variant → overrides), checked on every continuation
    invocation.json       the study file and overrides it was started with (for collect)
    palette.json          the palette every variant is scored with (when configured)
    <variant>/seed<S>/    a run directory; eval/ inside it; study.json once it is finished;
                          launch.json: its launcher, job id and state (a cluster's runs)
    slurm/                submitit's job scripts and logs (--launcher slurm)
    results.md, results.json, figure.png, metrics.png

Continuing: a run with ``study.json`` is finished and never touched again; a trained run is
only scored; any other continues with ``i2i run --resume`` from its last checkpoint (exact).
If the study process dies (even by SIGKILL) its children get SIGTERM and save a checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from i2i.errors import I2IError, RecipeError, quoted
from i2i.files import write_text_atomic
from i2i.launch import Launcher, Stage, TaskFailed, read_record
from i2i.launch.local import progress_wanted
from i2i.lock import LOCK_NAME, lock_folder
from i2i.study.schema import Plan, Variant
from i2i.study.scoring import eval_command
from i2i.train.rundir import is_trained

Echo = Callable[[str], None]


class StudyFailed(I2IError):
    """A variant's training or scoring ended with an error."""


def run_dir_of(out: Path, variant: Variant) -> Path:
    """Where one run of the plan lives inside the study folder."""
    return out / variant.slug / f"seed{variant.seed}"


def plan_record(plan: Plan) -> dict[str, Any]:
    """What identifies a study's runs: the base recipe and each run's overrides and seed."""
    return {
        "recipe": str(plan.base),
        "runs": [{"variant": v.name, "seed": v.seed, "overrides": v.overrides} for v in plan.runs],
    }


def claim_folder(out: Path, plan: Plan) -> bool:
    """Create the study folder, or check that it holds this same plan; True if it is new."""
    record = plan_record(plan)
    if out.exists() and not out.is_dir():
        raise RecipeError(
            f"study folder {quoted(out)} is a file; give a folder with -o (nothing was changed)"
        )
    saved = out / "study.json"
    if saved.is_file():
        lock_folder(out, "study folder")  # one study process per folder
        try:
            previous = json.loads(saved.read_text())
        except ValueError:
            previous = None
        if previous != record:
            raise RecipeError(
                f"study folder {quoted(out)} holds a study with other variants, overrides or "
                "seeds; continue it with its own settings, or give a new --out (nothing changed)"
            )
        return False
    if out.exists() and any(p.name != LOCK_NAME for p in out.iterdir()):
        raise RecipeError(
            f"study folder {quoted(out)} exists and holds other files; give a new --out "
            "(nothing was changed)"
        )
    lock_folder(out, "study folder")
    write_text_atomic(saved, json.dumps(record, indent=2) + "\n")
    return True


@dataclass
class StudyRun:
    """One (variant, seed) run of a study as a launcher's task: train, then score, then mark.

    Judged from its folder alone, so any launcher may run it again after an interruption:
    a run with ``study.json`` is finished; a trained one is only scored; any other continues
    with ``i2i run --resume`` from its last checkpoint (exact).
    """

    plan: Plan
    out: Path
    variant: Variant
    palette: Path | None
    progress: str = "false"

    @property
    def name(self) -> str:
        """How errors name this run."""
        return f"variant '{self.variant.name}' seed {self.variant.seed}"

    @property
    def folder(self) -> Path:
        """The run directory."""
        return run_dir_of(self.out, self.variant)

    def train_arguments(self) -> list[str]:
        """``i2i run --resume`` for this run: starts it, or continues it exactly."""
        return [
            "run",
            "--resume",
            str(self.plan.base),
            f"log.group={json.dumps(self.plan.name)}",  # quoted: a name stays a string
            f"log.tags.variant={json.dumps(self.variant.name)}",
            f"log.tags.seed='{self.variant.seed}'",
            f"log.name={json.dumps(f'{self.variant.name} seed {self.variant.seed}')}",
            *self.variant.overrides,
            f"seed={self.variant.seed}",
            f"run.dir={self.folder}",
            f"log.progress={self.progress}",
        ]

    def next_stage(self) -> Stage | None:
        """Training until it has ended, then scoring; None once ``study.json`` is written."""
        if (self.folder / "study.json").is_file():
            return None
        if is_trained(self.folder):
            arguments = eval_command(self.plan, self.variant, self.folder, self.palette)
            return Stage("eval", arguments)
        return Stage("train", self.train_arguments(), distributed=True)

    def finished(self, stage: Stage) -> None:
        """After scoring: write ``study.json``, which marks the run finished for good."""
        if stage.name != "eval":
            return
        summary = json.loads((self.folder / "eval" / "summary.json").read_text())
        entry = {"variant": self.variant.name, "seed": self.variant.seed, "summary": summary}
        write_text_atomic(self.folder / "study.json", json.dumps(entry, indent=2) + "\n")


def finished_runs(plan: Plan, out: Path) -> dict[int, dict[str, Any]]:
    """Each finished run's ``study.json``, by its index in the plan."""
    finished = {}
    for index, variant in enumerate(plan.runs):
        marker = run_dir_of(out, variant) / "study.json"
        if marker.is_file():
            finished[index] = json.loads(marker.read_text())
    return finished


def study_runs(plan: Plan, out: Path, palette: Path | None, progress: str) -> list[StudyRun]:
    """Every run of the plan as a task."""
    return [StudyRun(plan, out, variant, palette, progress) for variant in plan.runs]


def run_study(
    plan: Plan,
    out: Path,
    *,
    launcher: Launcher,
    palette: Path | None,
    echo: Echo,
) -> list[tuple[Variant, dict[str, Any]]] | None:
    """Train and score every unfinished run of ``plan`` in ``out`` with ``launcher``.

    Returns every run's eval summary once all are finished; None while a detached launcher
    (a cluster) still has runs to do. Runs the cluster still holds are never submitted twice.
    """
    claim_folder(out, plan)
    finished = finished_runs(plan, out)
    if finished:
        echo(f"{len(finished)} of {len(plan.runs)} runs already finished; kept as they are")
    jobs = getattr(launcher, "jobs", 0)
    tasks = study_runs(plan, out, palette, progress_wanted(jobs))
    pending = [task for index, task in enumerate(tasks) if index not in finished]
    if launcher.detached:
        if not pending:  # every run finished: tabulate them, as a local study does
            return [(v, finished[i]["summary"]) for i, v in enumerate(plan.runs)]
        waiting = queued_tasks(launcher, pending)
        if waiting:
            echo(f"{len(waiting)} run(s) still queued on {launcher.name}; not submitted again")
        submit = [task for task in pending if task not in waiting]
        launcher.launch(submit)
        if submit:
            echo(f"submitted {len(submit)} run(s) to {launcher.name}")
        return None
    position = {id(task): index + 1 for index, task in enumerate(tasks)}

    def where(task: StudyRun) -> str:
        return f"[{position[id(task)]}/{len(tasks)}] {task.variant.name} seed {task.variant.seed}"

    try:
        launcher.launch(pending, where=where)  # type: ignore[call-arg]
    except TaskFailed as error:
        raise StudyFailed(str(error)) from None
    finally:
        for index, entry in finished_runs(plan, out).items():
            if index not in finished:
                echo(f"{entry['variant']} seed {entry['seed']}: finished")
                finished[index] = entry
    return [(v, finished[i]["summary"]) for i, v in enumerate(plan.runs)]


def queued_tasks(launcher: Launcher, tasks: list[StudyRun]) -> list[StudyRun]:
    """The tasks whose recorded job the launcher's queue still holds (pending or running)."""
    ids = {id(t): read_record(t.folder).get("job_id") for t in tasks}
    states = launcher.queued([job for job in ids.values() if job])
    return [t for t in tasks if ids[id(t)] in states]
