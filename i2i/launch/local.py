"""The local launcher: tasks run here, ``jobs`` at a time, each stage a child process.

The CPU's threads are split evenly between the tasks in flight. The first SIGINT/SIGTERM
makes every running child checkpoint and stop (a second one stops them at once); if this
process dies, even by SIGKILL, its children get SIGTERM from the kernel and do the same.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from i2i.errors import RunInterrupted
from i2i.launch.base import Launcher, Task, TaskFailed
from i2i.launch.process import Child, Placement, last_line, spawn
from i2i.train.rundir import has_checkpoint

Echo = Callable[[str], None]


VERBS = {"train": "training", "resume": "continuing", "eval": "scoring"}


def describe(task: Task, stage_name: str) -> str:
    """``training in runs/x``: what a task is about to do, for progress lines."""
    resumed = stage_name == "train" and has_checkpoint(task.folder)
    verb = VERBS["resume" if resumed else stage_name] if stage_name in VERBS else stage_name
    return f"{verb} in {task.folder}" if stage_name == "train" else verb


class LocalLauncher(Launcher):
    """Runs tasks on this machine and returns when all have ended."""

    name: ClassVar[str] = "local"
    detached: ClassVar[bool] = False

    def __init__(self, jobs: int = 1, echo: Echo = lambda _: None) -> None:
        self.jobs = jobs
        self.echo = echo
        self.threads = max(1, (os.cpu_count() or 1) // jobs)
        self.running: list[tuple[Task, Child]] = []
        self.stop_signal: int | None = None

    def _start(self, task: Task, where: str) -> Child | None:
        stage = task.next_stage()
        if stage is None:
            return None
        task.folder.mkdir(parents=True, exist_ok=True)
        self.echo(f"{where}: {describe(task, stage.name)}")
        echo_output = self.jobs == 1
        return spawn(stage, task.folder, Placement(threads=self.threads), echo_output)

    def _forward(self, number: int, _frame: Any) -> None:
        """First signal: each child checkpoints and stops; a second one stops them at once."""
        again = self.stop_signal is not None
        self.stop_signal = number
        for _task, child in self.running:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGINT if again else signal.SIGTERM)

    def launch(self, tasks: Sequence[Task], where: Callable[[Task], str] = str) -> None:
        """Run every task to its end; ``where`` names a task in progress lines."""
        queue = list(tasks)
        previous = {n: signal.signal(n, self._forward) for n in (signal.SIGINT, signal.SIGTERM)}
        failure: str | None = None
        try:
            while queue or self.running:
                while queue and len(self.running) < self.jobs and self.stop_signal is None:
                    task = queue.pop(0)
                    child = self._start(task, where(task))
                    if child is not None:
                        self.running.append((task, child))
                time.sleep(0.2)
                for task, child in [
                    (t, c) for t, c in self.running if c.process.poll() is not None
                ]:
                    self.running.remove((task, child))
                    if child.finish() != 0:
                        if self.stop_signal is None and failure is None:
                            failure = (
                                f"{task.name}: {child.stage.name} failed "
                                f"({last_line(child.log_path)}); log in {child.log_path}"
                            )
                            self.stop_signal = signal.SIGTERM  # start nothing new
                        continue
                    task.finished(child.stage)
                    queue.insert(0, task)  # its next stage, if any, comes first
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        if failure:
            raise TaskFailed(f"{failure}; fix it and run the same command to continue")
        if self.stop_signal is not None:
            name = signal.Signals(self.stop_signal).name
            raise RunInterrupted(
                f"stopped by {name}; finished runs are kept and the interrupted ones saved a "
                "checkpoint; run the same command to continue"
            )


def progress_wanted(jobs: int) -> str:
    """``log.progress`` for a child: a bar only for one job at a terminal."""
    return "true" if jobs == 1 and sys.stderr.isatty() else "false"
