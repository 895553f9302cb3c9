"""CycleGAN as an i2i method: the authors' facts, exact resume with the pool, torchrun, use."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from i2i.checkpoint import list_checkpoints, load_checkpoint
from i2i.cli import main
from i2i.config import load_recipe
from i2i.data.unpaired import UnpairedEpochSampler
from i2i.plugins import default_registry
from i2i.train.build import build_models
from i2i_cyclegan import ImagePool

RECIPES = Path(__file__).parents[3] / "recipes"
QUICKSTART = RECIPES / "cyclegan_quickstart.yaml"
TINY = [
    "data.dataset.of.size=32",
    "data.dataset.of.length=12",
    "data.load_size=36",
    "data.crop_size=32",
    "model.generator.ngf=4",
    "model.discriminator.ndf=8",
    "method.pool_size=3",
    "train.device=cpu",
    "log.every=1",
    "log.sample_every=1000",
    "log.val_images=2",
    "log.progress=false",
]


def _parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_networks_are_the_authors():
    recipe = load_recipe(RECIPES / "cyclegan_maps.yaml", ["train.device=cpu"])
    method = build_models(recipe, default_registry())
    assert set(method.networks) == {
        "generator_a",
        "generator_b",
        "discriminator_a",
        "discriminator_b",
    }
    assert _parameters(method.networks["generator_a"]) == 11_378_179
    assert _parameters(method.networks["discriminator_a"]) == 2_764_737
    assert set(method.optimizers) == {"optimizer_g", "optimizer_d"}
    both_g = {
        id(p) for g in ("generator_a", "generator_b") for p in method.networks[g].parameters()
    }
    in_optimizer = {
        id(p) for group in method.optimizers["optimizer_g"].param_groups for p in group["params"]
    }
    assert in_optimizer == both_g
    assert (method.lambda_a, method.lambda_b, method.lambda_identity) == (10.0, 10.0, 0.5)
    assert type(method.adversarial).__name__ == "LSGANLoss" and method.pool_a.size == 50


def test_the_pool_stores_then_mixes_history_and_round_trips():
    torch.manual_seed(0)
    pool = ImagePool(2)
    first, second = torch.full((1, 1, 2, 2), 1.0), torch.full((1, 1, 2, 2), 2.0)
    assert torch.equal(pool.query(first), first) and torch.equal(pool.query(second), second)
    shown = [float(pool.query(torch.full((1, 1, 2, 2), 3.0 + i)).mean()) for i in range(40)]
    assert any(v < 3 for v in shown) and any(v >= 3 for v in shown)  # history and new ones
    copy = ImagePool(2)
    copy.load(pool.state())
    assert all(torch.equal(a, b) for a, b in zip(copy.images, pool.images))
    empty = ImagePool(2)
    empty.load(ImagePool(2).state())
    assert empty.images == []


def test_an_epoch_has_max_of_both_sizes_with_random_partners():
    sampler = UnpairedEpochSampler((3, 7), seed=1)
    order = sampler.order()
    assert len(order) == 7 and all(a < 3 and b < 7 for a, b in order)
    assert sorted(a for a, _ in order).count(0) >= 2  # A wraps around
    sampler.set_epoch(1)
    assert sampler.order() != order
    sampler.set_epoch(0)
    assert sampler.order() == order


def test_g_step_comes_before_d_step(monkeypatch, tmp_path):
    recipe = load_recipe(QUICKSTART, [*TINY, f"run.dir={tmp_path}"])
    method = build_models(recipe, default_registry())
    calls = []
    for name, optimizer in method.optimizers.items():
        original = optimizer.step
        monkeypatch.setattr(
            optimizer,
            "step",
            lambda *a, _n=name, _o=original, **k: (calls.append(_n), _o(*a, **k))[1],
        )
    from i2i.methods import StepTools
    from i2i.train.precision import Precision

    batch = {"A": torch.rand(1, 3, 32, 32) * 2 - 1, "B": torch.rand(1, 3, 32, 32) * 2 - 1}
    losses = method.train_step(batch, method.networks, StepTools(Precision()))
    assert calls == ["optimizer_g", "optimizer_d"]
    assert {"g_a", "g_b", "cycle_a", "cycle_b", "idt_a", "idt_b", "d_a", "d_b"} <= set(losses)
    assert len(method.pool_a.images) == 1


def _steps(run_dir: Path) -> dict[int, dict]:
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {
        line["step"]: {k: v for k, v in line.items() if k.startswith("loss/")}
        for line in lines
        if "loss/g" in line
    }


def _launch(run_dir: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "i2i", "run", str(QUICKSTART), *TINY, f"run.dir={run_dir}"]
    command += ["train.max_steps=16", "checkpoint.every=3", "checkpoint.keep=2", *extra]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.fault
def test_sigkill_then_resume_gives_the_losses_of_an_uninterrupted_run(tmp_path):
    reference = _launch(tmp_path / "reference")
    assert reference.wait(timeout=300) == 0, reference.stderr.read()
    victim = _launch(tmp_path / "victim")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and victim.poll() is None:
        metrics = tmp_path / "victim" / "metrics.jsonl"
        if metrics.is_file() and max(_steps(tmp_path / "victim"), default=0) >= 8:
            break
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    _, meta = load_checkpoint(list_checkpoints(tmp_path / "victim" / "checkpoints")[-1])
    assert 3 <= meta["step"] < 16
    resumed = subprocess.run(
        [sys.executable, "-m", "i2i", "resume", str(tmp_path / "victim")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _steps(tmp_path / "victim") == _steps(tmp_path / "reference")
    ours, theirs = (
        load_checkpoint(list_checkpoints(tmp_path / name / "checkpoints")[-1])[0]
        for name in ("victim", "reference")
    )
    assert any(k.startswith("method.pool_a") for k in ours)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs if not k.startswith("rng."))


@pytest.mark.slow
@pytest.mark.fault
def test_two_gloo_processes_train_cyclegan(tmp_path):
    run_dir = tmp_path / "two"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    command += ["-m", "i2i", "run", str(QUICKSTART), *TINY, f"run.dir={run_dir}"]
    command += ["train.max_steps=3", "data.batch_size=2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "on 2 processes (cpu)" in done.stderr
    assert sorted(_steps(run_dir)) == [1, 2, 3]
    tensors, meta = load_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1])
    assert meta["processes"] == 2 and any(k.startswith("generator_b.") for k in tensors)


@pytest.mark.slow
def test_translate_eval_and_export_pick_either_direction(tmp_path):
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["run", str(QUICKSTART), *TINY, f"run.dir={run_dir}", "train.max_steps=2"]
    )
    assert result.exit_code == 0, result.output
    checkpoint = str(list_checkpoints(run_dir / "checkpoints")[-1])
    from i2i.inference.load import load_generator

    forward = load_generator(checkpoint, default_registry(), direction="AtoB")
    backward = load_generator(checkpoint, default_registry(), direction="BtoA")
    assert forward.direction == "AtoB" and backward.direction == "BtoA"
    weights = [g.module.state_dict()["model.1.weight"] for g in (forward, backward)]
    assert not torch.equal(*weights)
    tensors, _ = load_checkpoint(Path(checkpoint), prefix="generator_b.")
    assert torch.equal(weights[1], tensors["generator_b.model.1.weight"])
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / f"eval_{direction}"
        evaluated = CliRunner().invoke(
            main,
            ["eval", "-c", checkpoint, "--direction", direction, "-o", str(out), "--no-progress"],
        )
        assert evaluated.exit_code == 0, evaluated.output
        assert json.loads((out / "summary.json").read_text())["direction"] == direction
    images = tmp_path / "eval_BtoA" / "images"
    translated = CliRunner().invoke(
        main,
        [
            "translate",
            "-c",
            checkpoint,
            "--direction",
            "BtoA",
            "-o",
            str(tmp_path / "out"),
            "--no-progress",
            str(next(images.glob("*_input.png"))),
        ],
    )
    assert translated.exit_code == 0, translated.output


@pytest.mark.slow
def test_a_study_of_cyclegan_variants_runs_and_scores_both(tmp_path):
    study = tmp_path / "identity.yaml"
    budget = [*TINY, "train.max_steps=2", "data.dataset.of.length=4"]
    study.write_text(
        f"recipe: {QUICKSTART}\n"
        f"budget: {json.dumps(budget)}\n"
        "variants:\n  identity: []\n  no identity: [method.lambda_identity=0]\n"
        "eval: {figure_images: 1}\n"
    )
    result = CliRunner().invoke(main, ["study", str(study), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [v["name"] for v in results["variants"]] == ["identity", "no identity"]
    assert all(v["mean"]["l1"] > 0 for v in results["variants"])
    losses = (tmp_path / "out" / "no-identity" / "seed0" / "metrics.jsonl").read_text()
    assert "loss/cycle_a" in losses and "loss/idt_a" not in losses
