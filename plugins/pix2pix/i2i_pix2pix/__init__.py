"""pix2pix for i2i: the networks and losses of Isola et al., "Image-to-Image Translation
with Conditional Adversarial Networks" (CVPR 2017), as in the authors' implementation.

Components (see :mod:`i2i_pix2pix.plugin`):

- the training method ``pix2pix`` (:class:`Pix2PixMethod`: D step, then G step);
- generators ``unet`` (:class:`UNetGenerator`), ``encoder_decoder`` (the same stack
  without skip connections, the paper's ablation) and the authors' ResNet generators
  ``resnet_9blocks`` / ``resnet_6blocks`` (:class:`ResNetGenerator`);
- discriminators ``patchgan`` (:class:`PatchGANDiscriminator`, ``n_layers`` 1/3/5 gives
  16/70/286-pixel patches) and ``pixelgan`` (:class:`PixelGANDiscriminator`, 1×1);
- losses ``vanilla``, ``lsgan`` and ``hinge`` (adversarial objectives) and ``l1`` (a term).
"""

from i2i_pix2pix.losses import HingeGANLoss, L1Loss, LSGANLoss, VanillaGANLoss
from i2i_pix2pix.method import Pix2PixMethod
from i2i_pix2pix.patchgan import PatchGANDiscriminator, PixelGANDiscriminator
from i2i_pix2pix.resnet import ResNetGenerator
from i2i_pix2pix.unet import UNetGenerator, encoder_decoder

__all__ = [
    "HingeGANLoss",
    "L1Loss",
    "LSGANLoss",
    "Pix2PixMethod",
    "ResNetGenerator",
    "PatchGANDiscriminator",
    "PixelGANDiscriminator",
    "UNetGenerator",
    "VanillaGANLoss",
    "encoder_decoder",
]
