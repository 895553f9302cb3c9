"""A run killed with SIGKILL after its logger delivered steps past its checkpoint, resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import TINY_OVERRIDES

QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"
STEPS = 16


def _delivered(run_dir: Path, logger: str) -> int:
    try:
        return json.loads((run_dir / "loggers.json").read_text())[logger]["delivered"][0]
    except (OSError, ValueError, KeyError):
        return -1


def kill_then_resume(
    run_dir: Path,
    logger: str,
    env: dict[str, str],
    *extra: str,
    signal_: signal.Signals = signal.SIGKILL,
    between: Callable[[], None] = lambda: None,
) -> int:
    """Train STEPS steps (a checkpoint every 4), killed with ``signal_`` once ``logger`` has
    delivered step 10 (past the checkpoint of step 8), call ``between``, then resume to the
    end; returns the step the logger had delivered when killed."""
    command = [sys.executable, "-m", "i2i", "run", str(QUICKSTART), *TINY_OVERRIDES]
    command += [f"train.max_steps={STEPS}", "log.every=1", "checkpoint.every=4"]
    command += ["log.sample_every=4", f"run.dir={run_dir}", *extra]
    # a wandb service this test process started (WANDB_SERVICE) is not the children's
    environment = {k: v for k, v in {**os.environ, **env}.items() if k != "WANDB_SERVICE"}
    victim = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while _delivered(run_dir, logger) < 10 and victim.poll() is None:
        assert time.monotonic() < deadline, "the logger never delivered step 10"
        time.sleep(0.02)
    victim.send_signal(signal_)
    victim.wait(timeout=120)
    expected = -signal.SIGKILL if signal_ == signal.SIGKILL else 130  # 130: stopped cleanly
    assert victim.returncode == expected, victim.stderr.read()
    killed_at = _delivered(run_dir, logger)
    between()
    resume = [sys.executable, "-m", "i2i", "resume", str(run_dir)]
    resumed = subprocess.run(resume, env=environment, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr and "failed" not in resumed.stderr, resumed.stderr
    return killed_at


def losses_by_step(run_dir: Path, key: str) -> dict[int, float]:
    """``key`` at every step of metrics.jsonl."""
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {line["step"]: line[key] for line in lines if key in line}


def replay_past_a_lagging_record(
    run_dir: Path, name: str, first: Any, again: Any, flush: Callable[[], None] = lambda: None
) -> None:
    """What a SIGKILL between a tracker storing a step and ``loggers.json`` saying so leaves,
    then the resume: ``first`` logs steps 1-12 (a preview at 12), ``flush`` lets it reach
    its store, the record says only step 10 was delivered, and ``again`` (behind a Tracker,
    as in training) gets the resumed run's steps 9-16 (previews at 12 and 16)."""
    from PIL import Image

    from i2i.train.events import RunInfo
    from i2i.train.trackers import RECORD_NAME, trackers

    (run_dir / "samples").mkdir(parents=True)
    grid = run_dir / "samples" / "step_00000012.png"
    Image.new("RGB", (64, 32), (10, 200, 30)).save(grid)
    first.run_started(RunInfo(run_dir, {"seed": 0}))
    for step in range(1, 13):
        first.scalars(step, {"loss/g": 1.0 / step})
    first.preview(12, grid, {"val/l1": 0.25})
    flush()
    record = {**first.resume_record(), "delivered": [10, 1]}
    (run_dir / RECORD_NAME).write_text(json.dumps({name: record}))
    (tracker,) = trackers([(name, again)], run_dir)
    tracker.run_started(RunInfo(run_dir, {"seed": 0}, step=8))
    for step in range(9, 17):  # resumed from the checkpoint of step 8: steps 9.. again
        tracker.scalars(step, {"loss/g": 1.0 / step})
        if step in (12, 16):
            tracker.preview(step, grid, {"val/l1": 0.25})
    tracker.run_ended("finished", None)
