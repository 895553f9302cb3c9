"""A stop signal sent to every process of a run (a cluster's preemption, a terminal's Ctrl-C)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import TINY_OVERRIDES


@pytest.mark.slow
@pytest.mark.fault
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_whole_process_group_still_saves_a_checkpoint(tmp_path, number):
    overrides = [o for o in TINY_OVERRIDES if not o.startswith("data.num_workers")]
    run, recipe = tmp_path / "run", tmp_path / "recipe.yaml"
    recipe.write_text("seed: 0\n")
    command = [
        sys.executable, "-m", "i2i", "run", str(recipe), *overrides, "data.num_workers=2",
        "train.max_steps=100000", "log.every=1", f"run.dir={run}",
    ]  # fmt: skip
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    metrics = run / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        lines = metrics.read_text().splitlines() if metrics.is_file() else []
        if len(lines) >= 5:
            break
        assert child.poll() is None, child.stderr.read()
        time.sleep(0.2)
    else:
        pytest.fail("the run never logged 5 steps")
    os.killpg(child.pid, number)  # the main process and both loader workers, as SLURM does
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr and "DataLoader worker" not in stderr
    step = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"]
    assert f"stopped by {signal.Signals(number).name} at step {step}" in stderr
    assert (run / "checkpoints" / f"step_{step:08d}.safetensors").is_file()


@pytest.mark.slow
@pytest.mark.fault
def test_an_error_in_a_loader_worker_is_one_line_and_the_run_exits(tmp_path):
    from PIL import Image

    from tests.helpers import one_line_error

    for split in ("train", "val"):
        (tmp_path / "data" / split).mkdir(parents=True)
        for index in range(3):
            Image.new("RGB", (64, 32)).save(tmp_path / "data" / split / f"{index}.png")
    Image.new("1", (4000, 2000)).save(tmp_path / "data" / "train" / "bomb.png")  # tiny file
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 0\n")
    overrides = [o for o in TINY_OVERRIDES if not o.startswith("data.")]
    command = [
        sys.executable, "-m", "i2i", "run", str(recipe), *overrides, "data.dataset.name=aligned",
        f"data.root={tmp_path / 'data'}", "data.num_workers=2", "data.load_size=32",
        "data.crop_size=32", "data.batch_size=1", "data.max_pixels=1000000",
        "train.max_steps=50", f"run.dir={tmp_path / 'run'}",
    ]  # fmt: skip
    # a worker's error torch cannot re-raise as its own type, and workers that ignore SIGTERM:
    # one line, and an exit (not a wait at exit for workers that will never stop)
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    line = one_line_error(result)
    assert "bomb.png' is 4000x2000 = 8000000 pixels, over the limit of 1000000" in line
