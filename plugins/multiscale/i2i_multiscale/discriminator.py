"""The multi-scale PatchGAN of pix2pixHD."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from i2i.interfaces import DiscriminatorOutput


def _norm(norm: str, channels: int) -> nn.Module:
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'instance', 'batch' or 'none', got '{norm}'")


class _ScaleDiscriminator(nn.Module):
    """pix2pixHD's per-scale D: 4×4 convs with padding 2, each block's output kept as a feature."""

    def __init__(self, in_channels: int, ndf: int, n_layers: int, norm: str) -> None:
        super().__init__()
        blocks = [nn.Sequential(nn.Conv2d(in_channels, ndf, 4, 2, 2), nn.LeakyReLU(0.2, True))]
        width = ndf
        for n in range(1, n_layers + 1):
            wider = min(width * 2, 512)
            stride = 2 if n < n_layers else 1
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(width, wider, 4, stride, 2),
                    _norm(norm, wider),
                    nn.LeakyReLU(0.2, True),
                )
            )
            width = wider
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(width, 1, 4, 1, 2)

    def forward(self, image: Tensor) -> tuple[Tensor, list[Tensor]]:
        features = []
        for block in self.blocks:
            image = block(image)
            features.append(image)
        return self.head(image), features


class MultiScaleDiscriminator(nn.Module):
    """The same PatchGAN at ``num_scales`` scales of the image (pix2pixHD, Wang et al. 2018).

    Args:
        in_channels: channels seen (input + output channels when conditional).
        num_scales: number of scales; scale ``k`` sees the image downsampled ``2**k`` times.
        ndf: channels of each scale's first conv.
        n_layers: stride-2 convolutions per scale.
        norm: ``instance`` (pix2pixHD's), ``batch`` or ``none``.

    Shape:
        ``(N, in_channels, H, W)`` → ``num_scales`` logit maps, finest first.
    """

    def __init__(
        self,
        in_channels: int,
        num_scales: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        if num_scales < 1:
            raise ValueError(f"num_scales must be at least 1, got {num_scales}")
        self.in_channels = in_channels
        self.scales = nn.ModuleList(
            _ScaleDiscriminator(in_channels, ndf, n_layers, norm) for _ in range(num_scales)
        )
        for module in self.modules():  # pix2pixHD initialises conv weights only
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.02)

    def forward(self, image: Tensor) -> DiscriminatorOutput:
        """Score ``image`` at every scale."""
        logits, features = [], []
        for index, scale in enumerate(self.scales):
            if index:
                image = F.avg_pool2d(image, 3, stride=2, padding=1, count_include_pad=False)
            scale_logits, scale_features = scale(image)
            logits.append(scale_logits)
            features.append(scale_features)
        return DiscriminatorOutput(logits=logits, features=features)
