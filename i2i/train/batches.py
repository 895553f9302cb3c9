"""A loader batch made ready for a method's step: on the device, in [-1, 1], augmented."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from i2i.config.schema import Recipe
from i2i.data.augment import match_channels, to_signed_unit
from i2i.data.loader import split_direction
from i2i.errors import DataError


def training_batch(
    batch: dict[str, Any], recipe: Recipe, device: torch.device, augment: nn.Module, kind: str
) -> dict[str, torch.Tensor]:
    """A collated batch as the method's: on the device, in [-1, 1], augmented.

    Paired: ``{"input", "target"}`` in ``data.direction``'s order, one draw per pair.
    Unpaired: ``{"A", "B"}``, each side with its own draw.
    """
    data, model = recipe.data, recipe.model
    paired = kind != "unpaired"
    first, second = split_direction(batch, data.direction) if paired else (batch["A"], batch["B"])
    for images in (first, second) if not paired else (first,):
        _check_size(batch["name"], images.shape[-2:], data.load_size, data.crop_size)
    _check_channels(batch["name"], first.shape[1], model.in_channels, "in_channels")
    _check_channels(batch["name"], second.shape[1], model.out_channels, "out_channels")
    first = to_signed_unit(first.to(device, non_blocking=True))
    second = to_signed_unit(second.to(device, non_blocking=True))
    first, second = augment(first, second) if paired else (augment(first), augment(second))
    first = match_channels(first, model.in_channels)
    second = match_channels(second, model.out_channels)
    layout = torch.channels_last if recipe.train.channels_last else torch.contiguous_format
    keys = ("input", "target") if paired else ("A", "B")
    return {
        keys[0]: first.contiguous(memory_format=layout),
        keys[1]: second.contiguous(memory_format=layout),
    }


def _check_size(names: list[str], size: Any, load_size: int | None, crop_size: int) -> None:
    """Without a resize first, images smaller than the crop cannot be cropped."""
    if load_size is None and min(size) < crop_size:
        raise DataError(
            f"{', '.join(names)}: {size[1]}x{size[0]} is smaller than data.crop_size={crop_size}; "
            "set data.load_size to resize first, or lower data.crop_size"
        )


def _check_channels(names: list[str], have: int, want: int, key: str) -> None:
    """Every pair, not only the first, must have channels the model takes (grey ↔ RGB)."""
    if have != want and {have, want} != {1, 3}:
        raise DataError(
            f"{', '.join(names)}: {have}-channel images, but model.{key} is {want} (as the "
            "data's first pair had); give every image of the dataset the same channels"
        )
