"""The pix2pix method: the step is bit for bit what it was before methods became plugins."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from i2i.config import load_recipe
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "step_before_methods.json").read_text())


@pytest.mark.parametrize("label", sorted(RECORDED))
def test_the_step_trains_the_weights_recorded_before_the_move(label, tmp_path):
    """Four steps from seed 0 (dropout, crops, flips, batch 4) against hashes recorded with the
    core's own step before it moved into this plugin: CPU, fp32, one thread (a sum's order,
    and so its last bits, depends on the thread count)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _check_against_record(RECORDED[label], tmp_path)
    finally:
        torch.set_num_threads(threads)


def _check_against_record(record: dict, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    recipe = load_recipe(None, [*record["overrides"], f"run.dir={run_dir}"])
    run = prepare(recipe, run_dir, default_registry())
    fit(run)
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    losses = [
        {**{k: v for k, v in line.items() if k.startswith("loss/")}, "step": line["step"]}
        for line in lines
        if "loss/g" in line
    ]
    assert losses == record["losses"]
    hashes = {
        f"{role}.{key}": hashlib.sha256(value.detach().contiguous().numpy().tobytes()).hexdigest()[
            :16
        ]
        for role, network in run.method.networks.items()
        for key, value in network.state_dict().items()
    }
    assert hashes == record["tensors"]


def test_recipes_without_a_method_key_train_pix2pix(tmp_path):
    recipe = load_recipe(None, [*RECORDED["paper"]["overrides"], f"run.dir={tmp_path / 'run'}"])
    assert recipe.method == {"name": "pix2pix"}
    method = prepare(recipe, tmp_path / "run", default_registry()).method
    assert type(method).__name__ == "Pix2PixMethod"
    assert set(method.networks) == {"generator", "discriminator"}
    assert set(method.optimizers) == {"optimizer_g", "optimizer_d"}


def test_pix2pix_trains_a_resnet_generator_with_the_hinge_objective(tmp_path):
    overrides = [*RECORDED["paper"]["overrides"], f"run.dir={tmp_path / 'run'}"]
    extra = ["model.generator={name: resnet_6blocks, ngf: 8, norm: batch}"]
    recipe = load_recipe(None, [*overrides, *extra, "loss.adversarial.name=hinge"])
    run = prepare(recipe, tmp_path / "run", default_registry())
    assert type(run.method.generator).__name__ == "ResNetGenerator"
    fit(run)
    lines = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [line["step"] for line in lines if "loss/d" in line] == [1, 2, 3, 4]
