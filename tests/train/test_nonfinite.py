"""NaN and infinite losses: stop with the step and the loss named, or skip the update."""

from __future__ import annotations

import json

import pytest
import torch

import i2i
from i2i.checkpoint import list_checkpoints, load_checkpoint
from i2i.methods import NonFiniteLoss
from i2i.plugins import default_registry, register_plugin
from i2i.train.loop import fit, prepare
from i2i.train.rundir import choose_run_dir

pytestmark = pytest.mark.fault


class _PoisonPlugin:
    """A loss term that turns NaN on its fifth call (the fifth iteration)."""

    @i2i.hookimpl
    def i2i_losses(self):
        calls = {"n": 0}

        def poison():
            def term(inputs):
                calls["n"] += 1
                value = (inputs.output - inputs.target).abs().mean()
                return value * float("nan") if calls["n"] == 5 else value

            return term

        return {"poison": poison}


def _run(tiny_recipe, *overrides):
    register_plugin(_PoisonPlugin(), "poison")
    recipe = tiny_recipe(
        "loss.terms.l1.weight=0",
        "loss.terms.poison.weight=100",
        "train.max_steps=8",
        "checkpoint.every=2",
        "log.every=1",
        *overrides,
    )
    run = prepare(recipe, choose_run_dir(recipe.run.dir, None), default_registry())
    return run, recipe


def test_stop_names_the_step_and_the_loss_and_keeps_the_checkpoint(tiny_recipe):
    run, _ = _run(tiny_recipe)
    with pytest.raises(NonFiniteLoss, match=r"step 5: loss 'poison' is nan.*step_00000004"):
        fit(run)
    checkpoints = list_checkpoints(run.run_dir / "checkpoints")
    tensors, meta = load_checkpoint(checkpoints[-1])
    assert meta["step"] == 4
    assert all(torch.isfinite(v).all() for k, v in tensors.items() if v.is_floating_point())


def test_skip_leaves_the_weights_untouched_and_counts(tiny_recipe):
    run, _ = _run(tiny_recipe, "train.nonfinite=skip")
    fit(run)
    assert all(torch.isfinite(p).all() for p in run.models.generator.parameters())
    lines = [json.loads(line) for line in (run.run_dir / "metrics.jsonl").read_text().splitlines()]
    counts = [line.get("skipped_nonfinite", 0) for line in lines if "loss/g" in line]
    assert counts == [0, 0, 0, 0, 1, 1, 1, 1]
