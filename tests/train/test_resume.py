"""Exact resume: killed, interrupted or stopped runs continue as if nothing happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from i2i.checkpoint import list_checkpoints, load_checkpoint
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare
from i2i.train.resume import resume
from i2i.train.rundir import choose_run_dir
from tests.conftest import TINY_OVERRIDES
from tests.helpers import resume_in_subprocess

pytestmark = pytest.mark.fault
QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"


def _steps(run_dir: Path) -> dict[int, dict]:
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {line["step"]: line for line in lines if "loss/g" in line}


def _last_generator(run_dir: Path) -> dict[str, torch.Tensor]:
    tensors, _ = load_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1])
    return {k: v for k, v in tensors.items() if not k.startswith("rng.")}


def _same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_continues_bit_for_bit_across_an_epoch(tiny_recipe, tmp_path):
    # 64 pairs in batches of 4: 16 steps an epoch; stop at 10, resume to 20.
    whole = prepare(
        tiny_recipe("train.max_steps=20", "log.every=1", f"run.dir={tmp_path / 'whole'}"),
        tmp_path / "whole",
        default_registry(),
    )
    fit(whole)
    part = tiny_recipe("train.max_steps=10", "log.every=1", f"run.dir={tmp_path / 'part'}")
    fit(prepare(part, choose_run_dir(part.run.dir, None), default_registry()))
    resumed = resume(tmp_path / "part", ["train.max_steps=20"], default_registry())
    assert (resumed.state.step, resumed.state.epoch, resumed.state.position) == (10, 0, 40)
    fit(resumed)
    expected, got = _steps(tmp_path / "whole"), _steps(tmp_path / "part")
    assert sorted(got) == list(range(1, 21))
    assert all(
        got[s]
        == {
            **expected[s],
            "time": got[s]["time"],
            "it_per_s": got[s]["it_per_s"],
            "img_per_s": got[s]["img_per_s"],
        }
        for s in range(11, 21)
    )
    assert _same_tensors(_last_generator(tmp_path / "whole"), _last_generator(tmp_path / "part"))


def _launch(run_dir: Path, *extra: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "i2i",
        "run",
        str(QUICKSTART),
        *TINY_OVERRIDES,
        "train.max_steps=24",
        "log.every=1",
        "checkpoint.every=2",
        "checkpoint.keep=2",
        f"run.dir={run_dir}",
        *extra,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_step(run_dir: Path, step: int, process: subprocess.Popen) -> None:
    """Wait for the step itself (never a fixed sleep), with room for a heavily loaded machine."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        metrics = run_dir / "metrics.jsonl"
        if metrics.is_file() and any(s >= step for s in _steps(run_dir)):
            return
        time.sleep(0.05)
    raise AssertionError(f"run never reached step {step}: {process.poll()}")


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    reference = _launch(tmp_path / "reference")
    assert reference.wait(timeout=300) == 0, reference.stderr.read()
    victim = _launch(tmp_path / "victim")
    _wait_for_step(tmp_path / "victim", 9, victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    killed_at = max(_steps(tmp_path / "victim"))
    resumed = resume_in_subprocess(tmp_path / "victim")
    assert resumed.returncode == 0, resumed.stderr
    expected, got = _steps(tmp_path / "reference"), _steps(tmp_path / "victim")
    assert sorted(got) == list(range(1, 25)), f"killed at {killed_at}"
    for step in range(1, 25):
        assert {k: v for k, v in got[step].items() if k.startswith("loss/")} == {
            k: v for k, v in expected[step].items() if k.startswith("loss/")
        }, step
    assert _same_tensors(
        _last_generator(tmp_path / "reference"), _last_generator(tmp_path / "victim")
    )


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    run_dir = tmp_path / "run"
    process = _launch(run_dir, "checkpoint.every=1000")
    _wait_for_step(run_dir, 3, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    message = [line for line in stderr.splitlines() if line.startswith("i2i: stopped")]
    assert len(message) == 1 and "SIGTERM" in message[0] and "i2i resume" in message[0]
    _, meta = load_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1])
    assert meta["step"] == max(_steps(run_dir))
    assert not [p for p in os.listdir(run_dir / "checkpoints") if p.endswith(".tmp")]


def test_resume_refuses_what_it_cannot_continue(tmp_path):
    from i2i.errors import CheckpointError, RecipeError

    with pytest.raises(RecipeError, match="holds no run"):
        resume(tmp_path, [], default_registry())
    (tmp_path / "config.yaml").write_text("seed: 0\n")
    with pytest.raises(CheckpointError, match="no complete checkpoint"):
        resume(tmp_path, [], default_registry())


def test_resume_with_another_model_says_what_differs(tiny_recipe, tmp_path):
    from i2i.errors import CheckpointError

    recipe = tiny_recipe("train.max_steps=1")
    fit(prepare(recipe, choose_run_dir(recipe.run.dir, None), default_registry()))
    with pytest.raises(CheckpointError, match=r"model.generator.ngf: checkpoint 8, recipe 16"):
        resume(Path(recipe.run.dir), ["model.generator.ngf=16"], default_registry())


def test_run_with_resume_starts_or_continues_the_same_command(tmp_path):
    from click.testing import CliRunner

    from i2i.cli import main

    run_dir = tmp_path / "requeued"
    command = ["run", str(QUICKSTART), *TINY_OVERRIDES, f"run.dir={run_dir}", "log.every=1"]
    first = CliRunner().invoke(main, [*command, "train.max_steps=2", "--resume"])
    assert first.exit_code == 0, first.output
    refused = CliRunner().invoke(main, [*command, "train.max_steps=4"])
    assert refused.exit_code == 2 and "already holds a run" in refused.output
    again = CliRunner().invoke(main, [*command, "train.max_steps=4", "--resume"])
    assert again.exit_code == 0, again.output
    assert "resuming at step 2 of 4" in again.output
    assert sorted(_steps(run_dir)) == [1, 2, 3, 4]


def test_run_with_resume_restarts_a_run_killed_before_its_first_checkpoint(tmp_path):
    from click.testing import CliRunner

    from i2i.cli import main

    run_dir = tmp_path / "requeued"
    (run_dir / "samples").mkdir(parents=True)
    (run_dir / ".i2i-run").write_text("i2i run\n")  # what a run killed at step 0 leaves
    (run_dir / "config.yaml").write_text("seed: 0\n")
    (run_dir / "metrics.jsonl").write_text('{"step": 0, "val/l1": 0.9}\n')
    (run_dir / "notes.txt").write_text("mine")
    command = ["run", str(QUICKSTART), *TINY_OVERRIDES, f"run.dir={run_dir}", "log.every=1"]
    result = CliRunner().invoke(main, [*command, "train.max_steps=2", "--resume"])
    assert result.exit_code == 0, result.output
    assert "training 2 iterations" in result.output
    assert sorted(_steps(run_dir)) == [1, 2]
    assert 'val/l1": 0.9' not in (run_dir / "metrics.jsonl").read_text()
    assert (run_dir / "notes.txt").read_text() == "mine"


def test_a_second_process_cannot_train_in_a_run_directory_in_use(tmp_path):
    from tests.helpers import one_line_error

    run_dir = tmp_path / "shared"
    first = _launch(run_dir, "train.epochs=1000", "train.max_steps=4000", "checkpoint.every=1000")
    try:
        _wait_for_step(run_dir, 2, first)
        lines_before = len((run_dir / "metrics.jsonl").read_text().splitlines())
        for command in (
            ["resume", str(run_dir)],
            ["run", "--resume", str(QUICKSTART), *TINY_OVERRIDES, f"run.dir={run_dir}"],
        ):
            refused = subprocess.run(
                [sys.executable, "-m", "i2i", *command], capture_output=True, text=True, timeout=120
            )
            assert f"is in use by process {first.pid}" in one_line_error(refused)
        again = subprocess.run(
            [
                sys.executable,
                "-m",
                "i2i",
                "run",
                str(QUICKSTART),
                *TINY_OVERRIDES,
                f"run.dir={run_dir}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "already holds a run" in one_line_error(again)
        assert first.poll() is None  # the first run trains on, undisturbed
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
        assert len(lines) >= lines_before and all(json.loads(line) for line in lines)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)


def _copy_run(source: Path, target: Path) -> None:
    import shutil

    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".i2i.lock"))


def test_resume_skips_a_damaged_latest_checkpoint_for_the_newest_intact_one(tiny_recipe, tmp_path):
    from i2i.plugins import reset_plugins

    recipe = tiny_recipe(
        "train.max_steps=6", "checkpoint.every=2", "checkpoint.keep=3", "checkpoint.optimizer=all"
    )
    fit(prepare(recipe, Path(recipe.run.dir), default_registry()))
    damaged = tmp_path / "damaged"
    _copy_run(Path(recipe.run.dir), damaged)
    latest = damaged / "checkpoints" / "step_00000006.safetensors"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # cut by a crash
    stray = damaged / "checkpoints" / ".step_00000008.safetensors.ab12cd34.i2i-tmp"
    stray.write_bytes(b"half a checkpoint a SIGKILL left")
    reset_plugins()
    with pytest.warns(
        UserWarning,
        match=r"skipped checkpoint step_00000006.safetensors, which "
        r"does not read .*kept as step_00000006.safetensors.unreadable; resuming "
        r"from step_00000004",
    ):
        resumed = resume(damaged, [f"run.dir={damaged}"], default_registry())
    assert resumed.state.step == 4 and not stray.exists()
    fit(resumed)
    assert (damaged / "checkpoints" / "step_00000006.safetensors.unreadable").is_file()
    assert _same_tensors(_last_generator(Path(recipe.run.dir)), _last_generator(damaged))
    # pruning counted intact checkpoints only: keep=3 left three that read, none deleted early
    kept = list_checkpoints(damaged / "checkpoints")
    assert [p.name for p in kept] == [f"step_0000000{s}.safetensors" for s in (2, 4, 6)]
    assert all(load_checkpoint(p)[1]["step"] == s for p, s in zip(kept, (2, 4, 6)))


def test_the_first_metrics_line_after_a_resume_has_the_uninterrupted_means(tiny_recipe, tmp_path):
    # log.every=3, a checkpoint at 4: the window of steps 4-6 straddles the checkpoint.
    recipe = tiny_recipe(
        "train.max_steps=6", "checkpoint.every=4", "log.every=3", "checkpoint.optimizer=all"
    )
    whole = Path(recipe.run.dir)
    fit(prepare(recipe, whole, default_registry()))
    killed = tmp_path / "killed"
    _copy_run(whole, killed)
    for name in ("step_00000006.safetensors", "step_00000006.json"):
        (killed / "checkpoints" / name).unlink()  # killed at step 5
    fit(resume(killed, [f"run.dir={killed}"], default_registry()))
    expected, got = _steps(whole)[6], _steps(killed)[6]
    losses = [k for k in expected if k.startswith("loss/")]
    assert losses and all(got[k] == expected[k] for k in losses)


def test_resuming_a_finished_run_changes_nothing(tmp_path):
    from click.testing import CliRunner

    from i2i.cli import main

    run_dir = tmp_path / "done"
    command = ["run", str(QUICKSTART), *TINY_OVERRIDES, f"run.dir={run_dir}", "train.max_steps=2"]
    assert CliRunner().invoke(main, command).exit_code == 0
    before = {
        p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and p.name != ".i2i.lock"
    }
    for again in (["resume", str(run_dir)], [*command, "--resume"]):
        result = CliRunner().invoke(main, again)
        assert (
            result.exit_code == 0
            and "is finished (step 2 of 2); nothing was changed" in result.stderr
        )
    after = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and p.name != ".i2i.lock"}
    assert after == before
