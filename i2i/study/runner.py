"""Running a study: each variant is trained by ``i2i run`` and scored by ``i2i eval``.

Each run of the plan is two child processes of the same command line a user would type, so a
study gets everything a run gets (exact resume, precision options, plugins) and nothing in
it is specific to a model or a method. The study folder holds::

    study.yaml            the plan (variant → overrides), checked on every continuation
    palette.json          the palette every variant is scored with (when configured)
    <variant>/seed<S>/    a run directory; eval/ inside it; study.json once it is finished
    results.md, results.json, figure.png, metrics.png

Continuing: a run with ``study.json`` is finished and never touched again; a trained run is
only scored; any other continues with ``i2i run --resume`` from its last checkpoint (exact).
If the study process dies (even by SIGKILL) its children get SIGTERM and save a checkpoint.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from i2i.checkpoint import list_checkpoints
from i2i.errors import I2IError, RecipeError, RunInterrupted, quoted
from i2i.files import write_text_atomic
from i2i.lock import LOCK_NAME, lock_folder
from i2i.study.schema import Plan, Variant

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


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the study process dies, however it dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: an orphaned run still ends and checkpoints by itself


@dataclass
class Child:
    """A running ``i2i`` child process and where its output goes."""

    variant: Variant
    stage: str
    process: subprocess.Popen
    log: IO[bytes]
    copier: threading.Thread

    def finish(self) -> int:
        """Wait for the output to be copied; the exit status."""
        code = self.process.wait()
        self.copier.join()
        self.log.close()
        return code


def _spawn(
    arguments: list[str],
    log_path: Path,
    threads: int,
    echo_output: bool,
    variant: Variant,
    stage: str,
) -> Child:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env["PYTHONUNBUFFERED"] = "1"
    # The child writes to its log file, never to a pipe: if the study dies, a pipe would
    # break under the child and could end it before it saves its checkpoint.
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "i2i", *arguments],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # signals reach it from the study alone, once each
        preexec_fn=_die_with_parent,
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
    return Child(variant, stage, process, log, copier)


def _trained(run_dir: Path) -> bool:
    """True when the run's training ended (its metrics end with the run's elapsed time)."""
    metrics = run_dir / "metrics.jsonl"
    if not metrics.is_file() or not list_checkpoints(run_dir / "checkpoints"):
        return False
    lines = [line for line in metrics.read_text().splitlines() if line.strip()]
    return bool(lines) and "elapsed_s" in json.loads(lines[-1])


def _last_line(path: Path) -> str:
    lines = [
        line.strip()
        for line in path.read_text(errors="replace").replace("\r", "\n").splitlines()
        if line.strip()
    ]
    errors = [line for line in lines if line.startswith("i2i: error:")]
    return (errors or lines or ["(no output)"])[-1]


@dataclass
class Scheduler:
    """Runs the plan's variants, ``jobs`` at a time, each stage a child process."""

    plan: Plan
    out: Path
    jobs: int
    eval_arguments: Callable[[Variant, Path], list[str]]
    echo: Echo
    threads: int = 1
    children: list[Child] = field(default_factory=list)
    stop_signal: int | None = None

    def train_arguments(self, variant: Variant, run_dir: Path) -> list[str]:
        """``i2i run --resume`` for this run: starts it, or continues it exactly."""
        progress = "true" if self.jobs == 1 and sys.stderr.isatty() else "false"
        return [
            "run",
            "--resume",
            str(self.plan.base),
            *variant.overrides,
            f"seed={variant.seed}",
            f"run.dir={run_dir}",
            f"log.progress={progress}",
        ]

    def _start(self, variant: Variant, index: int) -> Child:
        run_dir = run_dir_of(self.out, variant)
        run_dir.mkdir(parents=True, exist_ok=True)
        where = f"[{index}/{len(self.plan.runs)}] {variant.name} seed {variant.seed}"
        if _trained(run_dir):
            self.echo(f"{where}: scoring")
            arguments, stage = self.eval_arguments(variant, run_dir), "eval"
        else:
            resumed = bool(list_checkpoints(run_dir / "checkpoints"))
            self.echo(f"{where}: {'continuing' if resumed else 'training'} in {run_dir}")
            arguments, stage = self.train_arguments(variant, run_dir), "train"
        log = run_dir / f"{stage}.log"
        return _spawn(arguments, log, self.threads, self.jobs == 1, variant, stage)

    def _forward(self, number: int, _frame: Any) -> None:
        """First signal: each child checkpoints and stops; a second one stops them at once."""
        again = self.stop_signal is not None
        self.stop_signal = number
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGINT if again else signal.SIGTERM)

    def run(self, pending: list[Variant], record: Callable[[Variant, Path], None]) -> None:
        """Train and score every run in ``pending``; ``record`` marks each one finished."""
        index_of = {id(v): i + 1 for i, v in enumerate(self.plan.runs)}
        queue = list(pending)
        previous = {
            number: signal.signal(number, self._forward)
            for number in (signal.SIGINT, signal.SIGTERM)
        }
        failure: str | None = None
        try:
            while queue or self.children:
                while queue and len(self.children) < self.jobs and self.stop_signal is None:
                    variant = queue.pop(0)
                    self.children.append(self._start(variant, index_of[id(variant)]))
                time.sleep(0.2)
                for child in [c for c in self.children if c.process.poll() is not None]:
                    self.children.remove(child)
                    code = child.finish()
                    run_dir = run_dir_of(self.out, child.variant)
                    if code != 0:
                        if self.stop_signal is None and failure is None:
                            log = run_dir / f"{child.stage}.log"
                            failure = (
                                f"variant '{child.variant.name}' seed {child.variant.seed}: "
                                f"{child.stage} failed ({_last_line(log)}); log in {log}"
                            )
                            self.stop_signal = signal.SIGTERM  # start nothing new
                        continue
                    if child.stage == "train":
                        queue.insert(0, child.variant)  # score it next
                    else:
                        record(child.variant, run_dir)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        if failure:
            raise StudyFailed(f"{failure}; fix it and run the same command to continue")
        if self.stop_signal is not None:
            name = signal.Signals(self.stop_signal).name
            raise RunInterrupted(
                f"study stopped by {name}; finished variants are kept and the interrupted ones "
                "saved a checkpoint; run the same command to continue"
            )


def run_study(
    plan: Plan,
    out: Path,
    *,
    jobs: int = 1,
    eval_arguments: Callable[[Variant, Path], list[str]],
    echo: Echo,
) -> list[tuple[Variant, dict[str, Any]]]:
    """Train and score every run of ``plan`` in ``out``; returns each run's eval summary.

    The CPU's threads are split evenly between the ``jobs`` runs in flight.
    """
    claim_folder(out, plan)
    finished: dict[int, dict[str, Any]] = {}
    pending = []
    for variant in plan.runs:
        marker = run_dir_of(out, variant) / "study.json"
        if marker.is_file():
            finished[id(variant)] = json.loads(marker.read_text())
        else:
            pending.append(variant)
    if finished:
        echo(f"{len(finished)} of {len(plan.runs)} runs already finished; kept as they are")

    def record(variant: Variant, run_dir: Path) -> None:
        summary = json.loads((run_dir / "eval" / "summary.json").read_text())
        entry = {"variant": variant.name, "seed": variant.seed, "summary": summary}
        write_text_atomic(run_dir / "study.json", json.dumps(entry, indent=2) + "\n")
        finished[id(variant)] = entry
        echo(f"{variant.name} seed {variant.seed}: finished")

    threads = max(1, (os.cpu_count() or 1) // jobs)
    Scheduler(plan, out, jobs, eval_arguments, echo, threads).run(pending, record)
    return [(v, finished[id(v)]["summary"]) for v in plan.runs]
