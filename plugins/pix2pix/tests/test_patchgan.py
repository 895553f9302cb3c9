"""PatchGAN and PixelGAN: sizes, receptive fields measured by gradient, official layout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from i2i.interfaces import DiscriminatorOutput
from i2i_pix2pix import PatchGANDiscriminator, PixelGANDiscriminator

# Key names and shapes of the official basic PatchGAN (n_layers 3, ndf 64, batch norm).
OFFICIAL_KEYS = {
    "model.0.weight": (64, 6, 4, 4),
    "model.0.bias": (64,),
    "model.2.weight": (128, 64, 4, 4),
    "model.3.weight": (128,),
    "model.3.bias": (128,),
    "model.3.running_mean": (128,),
    "model.3.running_var": (128,),
    "model.3.num_batches_tracked": (),
    "model.5.weight": (256, 128, 4, 4),
    "model.6.weight": (256,),
    "model.6.bias": (256,),
    "model.6.running_mean": (256,),
    "model.6.running_var": (256,),
    "model.6.num_batches_tracked": (),
    "model.8.weight": (512, 256, 4, 4),
    "model.9.weight": (512,),
    "model.9.bias": (512,),
    "model.9.running_mean": (512,),
    "model.9.running_var": (512,),
    "model.9.num_batches_tracked": (),
    "model.11.weight": (1, 512, 4, 4),
    "model.11.bias": (1,),
}


def test_basic_patchgan_matches_the_official_parameters_and_keys():
    discriminator = PatchGANDiscriminator(in_channels=6)
    assert sum(p.numel() for p in discriminator.parameters()) == 2_768_705
    assert {k: tuple(v.shape) for k, v in discriminator.state_dict().items()} == OFFICIAL_KEYS


def test_output_has_logits_and_features():
    output = PatchGANDiscriminator(in_channels=6)(torch.randn(1, 6, 256, 256))
    assert isinstance(output, DiscriminatorOutput)
    assert [tuple(t.shape) for t in output.logits] == [(1, 1, 30, 30)]
    assert [f.shape[1] for f in output.features[0]] == [64, 128, 256, 512]


def _receptive_field(discriminator: nn.Module, size: int) -> int:
    """Width of the input region that moves the centre logit: measured, not computed."""
    discriminator.eval()
    image = torch.randn(1, discriminator.in_channels, size, size, requires_grad=True)
    logits = discriminator(image).logits[0]
    h, w = logits.shape[-2:]
    logits[0, 0, h // 2, w // 2].backward()
    touched = image.grad.abs().sum(dim=(0, 1)) > 0
    columns = touched.any(dim=0).nonzero()
    rows = touched.any(dim=1).nonzero()
    assert int(rows.max() - rows.min()) == int(columns.max() - columns.min())
    return int(columns.max() - columns.min()) + 1


@pytest.mark.parametrize(("n_layers", "field", "size"), [(1, 16, 64), (3, 70, 256), (5, 286, 640)])
def test_patchgan_receptive_fields(n_layers, field, size):
    torch.manual_seed(0)
    discriminator = PatchGANDiscriminator(in_channels=6, ndf=8, n_layers=n_layers)
    assert _receptive_field(discriminator, size) == field


def test_pixelgan_sees_one_pixel():
    discriminator = PixelGANDiscriminator(in_channels=6, ndf=8)
    assert _receptive_field(discriminator, 16) == 1
    assert discriminator(torch.randn(2, 6, 16, 16)).logits[0].shape == (2, 1, 16, 16)
