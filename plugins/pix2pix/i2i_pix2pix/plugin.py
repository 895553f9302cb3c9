"""Hook implementations: what the pix2pix plugin contributes to i2i's registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from i2i import hookimpl
from i2i_pix2pix.losses import HingeGANLoss, L1Loss, LSGANLoss, VanillaGANLoss
from i2i_pix2pix.method import Pix2PixMethod
from i2i_pix2pix.official import convert_official_unet
from i2i_pix2pix.patchgan import PatchGANDiscriminator, PixelGANDiscriminator
from i2i_pix2pix.resnet import resnet_6blocks, resnet_9blocks
from i2i_pix2pix.unet import UNetGenerator, encoder_decoder


@hookimpl
def i2i_methods() -> dict[str, Callable[..., Any]]:
    """The paper's training method: D step, then G step, on paired batches."""
    return {"pix2pix": Pix2PixMethod}


@hookimpl
def i2i_generators() -> dict[str, Callable[..., Any]]:
    """The U-Net, the encoder-decoder ablation and the authors' ResNet generators."""
    return {
        "unet": UNetGenerator,
        "encoder_decoder": encoder_decoder,
        "resnet_9blocks": resnet_9blocks,
        "resnet_6blocks": resnet_6blocks,
    }


@hookimpl
def i2i_discriminators() -> dict[str, Callable[..., Any]]:
    """The PatchGAN and the PixelGAN."""
    return {"patchgan": PatchGANDiscriminator, "pixelgan": PixelGANDiscriminator}


@hookimpl
def i2i_losses() -> dict[str, Callable[..., Any]]:
    """The vanilla, least-squares and hinge GAN objectives and the L1 term."""
    return {"vanilla": VanillaGANLoss, "lsgan": LSGANLoss, "hinge": HingeGANLoss, "l1": L1Loss}


@hookimpl
def i2i_weight_converters() -> dict[str, Callable[..., Any]]:
    """The official implementation's U-Net checkpoints (``*_net_G.pth``)."""
    return {"official_unet": convert_official_unet}
