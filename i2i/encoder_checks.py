"""The contract of a generator's optional ``features`` (used by :mod:`i2i.testing`)."""

from __future__ import annotations

from typing import Any

import torch

from i2i.interfaces import encoder_features


def check_features(generator: Any, image: torch.Tensor, what: str) -> None:
    """Every encoder level from 0 to ``encoder_layers``: a ``(N, C, h, w)`` tensor, level 0
    the input itself, asked in any order; the deepest passes gradients to the input."""
    from i2i.testing import ContractError

    top = getattr(generator, "encoder_layers", None)
    if not isinstance(top, int) or top < 1:
        raise ContractError(f"{what}: features() needs an encoder_layers attribute ≥ 1")
    levels = list(range(top, -1, -1))  # deepest first: the order asked must be kept
    image = image.detach().requires_grad_(True)
    found = encoder_features(generator, image, levels)
    if len(found) != len(levels):
        raise ContractError(f"{what}: features() gave {len(found)} tensors for {len(levels)}")
    for level, tensor in zip(levels, found):
        shape = tuple(tensor.shape) if torch.is_tensor(tensor) else type(tensor).__name__
        if not (torch.is_tensor(tensor) and tensor.dim() == 4 and tensor.shape[0] == len(image)):
            raise ContractError(f"{what}: encoder level {level} must be (N, C, h, w), got {shape}")
    if not torch.equal(found[-1], image):
        raise ContractError(f"{what}: encoder level 0 must be the input itself")
    (gradient,) = torch.autograd.grad(found[0].float().mean(), image, allow_unused=True)
    if gradient is None or not bool(gradient.abs().sum() > 0):
        raise ContractError(f"{what}: encoder level {top} passes no gradient to the input")
