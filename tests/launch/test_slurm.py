"""`--launcher slurm` against a real single-node SLURM: studies, requeues, failures, single runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.launch.cluster import (
    i2i,
    last_step,
    losses,
    queue_state,
    record,
    release,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

TWO_BY_TWO = """\
title: Two variants, two seeds
recipe: base.yaml
seeds: 2
variants:
  L1: [loss.adversarial.weight=0]
  L1+cGAN: []
eval: {palette_colors: 3, figure_images: 2}
"""


def study_lines(folder, cwd) -> list[str]:
    """``i2i study status`` of ``folder``, one line per run."""
    answer = i2i("study", "status", str(folder), cwd=cwd)
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.splitlines()


def test_a_study_on_slurm_gives_the_results_of_the_same_study_run_here(cluster):
    (cluster / "two.yaml").write_text(TWO_BY_TWO)
    here = i2i("study", "two.yaml", "-o", "local", "--jobs", "2", cwd=cluster)
    assert here.returncode == 0, here.stderr
    submitted = i2i(
        "study", "two.yaml", "-o", "slurm", "--launcher", "slurm", "--cpus-per-run", "1",
        "--time", "10", "--max-running", "2", "--wait", cwd=cluster,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    assert "submitted 4 run(s) to slurm" in submitted.stderr
    script = next((cluster / "slurm" / "slurm").glob("*/*_submission.sh")).read_text()
    assert "#SBATCH --array=0-3%2" in script and "#SBATCH --requeue" in script
    # one thread per run in both (--jobs 2 on 2 cores; 1 CPU per task): the same sums
    ours = json.loads((cluster / "slurm" / "results.json").read_text())
    theirs = json.loads((cluster / "local" / "results.json").read_text())
    assert ours["variants"] == theirs["variants"]
    assert all(line.split("  ")[1] == "done" for line in study_lines("slurm", cluster))
    jobs = {record(cluster / "slurm" / v / f"seed{s}")["job_id"] for v in ("l1", "l1-cgan")
            for s in (0, 1)}  # fmt: skip
    assert len(jobs) == 4 and all("_" in job for job in jobs)  # one array, four tasks


def test_a_run_signalled_at_its_time_limit_and_then_preempted_continues_exactly(cluster):
    (cluster / "one.yaml").write_text(
        "recipe: base.yaml\nbudget: [train.max_steps=240, log.every=1, checkpoint.every=100, "
        "data.num_workers=2]\n"
        "variants: {L1+cGAN: []}\neval: {palette_colors: 3}\n"
    )
    submitted = i2i(
        "study", "one.yaml", "-o", "out", "--launcher", "slurm", "--cpus-per-run", "2",
        "--time", "10", cwd=cluster,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    run = cluster / "out" / "l1-cgan" / "seed0"
    job = record(run)["job_id"]
    # the time-limit path: SIGUSR2 to the job's steps, as SLURM sends it --signal before the limit
    wait_for(lambda: last_step(run) >= 40, 300, "40 steps")
    subprocess.run(["scancel", "--signal=USR2", job], check=True)
    wait_for(lambda: record(run).get("state") == "requeued", 180, "the task to checkpoint")
    assert "requeued" in study_lines("out", cluster)[0]
    release(job)
    # the preemption path: SLURM requeues the running job (SIGTERM to every process, the
    # loader's workers included)
    wait_for(lambda: last_step(run) >= 140, 300, "140 steps")
    subprocess.run(["scontrol", "requeue", job], check=True)
    wait_for(lambda: record(run).get("state") == "preempted", 180, "the task to checkpoint")
    release(job)
    wait_for(lambda: (run / "study.json").is_file(), 300, "the run to finish")
    log = (run / "train.log").read_text()
    assert log.count("stopped by SIGTERM") == 2 and log.count("resuming at step") == 2
    # the same run, uninterrupted, here, with the same two threads
    plain = i2i(
        "run", "base.yaml", "train.max_steps=240", "log.every=1", "checkpoint.every=100",
        "data.num_workers=2", "run.dir=plain", cwd=cluster,
        env={**os.environ, "OMP_NUM_THREADS": "2"},
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    requeued, uninterrupted = losses(run), losses(cluster / "plain")
    assert sorted(requeued) == sorted(uninterrupted) == list(range(241))
    assert requeued == uninterrupted


def test_a_run_that_fails_for_a_real_reason_ends_failed_with_its_error_and_log(cluster):
    (cluster / "broken.yaml").write_text(
        "recipe: base.yaml\nvariants:\n  fine: []\n"
        "  broken: ['data.dataset={name: aligned}', data.root=no/such/maps]\n"
    )
    submitted = i2i(
        "study", "broken.yaml", "-o", "out", "--launcher", "slurm", "--cpus-per-run", "1",
        "--time", "10", "--wait", cwd=cluster,
    )  # fmt: skip
    assert submitted.returncode == 2, submitted.stderr
    assert "1 run(s) ended without finishing (broken seed 0  failed" in submitted.stderr
    fine, broken = study_lines("out", cluster)
    assert fine.startswith("fine seed 0  done")
    assert broken.startswith("broken seed 0  failed")
    assert "i2i: error:" in broken and "no/such/maps" in broken
    log = cluster / "out" / "broken" / "seed0" / "train.log"
    assert f"(log: {log})" in broken
    job = record(log.parent)["job_id"]
    assert queue_state(job) in ("", "FAILED", "COMPLETED")  # not requeued
    collect = i2i("study", "collect", "out", cwd=cluster)
    assert collect.returncode == 2 and "not done (broken seed 0: failed)" in collect.stderr


def test_the_submitting_process_may_die_status_and_collection_work_from_another(cluster):
    (cluster / "two.yaml").write_text(TWO_BY_TWO.replace("seeds: 2", "seeds: 1"))
    command = [
        sys.executable, "-m", "i2i", "study", "two.yaml", "-o", "out", "--launcher", "slurm",
        "--cpus-per-run", "2", "--time", "10", "--wait",
    ]  # fmt: skip
    submitter = subprocess.Popen(command, cwd=cluster, stderr=subprocess.PIPE, text=True)
    runs = [cluster / "out" / v / "seed0" for v in ("l1", "l1-cgan")]
    wait_for(lambda: all(record(r).get("job_id") for r in runs), 120, "the submission")
    submitter.send_signal(signal.SIGKILL)
    submitter.wait()
    submitter.stderr.close()
    jobs = [record(r)["job_id"] for r in runs]
    # while they are queued, the same command submits nothing again
    again = i2i(*command[3:-1], cwd=cluster)
    assert again.returncode == 0, again.stderr
    if "still queued on slurm" in again.stderr:
        assert "submitted" not in again.stderr.replace("not submitted", "")
    assert [record(r)["job_id"] for r in runs] == jobs
    lines = study_lines("out", cluster)
    assert [line.split("  ")[0] for line in lines] == ["L1 seed 0", "L1+cGAN seed 0"]
    assert all(f"job {job}" in line for job, line in zip(jobs, lines))
    wait_for(lambda: all((r / "study.json").is_file() for r in runs), 300, "both runs")
    collect = i2i("study", "collect", "out", cwd=cluster)
    assert collect.returncode == 0, collect.stderr
    assert (cluster / "out" / "results.md").is_file() and (cluster / "out" / "figure.png").is_file()
    finished = i2i(*command[3:-1], cwd=cluster)
    assert "2 of 2 runs already finished" in finished.stderr and "submitted" not in finished.stderr
    assert "done:" in finished.stderr and "results.md" in finished.stderr  # collected again


def test_one_run_on_slurm_with_two_processes_then_resumed_here(cluster):
    submitted = i2i(
        "run", "base.yaml", "train.max_steps=12", "run.dir=runs/ddp", "--launcher", "slurm",
        "--processes-per-run", "2", "--cpus-per-run", "2", "--time", "10", cwd=cluster,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    run = cluster / "runs" / "ddp"
    assert "submitted SLURM job" in submitted.stderr and str(run) in submitted.stderr
    twice = i2i(
        "run", "base.yaml", "train.max_steps=12", "run.dir=runs/ddp", "--launcher", "slurm",
        cwd=cluster,
    )  # fmt: skip
    assert twice.returncode == 2 and "nothing was submitted" in twice.stderr
    wait_for(lambda: record(run).get("state") in ("done", "failed"), 300, "the job")
    assert record(run)["state"] == "done", (run / "train.log").read_text()
    assert "on 2 processes (cpu)" in (run / "train.log").read_text()  # torchrun, gloo
    resumed = i2i("resume", "runs/ddp", "train.max_steps=16", cwd=cluster)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at step 12 of 16" in resumed.stderr
    assert last_step(run) == 16


def test_a_submission_slurm_refuses_is_one_line_and_leaves_nothing(cluster):
    refused = i2i("run", "base.yaml", "run.dir=runs/x", "--launcher", "slurm",
                  "--partition", "no-such-partition", cwd=cluster)  # fmt: skip
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("i2i: error: sbatch refused the jobs: ")
    assert "nothing was submitted" in lines[0]
    assert not (cluster / "runs").exists()
