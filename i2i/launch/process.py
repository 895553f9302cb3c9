"""One stage of a task as a child ``i2i`` process: its command line, its log, its end.

A stage is the command line a user would type (``i2i run --resume ...``, ``i2i eval ...``),
started as ``python -m i2i`` or, for a distributed stage on several processes, under
``torchrun``. Its output goes to a log file in the task's folder, never to a pipe: if the
launching process dies, a pipe would break under the child and could end it before it saves
its checkpoint.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from i2i.files import open_for_appending

#: Exit statuses of an ``i2i`` child that stopped on a signal after saving its checkpoint.
INTERRUPTED = (130, -signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM)


@dataclass(frozen=True)
class Stage:
    """One child process of a task: ``i2i ARGUMENTS``, logged to ``FOLDER/NAME.log``."""

    name: str
    arguments: list[str]
    distributed: bool = False
    """May run on several processes under torchrun (training); scoring runs on one."""


@dataclass(frozen=True)
class Placement:
    """How many processes a distributed stage gets, on how many nodes, and threads each."""

    processes_per_node: int = 1
    nodes: int = 1
    node_rank: int = 0
    master: str | None = None
    """The first node's host name, where torchrun's rendezvous runs (several nodes only)."""
    threads: int = 1
    rendezvous_id: str = "i2i"

    def command(self, stage: Stage) -> list[str]:
        """The child's command line: plain ``python -m i2i`` or ``torchrun ... -m i2i``."""
        world = self.processes_per_node * self.nodes
        if not stage.distributed or world == 1:
            return [sys.executable, "-m", "i2i", *stage.arguments]
        launcher = [sys.executable, "-m", "torch.distributed.run"]
        if self.nodes == 1:
            launcher += ["--standalone"]
        else:
            launcher += [
                f"--nnodes={self.nodes}",
                f"--node-rank={self.node_rank}",
                "--rdzv-backend=c10d",
                f"--rdzv-endpoint={self.master}:29500",
                f"--rdzv-id={self.rendezvous_id}",
            ]
        return [
            *launcher,
            f"--nproc-per-node={self.processes_per_node}",
            "-m",
            "i2i",
            *stage.arguments,
        ]


def _prepare_child() -> None:
    """In the child: ignore the launcher's signals; get SIGTERM when the launcher dies.

    SIGUSR1/SIGUSR2 are the signals a cluster sends before a time limit (to every process of
    the job): the launcher answers them by asking the child to checkpoint, so the child must
    not die of them first.
    """
    for number in (signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(number, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: an orphaned run still ends and checkpoints by itself


@dataclass
class Child:
    """A running ``i2i`` child process and where its output goes."""

    stage: Stage
    log_path: Path
    process: subprocess.Popen
    log: IO[bytes]
    copier: threading.Thread

    def finish(self) -> int:
        """Wait for the output to be copied; the exit status."""
        while self.process.poll() is None:  # poll, never wait(): a signal handler may poll too
            time.sleep(0.1)
        self.copier.join()
        self.log.close()
        return self.process.returncode

    def stop(self, timeout: float = 600.0) -> int | None:
        """Ask the child to checkpoint and stop (SIGTERM); its status, or None if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.process.poll()


def spawn(stage: Stage, folder: Path, placement: Placement, echo_output: bool) -> Child:
    """Start ``stage`` as a child logging to ``folder/<stage>.log``; echo it when asked."""
    threads = str(placement.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    env["PYTHONUNBUFFERED"] = "1"
    log_path = folder / f"{stage.name}.log"
    log = open_for_appending(log_path, binary=True)
    process = subprocess.Popen(
        placement.command(stage),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # signals reach it from the launcher alone, once each
        preexec_fn=_prepare_child,
    )
    start = log.tell()

    def copy() -> None:
        """Show the child's output as it grows (one job at a time only)."""
        with log_path.open("rb") as reader:
            reader.seek(start)
            while True:
                chunk = reader.read(4096)
                if chunk:
                    sys.stderr.buffer.write(chunk)
                    sys.stderr.flush()
                elif process.poll() is not None:
                    break
                else:
                    time.sleep(0.1)

    copier = threading.Thread(target=copy if echo_output else lambda: None, daemon=True)
    copier.start()
    return Child(stage, log_path, process, log, copier)


def last_line(path: Path) -> str:
    """The last ``i2i: error:`` line of a log, else its last line."""
    if not path.is_file():
        return "(no log)"
    lines = [
        line.strip()
        for line in path.read_text(errors="replace").replace("\r", "\n").splitlines()
        if line.strip()
    ]
    errors = [line for line in lines if line.startswith("i2i: error:")]
    return (errors or lines or ["(no output)"])[-1]
