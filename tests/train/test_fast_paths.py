"""The optimised training path (fused Adam, matrix-product convolutions for small inputs)
trains the same weights as the plain one, within float tolerance."""

from __future__ import annotations

from i2i.checkpoint import list_checkpoints, load_checkpoint
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare

NETWORKS = ("generator.", "discriminator.")


def _train(recipe, run_dir, small_inputs: list) -> tuple[dict, dict]:
    """Initial and final weights of a run; ``small_inputs`` collects matrix-path calls."""
    from i2i_pix2pix.small_conv import SmallInputConv2d, SmallInputConvTranspose2d

    run = prepare(recipe, run_dir, default_registry())
    initial = {f"generator.{k}": v.clone() for k, v in run.models.generator.state_dict().items()}
    for module in run.models.generator.modules():
        if isinstance(module, SmallInputConv2d | SmallInputConvTranspose2d):
            module.register_forward_hook(
                lambda m, i, o: (
                    small_inputs.append(m)
                    if i[0].shape[0] * i[0].shape[-2] * i[0].shape[-1] <= m.max_pixels
                    else None
                )
            )
    fit(run)
    tensors, _ = load_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1])
    return initial, {k: v for k, v in tensors.items() if k.startswith(NETWORKS)}


def test_optimised_and_plain_paths_train_the_same_weights(tiny_recipe, tmp_path, monkeypatch):
    from i2i_pix2pix.small_conv import SmallInputConv2d, SmallInputConvTranspose2d

    overrides = ("train.max_steps=4", "model.generator.dropout=0", "log.every=1")
    fast_calls: list = []
    initial, optimised = _train(
        tiny_recipe(*overrides, "train.optimizer.fused=true"), tmp_path / "fast", fast_calls
    )
    assert fast_calls, "the matrix path was never taken"
    monkeypatch.setattr(SmallInputConv2d, "max_pixels", 0)
    monkeypatch.setattr(SmallInputConvTranspose2d, "max_pixels", 0)
    plain_calls: list = []
    _, plain = _train(
        tiny_recipe(*overrides, "train.optimizer.fused=false"), tmp_path / "plain", plain_calls
    )
    assert not plain_calls
    assert optimised.keys() == plain.keys()
    worst = max((optimised[k].float() - plain[k].float()).abs().max().item() for k in plain)
    moved = max((optimised[k].float() - v.float()).abs().max().item() for k, v in initial.items())
    # Adam divides by the gradient's own scale, so a rounding difference in a near-zero
    # gradient can move a weight by a visible fraction of lr (2e-4) per step.
    assert worst < 5e-5, f"largest weight difference {worst}"
    assert moved > 20 * worst, (moved, worst)  # training moved weights far more than that
