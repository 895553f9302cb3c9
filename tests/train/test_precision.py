"""Training options for GPUs, checked on CPU: mixed precision, channels_last, torch.compile."""

from __future__ import annotations

import pytest
import torch

from i2i.checkpoint import list_checkpoints, load_checkpoint
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare
from i2i.train.resume import resume


def _weights(run_dir) -> dict[str, torch.Tensor]:
    tensors, meta = load_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1])
    return {k: v for k, v in tensors.items() if k.startswith("generator.")}, meta


def _train(tiny_recipe, tmp_path, name, *overrides):
    recipe = tiny_recipe("train.max_steps=3", "model.generator.dropout=0", *overrides)
    run = prepare(recipe, tmp_path / name, default_registry())
    initial = {f"generator.{k}": v.clone() for k, v in run.models.generator.state_dict().items()}
    fit(run)
    return initial, *_weights(tmp_path / name)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_and_keeps_fp32_weights(tiny_recipe, tmp_path, precision):
    initial, weights, meta = _train(
        tiny_recipe, tmp_path, precision, f"train.precision={precision}"
    )
    assert all(v.dtype == initial[k].dtype for k, v in weights.items())
    assert all(torch.isfinite(v).all() for v in weights.values())
    assert any(not torch.equal(v, initial[k]) for k, v in weights.items())
    if precision == "fp16":  # the loss scale is saved, so a resumed run scales alike
        assert meta["grad_scaler"]["scale"] > 0
        resumed = resume(tmp_path / precision, ["train.max_steps=4"], default_registry())
        assert resumed.precision.scaler.get_scale() == meta["grad_scaler"]["scale"]
    else:
        assert meta["grad_scaler"] == {}


def test_channels_last_trains_the_same_weights(tiny_recipe, tmp_path):
    _, plain, _ = _train(tiny_recipe, tmp_path, "plain")
    _, last, _ = _train(tiny_recipe, tmp_path, "last", "train.channels_last=true")
    worst = max((plain[k] - last[k]).abs().max().item() for k in plain)
    assert worst < 5e-5, worst


@pytest.mark.slow
def test_compiled_training_matches_eager(tiny_recipe, tmp_path):
    _, eager, _ = _train(tiny_recipe, tmp_path, "eager")
    _, compiled, _ = _train(tiny_recipe, tmp_path, "compiled", "train.compile=true")
    worst = max((eager[k] - compiled[k]).abs().max().item() for k in eager)
    assert worst < 5e-5, worst
