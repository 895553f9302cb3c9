"""What this plugin registers with i2i."""

from __future__ import annotations

from i2i import hookimpl
from i2i_multiscale.discriminator import MultiScaleDiscriminator
from i2i_multiscale.feature_matching import FeatureMatchingLoss


@hookimpl
def i2i_discriminators() -> dict[str, type]:
    """pix2pixHD's multi-scale PatchGAN."""
    return {"multiscale": MultiScaleDiscriminator}


@hookimpl
def i2i_losses() -> dict[str, type]:
    """pix2pixHD's feature-matching term."""
    return {"feature_matching": FeatureMatchingLoss}
