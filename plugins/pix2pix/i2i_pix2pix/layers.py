"""Normalisation choice and weight initialisation shared by the pix2pix networks."""

from __future__ import annotations

from typing import Literal

from torch import nn

Norm = Literal["batch", "instance", "none"]


def norm_layer(norm: Norm, channels: int) -> nn.Module:
    """BatchNorm (affine, tracked statistics), InstanceNorm (no affine, untracked) or nothing."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'instance' or 'none', got '{norm}'")


def conv_bias(norm: Norm) -> bool:
    """Convolutions feeding a BatchNorm need no bias (BN's shift replaces it)."""
    # The official code also drops the bias with norm 'none'; that leaves the convolutions with
    # no shift at all, so i2i keeps it there. With 'batch' and 'instance' both agree.
    return norm != "batch"


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """pix2pix init: conv weights ~ N(0, gain), BatchNorm weights ~ N(1, gain), biases 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, gain)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, gain)
            nn.init.zeros_(layer.bias)
