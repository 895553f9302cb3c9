"""The PatchGAN discriminator (16/70/286-pixel patches) and the 1×1 PixelGAN."""

from __future__ import annotations

from torch import Tensor, nn

from i2i.interfaces import DiscriminatorOutput
from i2i_pix2pix.layers import Norm, conv_bias, init_weights, norm_layer


def _run(layers: nn.Sequential, image: Tensor) -> DiscriminatorOutput:
    """Run the stack, keeping every LeakyReLU activation as a feature."""
    features: list[Tensor] = []
    for layer in layers:
        image = layer(image)
        if isinstance(layer, nn.LeakyReLU):
            features.append(image)
    return DiscriminatorOutput(logits=[image], features=[features])


class PatchGANDiscriminator(nn.Module):
    """Classifies each ``N×N`` patch as real or fake (Isola et al.'s "basic" D at n_layers 3).

    One 4×4 stride-2 conv (no norm), ``n_layers-1`` more stride-2 convs widening to at most
    ``8·ndf``, one stride-1 conv, then a stride-1 conv to one logit channel; LeakyReLU(0.2)
    between. Each logit sees a patch of 16, 70 or 286 pixels for ``n_layers`` 1, 3 or 5.

    Args:
        in_channels: channels seen (input + output channels when conditional).
        ndf: channels of the first conv.
        n_layers: number of stride-2 convolutions.
        norm: ``batch`` (the paper's), ``instance`` or ``none``.

    Shape:
        ``(N, in_channels, H, W)`` → logits ``[(N, 1, h, w)]`` (30×30 for 256² at n_layers 3).
    """

    def __init__(
        self, in_channels: int = 6, ndf: int = 64, n_layers: int = 3, norm: Norm = "batch"
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        self.in_channels = in_channels
        bias = conv_bias(norm)
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        width = ndf
        for n in range(1, n_layers + 1):
            stride = 2 if n < n_layers else 1
            wider = ndf * min(2**n, 8)
            layers += [
                nn.Conv2d(width, wider, 4, stride, 1, bias=bias),
                norm_layer(norm, wider),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width = wider
        layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        # One Sequential named "model", so parameter names match the official checkpoints.
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, image: Tensor) -> DiscriminatorOutput:
        """Score every patch of ``image``."""
        return _run(self.model, image)


class PixelGANDiscriminator(nn.Module):
    """Classifies each pixel on its own (1×1 convolutions: a 1-pixel receptive field).

    Args:
        in_channels: channels seen (input + output channels when conditional).
        ndf: channels of the first conv.
        norm: ``batch``, ``instance`` or ``none``.

    Shape:
        ``(N, in_channels, H, W)`` → logits ``[(N, 1, H, W)]``.
    """

    def __init__(self, in_channels: int = 6, ndf: int = 64, norm: Norm = "batch") -> None:
        super().__init__()
        self.in_channels = in_channels
        bias = conv_bias(norm)
        self.model = nn.Sequential(
            nn.Conv2d(in_channels, ndf, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 1, bias=bias),
            norm_layer(norm, ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 1, bias=bias),
        )
        init_weights(self)

    def forward(self, image: Tensor) -> DiscriminatorOutput:
        """Score every pixel of ``image``."""
        return _run(self.model, image)
