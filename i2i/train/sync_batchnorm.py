"""BatchNorm whose batch statistics span every process: the global batch, on CPU and GPU.

torch's ``nn.SyncBatchNorm`` refuses CPU tensors, and CPU training with gloo is how the
distributed path is tested, so i2i carries its own: the per-channel sum, then the sum of
squared deviations, are summed over processes by an all-reduce whose backward sums
the gradients the same way. Two passes (mean first) keep the variance as exact
as a single process computing it directly.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


class _SumOverProcesses(torch.autograd.Function):
    """All-reduce (sum) whose backward sums the incoming gradients over processes too."""

    @staticmethod
    def forward(ctx: object, tensor: Tensor) -> Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: object, grad: Tensor) -> Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


def _sum_over_processes(tensor: Tensor) -> Tensor:
    return _SumOverProcesses.apply(tensor)


class GlobalBatchNorm(nn.BatchNorm2d):
    """``BatchNorm`` over the union of every process's batch (any input rank ≥ 2).

    A subclass of ``nn.BatchNorm2d`` with the same parameters and buffers, so checkpoints
    and isinstance checks are unchanged. In eval mode, or alone, it is plain BatchNorm.
    (Sample grids, which rank 0 makes alone, run G in paper or eval mode: neither syncs.)
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input, got {input.dim()}-D")

    def forward(self, input: Tensor) -> Tensor:
        """Normalise with statistics over all processes' batches while training."""
        together = (
            self.training
            and dist.is_available()
            and dist.is_initialized()
            and dist.get_world_size() > 1
        )
        if not together:
            return super().forward(input)
        dims = [0, *range(2, input.dim())]
        shape = [1, -1] + [1] * (input.dim() - 2)
        local_count = input.numel() // input.shape[1]
        totals = _sum_over_processes(
            torch.cat([input.sum(dims), input.new_tensor([float(local_count)])])
        )
        count = totals[-1]
        mean = totals[:-1] / count
        centred = input - mean.view(shape)
        variance = _sum_over_processes(centred.square().sum(dims)) / count
        output = centred * torch.rsqrt(variance + self.eps).view(shape)
        if self.affine:
            output = output * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), variance.detach(), count.detach())
        return output

    @torch.no_grad()
    def _update_running_stats(self, mean: Tensor, variance: Tensor, count: Tensor) -> None:
        self.num_batches_tracked.add_(1)
        momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        unbiased = variance * count / (count - 1).clamp(min=1)
        self.running_mean.lerp_(mean, momentum)
        self.running_var.lerp_(unbiased, momentum)


def to_global_batchnorm(module: nn.Module) -> int:
    """Replace every BatchNorm in ``module`` by :class:`GlobalBatchNorm`, in place.

    The replacements share the originals' parameter and buffer tensors, so optimisers built
    beforehand still hold the right ones. Returns how many were replaced.
    """
    replaced = 0
    for name, child in module.named_children():
        if isinstance(child, _BatchNorm) and not isinstance(child, GlobalBatchNorm):
            setattr(module, name, _global_copy(child))
            replaced += 1
        else:
            replaced += to_global_batchnorm(child)
    return replaced


def _global_copy(norm: _BatchNorm) -> GlobalBatchNorm:
    copy = GlobalBatchNorm(norm.num_features, norm.eps, norm.momentum, False, False)
    copy.affine, copy.track_running_stats = norm.affine, norm.track_running_stats
    copy.weight, copy.bias = norm.weight, norm.bias
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        copy.register_buffer(name, getattr(norm, name))
    copy.train(norm.training)
    return copy
