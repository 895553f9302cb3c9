"""The SLURM options as users give them, and the one-line errors when SLURM is not there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from i2i.errors import RecipeError
from i2i.launch.slurm import SlurmOptions, parse_minutes
from i2i.study.status import RunStatus, run_status


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90), ("2:00:00", 120), ("1-12:00:00", 2160), ("1-12", 2160), ("30:30", 31)],
)
def test_slurm_time_formats_become_minutes(text, minutes):
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize("text", ["soon", "0", "1:2:3:4", ""])
def test_a_time_that_is_not_slurms_is_refused_in_one_line(text):
    with pytest.raises(RecipeError, match="--time"):
        parse_minutes(text)


def test_options_become_submitit_parameters_and_unknown_keys_go_to_sbatch():
    options = SlurmOptions(
        partition="gpu", time="8:00:00", gpus_per_run=4, cpus_per_run=32, mem="64G",
        account="lab", qos="high", constraint="a100", max_running=3, nodes_per_run=2,
        extra={"exclude": "node7", "signal_delay_s": "300", "reservation": "paper"},
    )  # fmt: skip
    parameters = options.parameters(tasks=10)
    assert parameters["time"] == 480 and parameters["gpus_per_node"] == 4
    assert parameters["nodes"] == 2 and parameters["ntasks_per_node"] == 1
    assert parameters["cpus_per_task"] == 32 and parameters["array_parallelism"] == 3
    assert parameters["exclude"] == "node7" and parameters["signal_delay_s"] == 300
    assert parameters["additional_parameters"] == {"requeue": True, "reservation": "paper"}
    assert options.processes == 4  # one training process per GPU
    assert SlurmOptions(processes_per_run=2).parameters(1)["cpus_per_task"] == 2
    with pytest.raises(RecipeError, match="--processes-per-run 4 is more than --gpus-per-run 2"):
        SlurmOptions(gpus_per_run=2, processes_per_run=4).parameters(1)


def test_without_slurm_commands_the_launcher_refuses_in_one_line(tmp_path):
    (tmp_path / "base.yaml").write_text("train: {device: cpu}\n")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no sbatch, squeue
    answer = subprocess.run(
        [sys.executable, "-m", "i2i", "run", "base.yaml", "--launcher", "slurm"],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert answer.returncode == 2 and "Traceback" not in answer.stderr
    assert answer.stderr.strip().splitlines()[-1] == (
        "i2i: error: --launcher slurm: sbatch, squeue, scontrol not found; run i2i on a SLURM "
        "login node (nothing was submitted)"
    )
    assert not (tmp_path / "runs").exists()


def test_a_bad_slurm_pair_is_a_usage_error(tmp_path):
    answer = subprocess.run(
        [sys.executable, "-m", "i2i", "run", "base.yaml", "--launcher", "slurm", "--slurm", "x"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert answer.returncode == 2 and "'x' is not KEY=VALUE" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_a_runs_state_comes_from_its_folder_and_the_queue(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    assert run_status("L1", 0, folder, {}).state == "not started"
    (folder / "launch.json").write_text(
        '{"launcher": "slurm", "job_id": "7_1", "state": "submitted"}'
    )
    assert run_status("L1", 0, folder, {"7_1": "pending"}).state == "pending"
    assert run_status("L1", 0, folder, {"7_1": "running"}).state == "running"
    assert run_status("L1", 0, folder, {}).state == "stopped"  # left the queue without a word
    (folder / "launch.json").write_text('{"job_id": "7_1", "state": "requeued"}')
    assert run_status("L1", 0, folder, {"7_1": "pending"}).state == "requeued"
    (folder / "launch.json").write_text(
        '{"job_id": "7_1", "state": "failed", "error": "i2i: error: bad", "log": "run/train.log"}'
    )
    failed = run_status("L1", 0, folder, {})
    assert failed.line() == "L1 seed 0  failed  job 7_1  i2i: error: bad (log: run/train.log)"
    (folder / "study.json").write_text("{}")
    assert run_status("L1", 0, folder, {}).state == "done"
    assert RunStatus("GAN", 1, folder, "running", "7_2", 40, 200, ("val/l1", 0.12345)).line() == (
        "GAN seed 1  running  job 7_2  step 40/200  val/l1 0.1235"
    )
