"""Paired augmentation on the training device, with kornia, on whole batches.

The resize to ``data.load_size`` is the same for every pair (torch's antialiased bicubic,
closest to the official PIL preprocessing); the random crop and flip are drawn once per
sample and applied to A and B alike: ``AugmentationSequential(..., data_keys=["input",
"input"])`` shares the parameters.
"""

from __future__ import annotations

from typing import Any

import kornia.augmentation as K
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from i2i.data.loader import split_direction

_LUMA = (0.299, 0.587, 0.114)


def to_signed_unit(image: Tensor) -> Tensor:
    """uint8 ``[0, 255]``, uint16 ``[0, 65535]`` or float ``[0, 1]`` → float ``[-1, 1]``."""
    if image.is_floating_point():
        return image.float().mul(2.0).sub_(1.0)
    half = 32767.5 if image.dtype == torch.uint16 else 127.5
    return image.float().div_(half).sub_(1.0)


def to_uint8(image: Tensor) -> Tensor:
    """float ``[-1, 1]`` → uint8 ``[0, 255]``."""
    return ((image.detach().clamp(-1, 1) + 1) * 127.5).round_().to(torch.uint8)


def to_rgb_array(image: Tensor) -> np.ndarray:
    """A ``(C, H, W)`` float ``[-1, 1]`` image as an ``(H, W, 3)`` uint8 array, ready for PIL."""
    rgb = to_uint8(match_channels(image.unsqueeze(0), 3)[0])
    return np.ascontiguousarray(rgb.permute(1, 2, 0).cpu().numpy())


def match_channels(image: Tensor, channels: int) -> Tensor:
    """Convert ``(N, C, H, W)`` to ``channels`` (RGB ↔ grey); other mismatches are errors."""
    have = image.shape[1]
    if have == channels:
        return image
    if have == 3 and channels == 1:
        weights = torch.tensor(_LUMA, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
        return (image * weights).sum(1, keepdim=True)
    if have == 1 and channels == 3:
        return image.expand(-1, 3, -1, -1)
    raise ValueError(f"cannot convert {have}-channel images to {channels} channels")


def random_ops(load_size: int | None, crop_size: int, flip: bool) -> list[nn.Module]:
    """The random part of training augmentation: the crop (unless the resize gives the crop
    size already) and the horizontal flip."""
    ops: list[nn.Module] = []
    if load_size != crop_size:
        ops.append(K.RandomCrop((crop_size, crop_size)))
    if flip:
        ops.append(K.RandomHorizontalFlip())
    return ops


class PairedAugmentation(nn.Module):
    """Resize, random crop and random flip, one draw per sample shared by input and target.

    Args:
        load_size: resize to ``load_size²`` first (None: keep the size).
        crop_size: random crop to ``crop_size²`` (skipped when equal to the resized size).
        flip: random horizontal flip with probability 0.5.

    Shape:
        input, target: ``(N, C, H, W)`` float in ``[-1, 1]``, same N, H, W.
        returns: the two augmented batches, ``(N, C, crop_size, crop_size)``.
    """

    def __init__(self, load_size: int | None, crop_size: int, flip: bool) -> None:
        super().__init__()
        self.load_size = load_size
        ops = random_ops(load_size, crop_size, flip)
        self.pipeline = (
            K.AugmentationSequential(*ops, data_keys=["input", "input"]) if ops else None
        )

    def forward(self, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """Augment a batch of pairs."""
        if self.load_size is not None:  # not random: one resize of A and B together
            both = resize_square(torch.cat([input, target], dim=1), self.load_size)
            input, target = both.split([input.shape[1], target.shape[1]], dim=1)
        if self.pipeline is None:
            return input, target
        return self.pipeline(input, target)


class ImageAugmentation(nn.Module):
    """Resize, random crop and random flip of single images, each with its own draw.

    For unpaired data, where A and B are unrelated and nothing is shared between them.

    Shape:
        ``(N, C, H, W)`` float in ``[-1, 1]`` → ``(N, C, crop_size, crop_size)``.
    """

    def __init__(self, load_size: int | None, crop_size: int, flip: bool) -> None:
        super().__init__()
        self.load_size = load_size
        ops = random_ops(load_size, crop_size, flip)
        self.pipeline = K.AugmentationSequential(*ops) if ops else None

    def forward(self, image: Tensor) -> Tensor:
        """Augment a batch of images."""
        if self.load_size is not None:
            image = resize_square(image, self.load_size)
        return image if self.pipeline is None else self.pipeline(image)


def resize_square(image: Tensor, size: int) -> Tensor:
    """Resize a ``[-1, 1]`` batch to ``size²``: bicubic, antialiased, clamped to ``[-1, 1]``.

    This is torch's antialiased bicubic, which follows PIL's (the official preprocessing):
    on the maps pairs it is 0.19-0.28 grey levels from the authors' PIL path on average and
    3.5-4.1 at most (that path rounds to 8 bits between its resize passes; this one does not),
    where kornia's ``Resize(antialias=True)`` was 2.7 off on average (30 at most) and 5×
    slower.
    """
    if image.shape[-2:] == (size, size):
        return image
    resized = F.interpolate(
        image, (size, size), mode="bicubic", antialias=True, align_corners=False
    )
    return resized.clamp_(-1, 1)


class EvalTransform(nn.Module):
    """The paper's test-time preprocessing: resize both images to ``crop_size²``, no randomness."""

    def __init__(self, crop_size: int) -> None:
        super().__init__()
        self.size = crop_size

    def forward(self, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """Resize a batch of pairs."""
        return resize_square(input, self.size), resize_square(target, self.size)


def held_out_pairs(
    batch: dict, direction: str, size: int | None, channels: tuple[int, int], device: Any
) -> tuple[Tensor, Tensor]:
    """A collated batch as test-time (input, target): direction, [-1, 1], resize, channels."""
    input, target = split_direction(batch, direction)
    input, target = to_signed_unit(input.to(device)), to_signed_unit(target.to(device))
    if size is not None:
        input, target = EvalTransform(size)(input, target)
    return match_channels(input, channels[0]), match_channels(target, channels[1])
