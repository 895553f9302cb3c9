"""The timm-encoder U-Net."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import Tensor, nn


def _conv_block(source: int, target: int, norm: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for channels_in in (source, target):
        layers.append(nn.Conv2d(channels_in, target, 3, padding=1, bias=norm == "none"))
        if norm == "batch":
            layers.append(nn.BatchNorm2d(target))
        elif norm == "instance":
            layers.append(nn.InstanceNorm2d(target))
        elif norm != "none":
            raise ValueError(f"norm must be 'batch', 'instance' or 'none', got '{norm}'")
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _read_weights(path: Path) -> dict[str, Tensor]:
    """A state_dict from safetensors, or from a .pth/.bin read without unpickling objects."""
    if not path.is_file():
        raise ValueError(f"pretrained weights '{path}' not found")
    if path.suffix == ".safetensors":
        return load_file(str(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0]
        raise ValueError(
            f"'{path}' holds more than tensors and was not unpickled ({first}); "
            "convert it to a plain state_dict or .safetensors"
        ) from None
    return state.get("state_dict", state) if isinstance(state, dict) else state


class TimmUNet(nn.Module):
    """U-Net generator with a timm encoder.

    Args:
        in_channels: input image channels (the backbone's stem is adapted by timm).
        out_channels: output image channels.
        encoder: any timm model name that supports ``features_only`` (``resnet18``,
            ``convnext_tiny``, ``efficientnet_b0``, ...).
        pretrained: ``False``; ``True`` to download timm's weights (needs the network); or the
            path of a weights file (``.safetensors``, or ``.pth``/``.bin`` read with
            ``weights_only=True``) holding the backbone's state_dict.
        decoder_channels: channels of the decoder blocks, deepest first; the first
            ``len(stages)`` are used, the last is also used for the final upsampling.
        norm: normalisation in the decoder: ``batch``, ``instance`` or ``none``.

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, out_channels, H, W)`` in ``[-1, 1]``; H and W must be
        multiples of the backbone's total stride (``size_multiple``, 32 for most).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        encoder: str = "resnet18",
        pretrained: bool | str = False,
        decoder_channels: tuple[int, ...] | list[int] = (256, 128, 64, 32, 16),
        norm: str = "batch",
    ) -> None:
        super().__init__()
        # Imported here: i2i loads every plugin at start-up, and timm takes ~2 s to import.
        import timm

        self.in_channels, self.out_channels = in_channels, out_channels
        try:
            self.encoder = timm.create_model(
                encoder, features_only=True, pretrained=pretrained is True, in_chans=in_channels
            )
        except RuntimeError as error:  # timm's message for unknown names
            raise ValueError(f"timm cannot build encoder '{encoder}': {error}") from None
        if isinstance(pretrained, str):
            self._load_backbone(Path(pretrained).expanduser())
        channels = self.encoder.feature_info.channels()
        reductions = self.encoder.feature_info.reduction()
        self.size_multiple = reductions[-1]
        self.reductions = reductions
        stages = len(channels)
        if len(decoder_channels) < stages:
            raise ValueError(f"decoder_channels needs {stages} entries for '{encoder}'")
        widths = list(decoder_channels[:stages])
        self.blocks = nn.ModuleList()
        source = channels[-1]
        for index in range(stages - 1):
            skip = channels[stages - 2 - index]
            self.blocks.append(_conv_block(source + skip, widths[index], norm))
            source = widths[index]
        self.final_block = _conv_block(source, widths[-1], norm)
        self.head = nn.Conv2d(widths[-1], out_channels, 3, padding=1)

    def _load_backbone(self, path: Path) -> None:
        state = _read_weights(path)
        own = self.encoder.state_dict()
        matched = [key for key in state if key in own]
        if not matched:
            raise ValueError(f"'{path}' holds no weights of this encoder (no key matched)")
        self.encoder.load_state_dict(state, strict=False)
        self.loaded_keys = len(matched)

    @property
    def encoder_layers(self) -> int:
        """Encoder levels :meth:`features` returns beyond the input: the backbone's stages."""
        return len(self.reductions)

    def features(self, image: Tensor, layers: list[int]) -> list[Tensor]:
        """Encoder activations: level 0 the input, ``k`` the backbone's ``k``-th feature map
        (at ``reductions[k - 1]``)."""
        stages = self.encoder(image) if max(layers, default=0) > 0 else []
        found = [image, *stages]
        return [found[level] for level in layers]

    def forward(self, image: Tensor) -> Tensor:
        """Translate ``image``; sides must be multiples of ``size_multiple``."""
        features = self.encoder(image)
        x = features[-1]
        for block, skip in zip(self.blocks, reversed(features[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = block(torch.cat([x, skip], dim=1))
        x = F.interpolate(x, size=image.shape[-2:], mode="bilinear", align_corners=False)
        return torch.tanh(self.head(self.final_block(x)))
