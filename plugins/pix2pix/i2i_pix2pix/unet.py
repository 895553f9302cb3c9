"""The pix2pix U-Net generator ("unet_256" at depth 8) and its encoder-decoder ablation."""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from i2i_pix2pix.layers import Norm, conv_bias, init_weights, norm_layer
from i2i_pix2pix.small_conv import SmallInputConv2d, SmallInputConvTranspose2d


def _width(ngf: int, level: int) -> int:
    """Channels produced by the down convolution of ``level``: ngf, 2ngf, 4ngf, then 8ngf."""
    return ngf * min(2**level, 8)


class UNetGenerator(nn.Module):
    """U-Net of Isola et al.: ``depth`` stride-2 4×4 convolutions down, as many transposed up.

    Level ``i`` (0 = outermost) encodes with ``LeakyReLU(0.2) → Conv → Norm`` (no activation
    before level 0, no norm at levels 0 and ``depth-1``) and decodes with ``ReLU → ConvT →
    Norm`` (``Tanh`` instead of norm at level 0). Each decoder level below the innermost sees
    the encoder activation of its level concatenated before the upsampled features (the skip
    connections), and dropout follows the decoder at levels 4 … depth-2 (the three 8·ngf
    blocks nearest the bottleneck at depth 8).

    Args:
        in_channels: input image channels.
        out_channels: output image channels.
        depth: number of down-sampling levels; inputs need sides divisible by ``2**depth``.
        ngf: channels of the first level; deeper levels double up to ``8·ngf``.
        norm: ``batch`` (the paper's), ``instance`` or ``none``.
        dropout: dropout probability of the middle decoder levels (0 disables it).
        skip_connections: False gives the paper's encoder-decoder ablation.

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, out_channels, H, W)`` in ``[-1, 1]``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        depth: int = 8,
        ngf: int = 64,
        norm: Norm = "batch",
        dropout: float = 0.5,
        skip_connections: bool = True,
    ) -> None:
        super().__init__()
        if not 2 <= depth <= 16:  # 16: inputs would be multiples of 65536 pixels
            raise ValueError(f"depth must be from 2 to 16, got {depth}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.depth, self.skip_connections = depth, skip_connections
        self.size_multiple = 2**depth
        bias = conv_bias(norm)
        innermost = depth - 1

        self.down = nn.ModuleList()
        for level in range(depth):
            source = in_channels if level == 0 else _width(ngf, level - 1)
            width = _width(ngf, level)
            layers: list[nn.Module] = [SmallInputConv2d(source, width, 4, 2, 1, bias=bias)]
            if 0 < level < innermost:
                layers.append(norm_layer(norm, _width(ngf, level)))
            self.down.append(nn.Sequential(*layers))

        self.up = nn.ModuleList()
        for level in range(depth):
            joined = skip_connections and level < innermost
            source = _width(ngf, level) * (2 if joined else 1)
            layers = [nn.ReLU(inplace=True)]
            if level == 0:
                layers += [SmallInputConvTranspose2d(source, out_channels, 4, 2, 1), nn.Tanh()]
            else:
                target = _width(ngf, level - 1)
                layers += [SmallInputConvTranspose2d(source, target, 4, 2, 1, bias=bias)]
                layers.append(norm_layer(norm, target))
                if dropout > 0 and 4 <= level < innermost:
                    layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        init_weights(self)

    @property
    def encoder_layers(self) -> int:
        """Encoder levels :meth:`features` returns beyond the input: one per down level."""
        return self.depth

    def features(self, image: Tensor, layers: list[int]) -> list[Tensor]:
        """Encoder activations: level 0 the input, ``k`` the output of down level ``k``
        (its convolution and norm, before the next LeakyReLU), ``(N, C, H/2^k, W/2^k)``."""
        found = {0: image}
        features = image
        for level, block in enumerate(self.down[: max(layers, default=0)], start=1):
            features = block(features if level == 1 else F.leaky_relu(features, 0.2))
            found[level] = features
        return [found[level] for level in layers]

    def forward(self, image: Tensor) -> Tensor:
        """Translate ``(N, in_channels, H, W)`` with H, W multiples of ``size_multiple``."""
        skips: list[Tensor] = []
        features = self.down[0](image)
        for block in self.down[1:]:
            # The activated features are both the next level's input and this level's skip.
            features = F.leaky_relu(features, 0.2, inplace=True)
            skips.append(features)
            features = block(features)
        features = self.up[-1](features)
        for level in range(self.depth - 2, -1, -1):
            if self.skip_connections:
                features = torch.cat([skips[level], features], dim=1)
            features = self.up[level](features)
        return features


encoder_decoder = functools.partial(UNetGenerator, skip_connections=False)
encoder_decoder.__doc__ = (
    "Encoder-decoder generator: the U-Net's stack without skip connections (the paper's ablation)."
)
