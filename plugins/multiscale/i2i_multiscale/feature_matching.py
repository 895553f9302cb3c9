"""pix2pixHD's feature-matching loss, a generator term of i2i."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from i2i.interfaces import LossInputs


class FeatureMatchingLoss(nn.Module):
    """L1 between D's features on G(x) and on the real image, per scale and layer.

    Each scale's layers are weighted ``4 / layers`` and scales are averaged, as in pix2pixHD
    (use the term's ``weight`` for its λ, 10 there). The real features come from the same
    iteration's D step and carry no gradient.
    """

    def forward(self, inputs: LossInputs) -> Tensor:
        """The feature-matching distance; needs a trained discriminator."""
        if inputs.fake is None or inputs.real is None:
            raise ValueError(
                "feature_matching needs a discriminator: set loss.adversarial.weight > 0"
            )
        scales = list(zip(inputs.fake.features, inputs.real.features))
        total = inputs.output.new_zeros(())
        for fake_features, real_features in scales:
            if not fake_features:
                continue
            layer_weight = 4.0 / len(fake_features)
            for fake, real in zip(fake_features, real_features):
                total = total + layer_weight * F.l1_loss(fake, real.detach())
        return total / len(scales)
