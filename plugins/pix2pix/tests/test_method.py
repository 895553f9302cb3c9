"""The pix2pix method: its step is the paper's, bit for bit, on the machine that runs it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from i2i.config import load_recipe
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "step_before_methods.json").read_text())


@pytest.mark.parametrize("label", sorted(RECORDED))
def test_the_step_is_the_papers_bit_for_bit_on_this_machine(label, tmp_path):
    """Four steps from seed 0 (dropout, crops, flips, batch 4) of the method, against the
    paper's iteration written out plainly below, replayed on copies of the same networks
    with the same batches and random state: equal to the last bit, on whatever CPU runs it.
    The losses recorded before the step moved into this plugin hold to float rounding."""
    recipe = load_recipe(None, [*RECORDED[label]["overrides"], f"run.dir={tmp_path / 'run'}"])
    run = prepare(recipe, tmp_path / "run", default_registry())
    networks = {role: copy.deepcopy(net) for role, net in run.method.networks.items()}
    reference = PaperStep(recipe, networks["generator"], networks.get("discriminator"))
    seen: list[tuple] = []
    step = run.method.train_step

    def recorded(batch, nets, tools):
        seen.append((batch["input"].clone(), batch["target"].clone(), torch.get_rng_state()))
        return step(batch, nets, tools)

    run.method.train_step = recorded
    fit(run)
    replayed = []
    for input, target, rng in seen:
        torch.set_rng_state(rng)
        replayed.append(reference(input, target))
    for role, network in run.method.networks.items():
        mine, paper = network.state_dict(), networks[role].state_dict()
        assert all(torch.equal(mine[key], paper[key]) for key in mine), role
    lines = [json.loads(line) for line in (run.run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = [{k: v for k, v in line.items() if k.startswith("loss/")} for line in lines]
    logged = [line for line in logged if line]
    assert [line["loss/g"] for line in logged] == [round6(r["g"]) for r in replayed]
    assert [line["loss/d"] for line in logged] == [round6(r["d"]) for r in replayed]
    record = [{k: v for k, v in line.items() if k != "step"} for line in RECORDED[label]["losses"]]
    assert logged == [pytest.approx(line, rel=1e-4) for line in record]


def round6(value: float) -> float:
    """As metrics.jsonl writes a float: 6 significant digits."""
    return float(f"{value:.6g}")


class PaperStep:
    """One pix2pix iteration as the paper and the authors' code do it, in plain torch: G(x);
    D's Adam step on (D(x, G(x)) detached, D(x, y)) with loss 0.5·(fake + real); then G's
    Adam step, D frozen, on the adversarial loss plus λ·L1. It shares no code with the
    method: only the networks' modules (copies) and the recipe's hyperparameters."""

    def __init__(self, recipe, generator, discriminator) -> None:
        self.generator, self.discriminator = generator, discriminator
        self.conditional = recipe.model.conditional
        self.lsgan = recipe.loss.adversarial["name"] == "lsgan"
        self.l1_weight = recipe.loss.terms["l1"]["weight"]
        self.adversarial_weight = recipe.loss.adversarial.get("weight", 1.0)
        optim = recipe.train.optimizer
        options = dict(lr=optim.lr, betas=tuple(optim.betas), fused=optim.fused or None)
        self.optimizer_g = torch.optim.Adam(generator.parameters(), **options)
        self.optimizer_d = torch.optim.Adam(discriminator.parameters(), **options)

    def _gan(self, logits: torch.Tensor, real: bool) -> torch.Tensor:
        label = torch.ones_like(logits) if real else torch.zeros_like(logits)
        if self.lsgan:
            return nn.functional.mse_loss(logits, label)
        return nn.functional.binary_cross_entropy_with_logits(logits, label)

    def _judge(self, x: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        seen = torch.cat([x, image], dim=1) if self.conditional else image
        return self.discriminator(seen).logits[0]

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        fake = self.generator(x)
        self.discriminator.requires_grad_(True)
        self.optimizer_d.zero_grad()
        loss_d_fake = self._gan(self._judge(x, fake.detach()), real=False)
        loss_d_real = self._gan(self._judge(x, y), real=True)
        loss_d = (loss_d_fake + loss_d_real) * 0.5
        loss_d.backward()
        self.optimizer_d.step()
        self.discriminator.requires_grad_(False)
        self.optimizer_g.zero_grad()
        loss_g_gan = self._gan(self._judge(x, fake), real=True)
        loss_g = self.adversarial_weight * loss_g_gan + self.l1_weight * (fake - y).abs().mean()
        loss_g.backward()
        self.optimizer_g.step()
        return {"d": loss_d.item(), "g": loss_g.item()}


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
