"""Mixed precision for the training step: autocast for the passes, a gradient scaler for fp16.

``train.precision`` picks it. ``fp32`` (the default, and the only sensible choice on a CPU
without bf16 hardware, where bf16 runs about 100× slower) disables everything here. ``bf16``
autocasts the forward passes and needs no scaler. ``fp16`` autocasts and scales both losses,
so that small gradients survive, with one scaler shared by D's and G's updates.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """How the step runs its passes, backward passes and optimiser steps."""

    def __init__(self, name: str = "fp32", device_type: str = "cpu") -> None:
        self.name, self.device_type = name, device_type
        self.dtype = DTYPES[name]
        self.scaler = torch.amp.GradScaler(device_type) if name == "fp16" else None
        self._stepped = False

    def autocast(self) -> AbstractContextManager:
        """The context the forward passes and losses run in."""
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.dtype is not None)

    def backward(self, loss: Tensor) -> None:
        """Backpropagate ``loss`` (scaled for fp16)."""
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def step(self, optimizer: Optimizer) -> None:
        """Apply an update; with fp16, one whose gradients overflowed is skipped by the scaler."""
        if self.scaler is None:
            optimizer.step()
        else:
            self.scaler.step(optimizer)
            self._stepped = True

    def update(self) -> None:
        """End of an iteration: let the fp16 scale grow or shrink."""
        if self.scaler is not None and self._stepped:  # nothing to learn from skipped updates
            self.scaler.update()
        self._stepped = False

    def state_dict(self) -> dict[str, Any]:
        """The scaler's state (empty without one), for exact resume."""
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)


FP32 = Precision()
