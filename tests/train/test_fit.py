"""Short real training runs on tiny synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from i2i.checkpoint import load_checkpoint
from i2i.errors import RecipeError
from i2i.plugins import default_registry
from i2i.train.build import build_models
from i2i.train.loop import fit, prepare
from i2i.train.rundir import choose_run_dir


def _train(recipe):
    run = prepare(recipe, choose_run_dir(recipe.run.dir, None), default_registry())
    last = fit(run)
    lines = [json.loads(line) for line in (run.run_dir / "metrics.jsonl").read_text().splitlines()]
    return run, last, lines


def test_training_learns_and_leaves_a_complete_run(tiny_recipe):
    run, last, lines = _train(tiny_recipe("train.max_steps=60"))
    held_out = [line["val/l1"] for line in lines if "val/l1" in line]
    assert held_out[-1] < 0.7 * held_out[0], held_out
    train_l1 = [line["loss/l1"] for line in lines if "loss/l1" in line]
    assert train_l1[-1] < train_l1[0]
    assert {"loss/d", "loss/g_adv", "loss/g", "lr", "it_per_s", "epoch"} <= set(lines[1])
    assert (run.run_dir / "config.yaml").is_file()
    with Image.open(run.run_dir / "losses.png") as plot:
        assert plot.width >= 360 and plot.height >= 200
    assert sorted(p.name for p in (run.run_dir / "samples").glob("*.png")) == [
        "step_00000000.png",
        "step_00000020.png",
        "step_00000040.png",
        "step_00000060.png",
    ]
    tensors, meta = load_checkpoint(last)
    assert meta["step"] == 60 and meta["recipe"]["train"]["max_steps"] == 60
    assert any(k.startswith("optimizer_d.state.") for k in tensors)
    assert set(run.models.generator.state_dict()) == {
        k.removeprefix("generator.") for k in tensors if k.startswith("generator.")
    }


def test_same_seed_same_weights(tiny_recipe, tmp_path):
    first, _, _ = _train(tiny_recipe("train.max_steps=6", f"run.dir={tmp_path / 'a'}"))
    second, _, _ = _train(tiny_recipe("train.max_steps=6", f"run.dir={tmp_path / 'b'}"))
    for a, b in zip(first.models.generator.parameters(), second.models.generator.parameters()):
        assert torch.equal(a, b)


def test_l1_only_ablation_trains_no_discriminator(tiny_recipe):
    run, _, lines = _train(tiny_recipe("train.max_steps=4", "loss.adversarial.weight=0"))
    assert run.models.discriminator is None and "optimizer_d" not in run.state.parts
    assert "loss/d" not in lines[1] and "loss/l1" in lines[1]


def test_encoder_decoder_and_unconditional_d(tiny_recipe):
    recipe = tiny_recipe(
        "model.generator.name=encoder_decoder", "model.conditional=false", "train.max_steps=2"
    )
    run, _, _ = _train(recipe)
    assert run.models.generator.skip_connections is False
    assert run.models.discriminator.in_channels == 3


def test_lsgan_and_pixelgan(tiny_recipe):
    recipe = tiny_recipe(
        "loss.adversarial.name=lsgan",
        "model.discriminator.name=pixelgan",
        "~model.discriminator.n_layers",
        "train.max_steps=2",
    )
    run, _, lines = _train(recipe)
    assert type(run.models.adversarial).__name__ == "LSGANLoss"
    assert [line["loss/d"] > 0 for line in lines if "loss/d" in line] == [True]


def test_generator_size_rule_is_checked_before_training(tiny_recipe):
    recipe = tiny_recipe("model.generator.depth=8")
    with pytest.raises(RecipeError, match="divisible by 256, but data.crop_size is 32"):
        build_models(recipe, default_registry())


def test_adversarial_objective_cannot_be_a_term(tiny_recipe):
    with pytest.raises(RecipeError, match="loss.terms.gan: 'vanilla' is not a generator loss"):
        build_models(tiny_recipe("loss.terms.gan.name=vanilla"), default_registry())


@pytest.mark.fault
def test_existing_run_is_never_overwritten(tiny_recipe, tmp_path):
    _train(tiny_recipe("train.max_steps=1"))
    with pytest.raises(RecipeError, match="already holds a run"):
        choose_run_dir(str(tmp_path / "run"), None)


def test_default_run_dirs_count_up(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = choose_run_dir(None, "recipes/maps.yaml")
    first.mkdir(parents=True)
    (first / "config.yaml").write_text("")
    assert str(first) == "runs/maps" and str(choose_run_dir(None, "maps.yaml")) == "runs/maps-2"


def test_tensorboard_mirrors_the_metrics(tiny_recipe):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _, _ = _train(tiny_recipe("train.max_steps=5", "log.tensorboard=true"))
    events = EventAccumulator(str(run.run_dir / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"loss/l1", "loss/d", "val/l1", "lr"} <= tags
    assert [e.step for e in events.Scalars("loss/l1")] == [5]


def test_tensorboard_missing_is_one_line_before_anything_is_written(tiny_recipe, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else real(name, *a),
    )
    recipe = tiny_recipe("log.tensorboard=true")
    with pytest.raises(RecipeError, match=r"pip install 'i2i\[tensorboard\]'"):
        prepare(recipe, choose_run_dir(recipe.run.dir, None), default_registry())
    assert not (Path(recipe.run.dir)).exists()


@pytest.mark.fault
def test_images_smaller_than_the_crop_are_named(tiny_recipe):
    from i2i.errors import DataError

    recipe = tiny_recipe("data.load_size=null", "data.dataset.size=24", "train.max_steps=1")
    run = prepare(recipe, choose_run_dir(recipe.run.dir, None), default_registry())
    with pytest.raises(DataError, match=r"\.png.*24x24 is smaller than data.crop_size=32"):
        fit(run)


@pytest.mark.fault
def test_corrupt_files_fail_by_default_or_are_skipped_and_counted(tiny_recipe, tmp_path):
    from i2i.errors import DataError

    split = tmp_path / "pairs" / "train"
    split.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(6):
        Image.fromarray(rng.integers(0, 255, (32, 64, 3), dtype=np.uint8)).save(
            split / f"{index}.png"
        )
    (split / "3.png").write_bytes(b"\x89PNG truncated")
    data = [
        "data.dataset={name: aligned}",
        f"data.root={tmp_path / 'pairs'}",
        "data.val_split=null",
        "data.batch_size=2",
        "train.max_steps=6",
    ]
    failing = tiny_recipe(*data, f"run.dir={tmp_path / 'fail'}")
    with pytest.raises(DataError, match=r"cannot decode image .*3\.png"):
        fit(prepare(failing, choose_run_dir(failing.run.dir, None), default_registry()))
    skipping = tiny_recipe(*data, "data.on_corrupt=skip", f"run.dir={tmp_path / 'skip'}")
    run = prepare(skipping, choose_run_dir(skipping.run.dir, None), default_registry())
    fit(run)
    lines = [json.loads(line) for line in (run.run_dir / "metrics.jsonl").read_text().splitlines()]
    counts = [line.get("skipped_files", 0) for line in lines if "loss/g" in line]
    assert run.state.step == 6 and counts[-1] == 2  # one bad file, seen in each of two epochs
