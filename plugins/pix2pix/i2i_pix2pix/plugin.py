"""Hook implementations: what the pix2pix plugin contributes to i2i's registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from i2i import hookimpl
from i2i_pix2pix.losses import L1Loss, LSGANLoss, VanillaGANLoss
from i2i_pix2pix.official import convert_official_unet
from i2i_pix2pix.patchgan import PatchGANDiscriminator, PixelGANDiscriminator
from i2i_pix2pix.unet import UNetGenerator, encoder_decoder


@hookimpl
def i2i_generators() -> dict[str, Callable[..., Any]]:
    """The U-Net and the encoder-decoder ablation."""
    return {"unet": UNetGenerator, "encoder_decoder": encoder_decoder}


@hookimpl
def i2i_discriminators() -> dict[str, Callable[..., Any]]:
    """The PatchGAN and the PixelGAN."""
    return {"patchgan": PatchGANDiscriminator, "pixelgan": PixelGANDiscriminator}


@hookimpl
def i2i_losses() -> dict[str, Callable[..., Any]]:
    """The vanilla and least-squares GAN objectives and the L1 term."""
    return {"vanilla": VanillaGANLoss, "lsgan": LSGANLoss, "l1": L1Loss}


@hookimpl
def i2i_weight_converters() -> dict[str, Callable[..., Any]]:
    """The official implementation's U-Net checkpoints (``*_net_G.pth``)."""
    return {"official_unet": convert_official_unet}
