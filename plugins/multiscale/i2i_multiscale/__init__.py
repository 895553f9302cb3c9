"""pix2pixHD's multi-scale discriminator and feature-matching loss, as an i2i plugin.

``multiscale`` runs the same PatchGAN design at ``num_scales`` image scales (each half the
size of the previous, by 3×3 average pooling), returning one logit map and one feature list
per scale. ``feature_matching`` is the L1 distance between D's features on the generated and
on the real image, averaged over scales and layers with pix2pixHD's weights.
"""

from i2i_multiscale.discriminator import MultiScaleDiscriminator
from i2i_multiscale.feature_matching import FeatureMatchingLoss

__all__ = ["FeatureMatchingLoss", "MultiScaleDiscriminator"]
