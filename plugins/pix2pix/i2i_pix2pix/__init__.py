"""pix2pix for i2i: the networks and losses of Isola et al., "Image-to-Image Translation
with Conditional Adversarial Networks" (CVPR 2017), as in the authors' implementation.

Components (see :mod:`i2i_pix2pix.plugin`):

- generators ``unet`` (:class:`UNetGenerator`) and ``encoder_decoder`` (the same stack
  without skip connections, the paper's ablation);
- discriminators ``patchgan`` (:class:`PatchGANDiscriminator`, ``n_layers`` 1/3/5 gives
  16/70/286-pixel patches) and ``pixelgan`` (:class:`PixelGANDiscriminator`, 1×1);
- losses ``vanilla`` and ``lsgan`` (adversarial objectives) and ``l1`` (a generator term).
"""

from i2i_pix2pix.losses import L1Loss, LSGANLoss, VanillaGANLoss
from i2i_pix2pix.patchgan import PatchGANDiscriminator, PixelGANDiscriminator
from i2i_pix2pix.unet import UNetGenerator, encoder_decoder

__all__ = [
    "L1Loss",
    "LSGANLoss",
    "PatchGANDiscriminator",
    "PixelGANDiscriminator",
    "UNetGenerator",
    "VanillaGANLoss",
    "encoder_decoder",
]
