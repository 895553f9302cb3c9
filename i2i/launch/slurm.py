"""The SLURM launcher: every task one job (several: one job array), through submitit.

submitit writes the sbatch script, pickles each task's callable into ``FOLDER/slurm/`` and
runs it on the node; i2i adds what a training run needs on a cluster:

- **Requeue, exactly.** submitit asks SLURM for SIGUSR2 ``signal_delay_s`` before the time
  limit; its handler calls :meth:`SlurmTask.checkpoint`, which makes the running stage save a
  checkpoint and stop, then submitit requeues the job. A preemption (or ``scontrol requeue``)
  sends SIGTERM to every process of the job: the stage saves its checkpoint before SLURM's
  ``KillWait`` runs out. Either way the requeued task continues with ``i2i run --resume``,
  bit for bit.
- **No endless requeue.** A stage that fails for a real reason (a bad override, a data
  error, a non-finite loss) marks the task ``failed`` with its error line and log; SLURM
  requeues only on the signals above.
- **The folder is the truth.** Each task's ``launch.json`` holds its job id and state, so the
  submitting shell may exit; :meth:`SlurmLauncher.queued` asks ``squeue`` what SLURM still
  holds.

Its callables are pickled by submitit into the user's own folder and unpickled by the job
itself: nothing foreign is ever unpickled.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from i2i.errors import I2IError, RecipeError
from i2i.launch.base import Launcher, Task, TaskFailed, write_record
from i2i.launch.process import INTERRUPTED, Child, Placement, Stage, last_line, spawn

try:  # an extra: pip install 'i2i[slurm]'
    import submitit
    from submitit.helpers import Checkpointable, DelayedSubmission
except ImportError:  # pragma: no cover - the message below says what to install
    submitit = None
    Checkpointable = object  # type: ignore[assignment,misc]


QUEUE_STATES = {
    **dict.fromkeys(
        ("PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING", "SUSPENDED"),
        "pending",
    ),
    **dict.fromkeys(("RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "RESIZING"), "running"),
}
"""SLURM job states in which the job will still run (or runs), and what i2i calls them."""


class SlurmUnavailable(I2IError):
    """submitit is not installed, or SLURM's commands are not on this machine."""


def parse_minutes(value: str) -> int:
    """SLURM's time formats (``90``, ``2:00:00``, ``1-12:00:00``, ``1-12``) in whole minutes."""
    match = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", value.strip())
    if not match:
        raise RecipeError(
            f"--time {value!r} is not a SLURM time; use minutes, HH:MM:SS or D-HH:MM:SS"
        )
    days, first, second, third = match.groups()
    if days is not None:  # D-HH[:MM[:SS]]
        hours, minutes, seconds = int(first), int(second or 0), int(third or 0)
    elif third is not None:  # HH:MM:SS
        hours, minutes, seconds = int(first), int(second), int(third)
    elif second is not None:  # MM:SS
        hours, minutes, seconds = 0, int(first), int(second)
    else:  # MM
        hours, minutes, seconds = 0, int(first), 0
    total = int(days or 0) * 1440 + hours * 60 + minutes + (1 if seconds else 0)
    if total < 1:
        raise RecipeError(f"--time {value!r} is shorter than a minute")
    return total


@dataclass(frozen=True)
class SlurmOptions:
    """What a user sets for their cluster; each run (or study run) gets these resources."""

    partition: str | None = None
    time: str = "24:00:00"
    gpus_per_run: int = 0
    cpus_per_run: int | None = None
    processes_per_run: int | None = None
    """Training processes per node (DDP); default: one per GPU, else one."""
    nodes_per_run: int = 1
    mem: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    max_running: int | None = None
    """Array tasks running at once (SLURM's ``--array=...%N``)."""
    signal_delay_s: int = 120
    """SIGUSR2 this long before the time limit: time to save a checkpoint."""
    extra: dict[str, str] = field(default_factory=dict)
    """Further submitit parameters (``--slurm KEY=VALUE``); unknown ones go to sbatch as is."""
    job_name: str = "i2i"

    @property
    def processes(self) -> int:
        """Training processes per node."""
        return self.processes_per_run or max(1, self.gpus_per_run)

    def parameters(self, tasks: int) -> dict[str, Any]:
        """submitit's SlurmExecutor parameters for a submission of ``tasks`` tasks."""
        if (
            self.processes_per_run
            and self.gpus_per_run
            and self.processes_per_run > self.gpus_per_run
        ):
            raise RecipeError(
                f"--processes-per-run {self.processes_per_run} is more than --gpus-per-run "
                f"{self.gpus_per_run}: each training process on a GPU needs its own"
            )
        parameters: dict[str, Any] = {
            "job_name": self.job_name,
            "time": parse_minutes(self.time),
            "nodes": self.nodes_per_run,
            "ntasks_per_node": 1,  # one task per node: it starts torchrun's processes itself
            "cpus_per_task": self.cpus_per_run or self.processes,
            "signal_delay_s": self.signal_delay_s,
            "additional_parameters": {"requeue": True},
        }
        if self.gpus_per_run:
            parameters["gpus_per_node"] = self.gpus_per_run
        for key in ("partition", "mem", "account", "qos", "constraint"):
            if getattr(self, key):
                parameters[key] = getattr(self, key)
        if self.max_running and tasks > 1:
            parameters["array_parallelism"] = self.max_running
        known = _executor_parameters()
        for key, value in self.extra.items():
            name = key.replace("-", "_")
            if name in known:
                parameters[name] = _typed(value)
            else:
                parameters["additional_parameters"][key] = _typed(value)
        return parameters


def _typed(value: str) -> Any:
    """``--slurm KEY=VALUE`` values: integers stay integers, ``true``/``false`` flags."""
    if value.isdigit():
        return int(value)
    return {"true": True, "false": False}.get(value.lower(), value)


def _executor_parameters() -> set[str]:
    from submitit.slurm.slurm import _get_default_parameters

    return set(_get_default_parameters())


def require_slurm() -> None:
    """Fail in one line when submitit or SLURM's commands are missing."""
    if submitit is None:
        raise SlurmUnavailable(
            "--launcher slurm needs submitit: pip install 'i2i[slurm]' (nothing was submitted)"
        )
    missing = [c for c in ("sbatch", "squeue", "scontrol") if shutil.which(c) is None]
    if missing:
        raise SlurmUnavailable(
            f"--launcher slurm: {', '.join(missing)} not found; run i2i on a SLURM login node "
            "(nothing was submitted)"
        )


class SlurmTask(Checkpointable):
    """What one SLURM job runs: a task's stages, one child process after another."""

    def __init__(self, task: Task, options: SlurmOptions) -> None:
        self.task = task
        self.options = options
        self.child: Child | None = None

    def _placement(self) -> tuple[Placement, int]:
        environment = submitit.JobEnvironment()
        hosts = environment.hostnames
        cpus = int(os.environ.get("SLURM_CPUS_PER_TASK", self.options.cpus_per_run or 1))
        placement = Placement(
            processes_per_node=self.options.processes,
            nodes=self.options.nodes_per_run,
            node_rank=environment.node,
            master=hosts[0] if hosts else None,
            threads=max(1, cpus // self.options.processes),
            rendezvous_id=str(environment.job_id),
        )
        return placement, environment.global_rank

    def __call__(self) -> str:
        """Run the task's stages; 'done', 'interrupted', or a :class:`TaskFailed` error."""
        placement, rank = self._placement()
        folder = self.task.folder
        folder.mkdir(parents=True, exist_ok=True)
        if rank == 0:
            job = os.environ.get("SLURM_ARRAY_JOB_ID")
            job_id = f"{job}_{os.environ['SLURM_ARRAY_TASK_ID']}" if job else None
            job_id = job_id or os.environ.get("SLURM_JOB_ID")
            host = os.uname().nodename
            write_record(folder, state="running", job_id=job_id, host=host, error=None, log=None)
        while (stage := self.task.next_stage()) is not None:
            if rank:  # other nodes only join the distributed training, logging apart
                if not stage.distributed:
                    break
                stage = Stage(f"{stage.name}.node{rank}", stage.arguments, True)
            self.child = spawn(stage, folder, placement, echo_output=False)
            code = self.child.finish()
            self.child = None
            if rank:
                return "done"
            if code in INTERRUPTED:
                write_record(folder, state="preempted")
                return "interrupted"
            if code != 0:
                error, log = last_line(folder / f"{stage.name}.log"), folder / f"{stage.name}.log"
                write_record(folder, state="failed", error=error, log=str(log), stage=stage.name)
                raise TaskFailed(f"{self.task.name}: {stage.name} failed ({error}); log in {log}")
            self.task.finished(stage)
        if rank == 0:
            write_record(folder, state="done")
        return "done"

    def checkpoint(self, *_args: Any, **_kwargs: Any) -> DelayedSubmission:
        """Before the time limit: the stage saves a checkpoint and stops; requeue the task."""
        if self.child is not None:
            self.child.stop()
        if int(os.environ.get("SLURM_PROCID", "0")) == 0:
            write_record(self.task.folder, state="requeued")
        return DelayedSubmission(SlurmTask(self.task, self.options))


class SlurmLauncher(Launcher):
    """Submits tasks to SLURM and returns; ``launch.json`` in each folder records its job."""

    name: ClassVar[str] = "slurm"
    detached: ClassVar[bool] = True

    def __init__(self, options: SlurmOptions, folder: Path, max_requeues: int = 100) -> None:
        require_slurm()
        self.options = options
        self.folder = folder
        self.max_requeues = max_requeues

    def launch(self, tasks: Sequence[Task]) -> None:
        """Submit every task, as one job array when there are several."""
        if not tasks:
            return
        parameters = self.options.parameters(len(tasks))
        try:
            executor = submitit.SlurmExecutor(
                folder=str(self.folder / "%j"), max_num_timeout=self.max_requeues
            )
            executor.update_parameters(**parameters)
        except (RuntimeError, ValueError) as error:
            first = str(error).strip().splitlines()[0]
            raise RecipeError(f"--slurm: {first} (nothing was submitted)") from None
        try:  # submitit prints sbatch's complaint itself; ours below says it on one line
            with contextlib.redirect_stderr(io.StringIO()), executor.batch():
                jobs = [executor.submit(SlurmTask(task, self.options)) for task in tasks]
        except (subprocess.CalledProcessError, submitit.core.utils.FailedJobError) as error:
            lines = [line for line in str(error).splitlines() if line.strip()]
            why = lines[-1] if lines else error
            raise SlurmUnavailable(
                f"sbatch refused the jobs: {why} (nothing was submitted)"
            ) from None
        for task, job in zip(tasks, jobs):
            write_record(
                task.folder,
                launcher="slurm",
                state="submitted",
                job_id=str(job.job_id),
                slurm_log=str(job.paths.stdout),
                error=None,
            )

    def queued(self, job_ids: Sequence[str]) -> dict[str, str]:
        """``pending`` or ``running`` for each of ``job_ids`` that ``squeue`` still holds."""
        if not job_ids:
            return {}
        result = subprocess.run(
            ["squeue", "--noheader", "--array", "--format=%i|%T", "--states=all"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            first = (result.stderr.strip().splitlines() or ["no answer"])[0]
            raise SlurmUnavailable(f"squeue failed: {first}; is SLURM reachable from here?")
        held: dict[str, str] = {}
        for line in result.stdout.splitlines():
            job, _, state = line.strip().partition("|")
            if state in QUEUE_STATES:
                held[job] = QUEUE_STATES[state]
        return {job: held[job] for job in job_ids if job in held}
