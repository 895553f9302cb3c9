"""The learning-rate schedule: constant, then linear decay to zero, stepped per epoch."""

from __future__ import annotations

from torch.optim import Optimizer


def lr_multiplier(epoch: int, epochs: int, epochs_decay: int, schedule: str = "paper") -> float:
    """Factor on the initial rate for 1-based ``epoch``: 1, then linear towards 0.

    ``paper``: ``1 - max(0, epoch - epochs) / (epochs_decay + 1)``, ``epochs`` epochs at the
    full rate as the paper words it. ``official``: what the authors' code runs, whose
    scheduler steps at the start of every epoch, one epoch ahead:
    ``1 - max(0, epoch + 1 - epochs) / (epochs_decay + 1)``.
    """
    ahead = 1 if schedule == "official" else 0
    return 1.0 - max(0, epoch + ahead - epochs) / float(epochs_decay + 1)


def set_lr(optimizers: list[Optimizer], lr: float) -> None:
    """Set every parameter group's rate (stateless, so a resumed run recomputes it exactly)."""
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = lr
