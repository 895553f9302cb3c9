"""How a generator runs outside training: the paper's way, or plain eval mode.

The paper (and the official code) keeps G in *train* mode at test time: dropout stays on,
supplying the noise z, and BatchNorm normalises with the batch's own statistics. Doing that
naively would update BatchNorm's running statistics; :func:`generator_mode` puts them back.

The paper tests one image at a time, so "the batch's own statistics" are each image's. In
paper mode every BatchNorm here normalises each image by its own statistics, whatever the
batch size: a batch of 8 gives the 8 images that 8 single-image passes would give, faster.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

Mode = Literal["paper", "eval"]


@contextmanager
def generator_mode(module: nn.Module, mode: Mode = "paper") -> Iterator[nn.Module]:
    """Run ``module`` under no_grad in ``mode``; its train flag and buffers are restored after."""
    if mode not in ("paper", "eval"):
        raise ValueError(f"test-time mode must be 'paper' or 'eval', got '{mode}'")
    was_training = module.training
    saved = {name: buffer.clone() for name, buffer in module.named_buffers()}
    module.train(mode == "paper")
    norms = [m for m in module.modules() if isinstance(m, _BatchNorm)] if mode == "paper" else []
    try:
        with torch.no_grad(), replaced_forward(norms, _per_image_statistics):
            yield module
    finally:
        module.train(was_training)
        with torch.no_grad():
            for name, buffer in module.named_buffers():
                buffer.copy_(saved[name])


@contextmanager
def replaced_forward(
    modules: list[nn.Module], forward: Callable[[Any, Tensor], Tensor]
) -> Iterator[None]:
    """Within the block each of ``modules`` runs ``forward(module, input)`` instead of its own."""
    for module in modules:
        module.forward = functools.partial(forward, module)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for module in modules:
            del module.forward


def _per_image_statistics(norm: _BatchNorm, input: Tensor) -> Tensor:
    """BatchNorm in train mode as a batch of one image computes it, for each image alone."""
    return F.instance_norm(
        input, weight=norm.weight, bias=norm.bias, use_input_stats=True, eps=norm.eps
    )
