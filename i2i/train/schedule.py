"""The learning-rate schedule: constant, then linear decay to zero, stepped per epoch."""

from __future__ import annotations

from torch.optim import Optimizer


def lr_multiplier(epoch: int, epochs: int, epochs_decay: int) -> float:
    """Factor on the initial rate for 1-based ``epoch``: 1 for ``epochs``, then linear to 0.

    As in the official implementation: ``1 - max(0, epoch - epochs) / (epochs_decay + 1)``.
    """
    return 1.0 - max(0, epoch - epochs) / float(epochs_decay + 1)


def set_lr(optimizers: list[Optimizer], lr: float) -> None:
    """Set every parameter group's rate (stateless, so a resumed run recomputes it exactly)."""
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = lr
