"""The U-Net and encoder-decoder generators against the paper and official implementation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from i2i_pix2pix import UNetGenerator, encoder_decoder


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_unet_256_has_the_official_parameter_count():
    assert _count(UNetGenerator()) == 54_413_955


def test_shapes_and_size_multiple():
    generator = UNetGenerator(in_channels=1, out_channels=2, depth=5, ngf=8)
    assert generator.size_multiple == 32
    output = generator(torch.randn(2, 1, 64, 96))
    assert output.shape == (2, 2, 64, 96)
    assert output.abs().max() <= 1


def test_dropout_sits_on_the_three_decoder_blocks_nearest_the_bottleneck():
    generator = UNetGenerator()
    levels = [
        level
        for level, block in enumerate(generator.up)
        if any(isinstance(layer, nn.Dropout) for layer in block)
    ]
    assert levels == [4, 5, 6]
    assert all(layer.p == 0.5 for layer in generator.modules() if isinstance(layer, nn.Dropout))
    assert not any(isinstance(m, nn.Dropout) for m in UNetGenerator(dropout=0.0).modules())


def test_dropout_is_noise_in_train_mode_only():
    torch.manual_seed(0)
    generator = UNetGenerator(depth=6, ngf=8)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert not torch.equal(generator.train()(x), generator(x))
        assert torch.equal(generator.eval()(x), generator(x))


def test_encoder_decoder_has_no_skips():
    ablation = encoder_decoder(depth=6, ngf=8)
    assert ablation.skip_connections is False
    x = torch.randn(1, 3, 64, 64, requires_grad=True)
    ablation.eval()(x).sum().backward()
    # Everything must pass through the 1x1 bottleneck: the first conv's grad is nonzero, and
    # the up convs see only the width of their own level (no concatenated skip).
    assert ablation.up[0][1].in_channels == 8
    assert UNetGenerator(depth=6, ngf=8).up[0][1].in_channels == 16
    assert _count(encoder_decoder()) < _count(UNetGenerator())


def test_skip_carries_the_activated_encoder_features():
    """Official quirk kept: the skip is LeakyReLU(features), the in-place activation's result."""
    torch.manual_seed(0)
    generator = UNetGenerator(depth=3, ngf=4, norm="none", dropout=0.0).eval()
    captured = {}
    # Clone: the block's first layer is an in-place ReLU.
    generator.up[1].register_forward_pre_hook(
        lambda _m, args: captured.update(seen=args[0].clone())
    )
    x = torch.randn(1, 3, 8, 8)
    generator(x)
    level1 = generator.down[1](nn.functional.leaky_relu(generator.down[0](x), 0.2))
    skip = nn.functional.leaky_relu(level1, 0.2)
    torch.testing.assert_close(captured["seen"][:, : skip.shape[1]], skip)


@pytest.mark.parametrize(
    ("norm", "has_bias"), [("batch", False), ("instance", True), ("none", True)]
)
def test_norm_choice_sets_conv_bias(norm, has_bias):
    generator = UNetGenerator(depth=5, ngf=8, norm=norm)
    assert (generator.down[1][0].bias is not None) is has_bias
    assert generator.up[0][1].bias is not None  # the outermost always has one
    kinds = {type(m) for m in generator.modules()}
    assert (nn.BatchNorm2d in kinds) is (norm == "batch")
    assert (nn.InstanceNorm2d in kinds) is (norm == "instance")


def test_init_is_normal_0_002():
    weights = torch.cat(
        [
            m.weight.flatten()
            for m in UNetGenerator().modules()
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
        ]
    )
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="depth"):
        UNetGenerator(depth=1)
    with pytest.raises(ValueError, match="norm"):
        UNetGenerator(norm="group")
