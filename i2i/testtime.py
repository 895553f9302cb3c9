"""How a generator runs outside training: the paper's way, or plain eval mode.

The paper (and the official code) keeps G in *train* mode at test time: dropout stays on,
supplying the noise z, and BatchNorm normalises with the batch's own statistics. Doing that
naively would update BatchNorm's running statistics; :func:`generator_mode` puts them back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import torch
from torch import nn

Mode = Literal["paper", "eval"]


@contextmanager
def generator_mode(module: nn.Module, mode: Mode = "paper") -> Iterator[nn.Module]:
    """Run ``module`` under no_grad in ``mode``; its train flag and buffers are restored after."""
    if mode not in ("paper", "eval"):
        raise ValueError(f"test-time mode must be 'paper' or 'eval', got '{mode}'")
    was_training = module.training
    saved = {name: buffer.clone() for name, buffer in module.named_buffers()}
    module.train(mode == "paper")
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was_training)
        with torch.no_grad():
            for name, buffer in module.named_buffers():
                buffer.copy_(saved[name])
