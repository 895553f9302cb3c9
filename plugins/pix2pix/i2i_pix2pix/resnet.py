"""The ResNet generator of the authors' code (CycleGAN's default; usable by pix2pix too)."""

from __future__ import annotations

import functools

from torch import Tensor, nn

from i2i_pix2pix.layers import Norm, conv_bias, init_weights, norm_layer


class ResidualBlock(nn.Module):
    """``x + (pad, conv 3×3, norm, ReLU, [dropout], pad, conv 3×3, norm)(x)``."""

    def __init__(self, channels: int, norm: Norm, dropout: float, bias: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_layer(norm, channels),
            nn.ReLU(True),
        ]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_layer(norm, channels),
        ]
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """The residual connection around the block."""
        return x + self.block(x)


class ResNetGenerator(nn.Module):
    """7×7 stem, two stride-2 downsamplings, ``n_blocks`` residual blocks at ``4·ngf``, two
    transposed-conv upsamplings, 7×7 head with tanh (Johnson et al., as the authors build it).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        ngf: channels of the stem.
        n_blocks: residual blocks (9 for 256² crops, 6 for 128²).
        norm: ``instance`` (CycleGAN's), ``batch`` or ``none``.
        dropout: dropout inside each residual block (0: none, CycleGAN's default).

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, out_channels, H, W)``; H and W multiples of 4.
    """

    size_multiple = 4
    min_size = 8  # at 4 the bottleneck is 1×1, which instance statistics cannot normalise

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        ngf: int = 64,
        n_blocks: int = 9,
        norm: Norm = "instance",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be 0 or more, got {n_blocks}")
        self.in_channels, self.out_channels = in_channels, out_channels
        bias = conv_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, ngf, 7, bias=bias),
            norm_layer(norm, ngf),
            nn.ReLU(True),
        ]
        for scale in (1, 2):
            layers += [
                nn.Conv2d(ngf * scale, ngf * scale * 2, 3, 2, 1, bias=bias),
                norm_layer(norm, ngf * scale * 2),
                nn.ReLU(True),
            ]
        # where each encoder stage ends: the stem, the two down-samplings, each residual block
        self.stage_ends = [len(layers) - 6, len(layers) - 3, len(layers)]
        self.stage_ends += [len(layers) + block + 1 for block in range(n_blocks)]
        layers += [ResidualBlock(ngf * 4, norm, dropout, bias) for _ in range(n_blocks)]
        for scale in (4, 2):
            layers += [
                nn.ConvTranspose2d(ngf * scale, ngf * scale // 2, 3, 2, 1, 1, bias=bias),
                norm_layer(norm, ngf * scale // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self)

    @property
    def encoder_layers(self) -> int:
        """Encoder levels :meth:`features` returns beyond the input: the stem, two
        down-samplings and each residual block."""
        return len(self.stage_ends)

    def features(self, image: Tensor, layers: list[int]) -> list[Tensor]:
        """Encoder activations: level 0 the input, 1 the 7×7 stem, 2 and 3 the down-samplings
        (each after its ReLU), then one level per residual block."""
        found, features, done = {0: image}, image, 0
        for level in range(1, max(layers, default=0) + 1):
            end = self.stage_ends[level - 1]
            features = self.model[done:end](features)
            found[level], done = features, end
        return [found[level] for level in layers]

    def forward(self, image: Tensor) -> Tensor:
        """Translate a batch."""
        return self.model(image)


resnet_9blocks = functools.partial(ResNetGenerator, n_blocks=9)
resnet_9blocks.__doc__ = "ResNet generator with 9 residual blocks (the authors' for 256² crops)."
resnet_6blocks = functools.partial(ResNetGenerator, n_blocks=6)
resnet_6blocks.__doc__ = "ResNet generator with 6 residual blocks (the authors' for 128² crops)."
