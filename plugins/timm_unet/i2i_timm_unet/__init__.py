"""A U-Net generator whose encoder is any timm backbone (``features_only``), for i2i.

The decoder is built from the backbone's ``feature_info``: one block per encoder stage,
upsampling by the stage's stride and joining that stage's features, then upsampling the rest
of the way to the input resolution.
"""

from i2i_timm_unet.generator import TimmUNet

__all__ = ["TimmUNet"]
