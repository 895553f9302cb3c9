"""Training on several processes under torchrun: one process group, DDP, agreed decisions.

``torchrun --nproc-per-node N -m i2i run RECIPE`` starts N copies of ``i2i run``; each reads
its place from the environment torchrun sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``).
A recipe describes the math, not the process count: ``data.batch_size`` is the global batch,
split evenly over the processes, and with ``train.sync_batchnorm`` BatchNorm normalises over
that global batch, so N processes compute what one process would.

Without torchrun's variables (or with ``WORLD_SIZE=1``) everything here is a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from i2i.errors import I2IError, RecipeError

T = TypeVar("T")


@dataclass(frozen=True)
class Processes:
    """This process's place among those training together."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0 writes the run: logs, samples, checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process trains."""
        return self.world > 1


SINGLE = Processes()


def from_environment() -> Processes:
    """Read torchrun's ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` (a single process without them)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise RecipeError(
            "RANK, WORLD_SIZE and LOCAL_RANK must be integers; start i2i with torchrun"
        ) from None
    return Processes(rank, world, local_rank)


def join(processes: Processes, device: torch.device) -> torch.device:
    """Join the process group (NCCL for CUDA, gloo for CPU); returns this process's device."""
    if not processes.distributed:
        return device
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if processes.local_rank >= count:
            raise RecipeError(
                f"process {processes.local_rank} on this node has no GPU ({count} found); "
                f"use --nproc-per-node {count} or fewer"
            )
        device = torch.device("cuda", processes.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def leave() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def decided_by_main(processes: Processes, decide: Callable[[], T]) -> T:
    """Run ``decide`` on rank 0 only and give every rank its result, or its error.

    For choices that touch the file system (a fresh run directory), where ranks deciding
    apart could disagree; an error is raised on every rank so none waits forever.
    """
    if not processes.distributed:
        return decide()
    box: list[object] = [None]
    if processes.main:
        try:
            box[0] = ("ok", decide())
        except I2IError as error:
            box[0] = ("error", error)
    dist.broadcast_object_list(box, src=0)
    outcome, value = box[0]  # type: ignore[misc]
    if outcome == "error":
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]


def local_batch_size(batch_size: int, processes: Processes) -> int:
    """Each process's share of the global ``data.batch_size``."""
    if batch_size % processes.world:
        raise RecipeError(
            f"data.batch_size={batch_size} cannot be split evenly over {processes.world} "
            f"processes; set data.batch_size to a multiple of {processes.world}"
        )
    return batch_size // processes.world


def wrap_for_training(networks: dict[str, nn.Module], device: torch.device) -> dict[str, nn.Module]:
    """Each network inside DistributedDataParallel, which averages its gradients."""
    ids = [device.index] if device.type == "cuda" else None
    return {role: DistributedDataParallel(n, device_ids=ids) for role, n in networks.items()}


def unwrapped(module: nn.Module) -> nn.Module:
    """The network inside a DistributedDataParallel wrapper (or the module itself)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def mean_over_processes(values: Tensor) -> Tensor:
    """The element-wise mean of ``values`` over all processes (itself when alone)."""
    if not (dist.is_available() and dist.is_initialized()):
        return values
    values = values.clone()
    dist.all_reduce(values)
    return values / dist.get_world_size()


def all_processes(flag: bool, device: torch.device) -> bool:
    """True only when ``flag`` is true on every process (so all take the same branch)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())


def gather_objects(value: T, processes: Processes) -> list[T]:
    """``value`` from every rank, in rank order (``[value]`` when alone)."""
    if not processes.distributed:
        return [value]
    gathered: list[T] = [None] * processes.world  # type: ignore[list-item]
    dist.all_gather_object(gathered, value)
    return gathered


def any_process(flag: bool, device: torch.device) -> bool:
    """True when ``flag`` is true on at least one process."""
    return not all_processes(not flag, device)
