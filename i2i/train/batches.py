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
    data = recipe.data
    _check_size(batch["name"], batch["A"].shape[-2:], data.load_size, data.crop_size)
    layout = torch.channels_last if recipe.train.channels_last else torch.contiguous_format
    model = recipe.model
    if kind == "unpaired":
        a = augment(to_signed_unit(batch["A"].to(device, non_blocking=True)))
        b = augment(to_signed_unit(batch["B"].to(device, non_blocking=True)))
        a, b = match_channels(a, model.in_channels), match_channels(b, model.out_channels)
        return {
            "A": a.contiguous(memory_format=layout),
            "B": b.contiguous(memory_format=layout),
        }
    input, target = training_pair(batch, recipe, device, augment)
    return {"input": input, "target": target}


def training_pair(
    batch: dict[str, Any], recipe: Recipe, device: torch.device, augment: nn.Module
) -> tuple[torch.Tensor, torch.Tensor]:
    """A collated batch as the step's (input, target): on the device, in [-1, 1], augmented."""
    data = recipe.data
    input, target = split_direction(batch, data.direction)
    _check_size(batch["name"], input.shape[-2:], data.load_size, data.crop_size)
    input = to_signed_unit(input.to(device, non_blocking=True))
    target = to_signed_unit(target.to(device, non_blocking=True))
    input, target = augment(input, target)
    input = match_channels(input, recipe.model.in_channels)
    target = match_channels(target, recipe.model.out_channels)
    layout = torch.channels_last if recipe.train.channels_last else torch.contiguous_format
    return input.contiguous(memory_format=layout), target.contiguous(memory_format=layout)


def _check_size(names: list[str], size: Any, load_size: int | None, crop_size: int) -> None:
    """Without a resize first, images smaller than the crop cannot be cropped."""
    if load_size is None and min(size) < crop_size:
        raise DataError(
            f"{', '.join(names)}: {size[1]}x{size[0]} is smaller than data.crop_size={crop_size}; "
            "set data.load_size to resize first, or lower data.crop_size"
        )
