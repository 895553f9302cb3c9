"""A real SLURM for the launcher tests (the cluster `.ci/slurm up` starts here), and helpers.

Where no SLURM answers (a laptop), these tests skip with one line; with ``I2I_REQUIRE_SLURM=1``
(set by CI) they fail instead, so CI can never pass without having run them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.study.test_study import BASE


def _cluster_answers() -> str | None:
    """None when SLURM runs jobs here; else why not."""
    if shutil.which("srun") is None:
        return "SLURM's commands are not installed"
    try:
        answer = subprocess.run(
            ["srun", "--time=1", "hostname"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "srun hostname did not answer within 30 s"
    if answer.returncode != 0:
        return f"srun hostname failed: {answer.stderr.strip()[:200]}"
    return None


@pytest.fixture(scope="session")
def slurm() -> None:
    """Skip (or, under CI, fail) unless a SLURM cluster runs jobs on this machine."""
    problem = _cluster_answers()
    if problem is None:
        return
    message = f"no SLURM cluster here ({problem}); start one with: sudo bash .ci/slurm up"
    if os.environ.get("I2I_REQUIRE_SLURM"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def cluster(slurm, tmp_path: Path):
    """The cluster, emptied of this test's jobs afterwards; the test's folder holds BASE."""
    (tmp_path / "base.yaml").write_text(BASE)
    yield tmp_path
    subprocess.run(["scancel", "--user", os.environ.get("USER", "root")], check=False)


def i2i(*arguments: str, cwd: Path, **options) -> subprocess.CompletedProcess:
    """``i2i ARGUMENTS`` in a new process, as a user types it."""
    return subprocess.run(
        [sys.executable, "-m", "i2i", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        **options,
    )


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def record(folder: Path) -> dict:
    """A task's launch.json."""
    path = folder / "launch.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def last_step(folder: Path) -> int:
    """The last step a run logged (0 before its first line)."""
    metrics = folder / "metrics.jsonl"
    if not metrics.is_file():
        return 0
    lines = [line for line in metrics.read_text().splitlines() if line.strip()]
    try:
        return int(json.loads(lines[-1]).get("step", 0)) if lines else 0
    except ValueError:
        return 0


def queue_state(job: str) -> str:
    """squeue's state of one job ('' once it has left the queue)."""
    answer = subprocess.run(
        ["squeue", "--noheader", "--array", "--format=%i|%T", "--states=all"],
        capture_output=True,
        text=True,
    )
    for line in answer.stdout.splitlines():
        name, _, state = line.strip().partition("|")
        if name == job:
            return state
    return ""


def release(job: str) -> None:
    """Let a requeued job start now: SLURM holds a requeued job back for two minutes."""

    def released() -> bool:
        if queue_state(job) != "PENDING":
            return False
        answer = subprocess.run(
            ["scontrol", "update", f"jobid={job}", "StartTime=now"], capture_output=True
        )
        return answer.returncode == 0

    wait_for(released, 180, f"job {job} to be pending again after its requeue")
    wait_for(lambda: queue_state(job) in ("RUNNING", "COMPLETING", ""), 180, f"job {job} to start")


def losses(folder: Path) -> dict[int, dict[str, float]]:
    """Every logged step's losses."""
    steps = {}
    for line in (folder / "metrics.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if "step" in entry:
            steps[entry["step"]] = {k: v for k, v in entry.items() if k.startswith("loss/")}
    return steps
