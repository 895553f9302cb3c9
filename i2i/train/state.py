"""All of a run's mutable state in one object: networks, optimisers and position.

Saving a :class:`RunState` and loading it back is all that exact resume needs beyond the
recipe: it carries the random generators too, and learning rates and the epoch order are
recomputed from step, epoch and seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from i2i.errors import CheckpointError
from i2i.methods import TrainingMethod
from i2i.train.records import WindowMeter
from i2i.train.rng import capture_rng, restore_rng


@dataclass
class RunState:
    """Networks, their optimisers, the method's own state, and how far the run has come.

    Attributes:
        parts: networks and optimisers by name (a method's roles and optimiser names),
            stored as ``<name>.<key>`` tensors.
        step: iterations completed.
        epoch: 0-based index of the epoch in progress.
        position: positions of that epoch's order already consumed, by all processes.
        method: the training method, whose extra state (an image pool, say) is stored as
            ``method.<key>`` tensors.
        window: the losses summed since the last metrics line, stored as ``window.<loss>``
            tensors, so that line's means are the same after a resume.
        best: the best held-out value seen (``{"metric", "value", "step"}``), where
            ``checkpoint.best`` tracks one.
    """

    parts: dict[str, nn.Module | Optimizer]
    step: int = 0
    epoch: int = 0
    position: int = 0
    method: TrainingMethod | None = None
    window: WindowMeter = field(default_factory=WindowMeter)
    best: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, method: TrainingMethod) -> RunState:
        """The fresh state of a run of ``method``."""
        return cls({**method.networks, **method.optimizers}, method=method)

    def __getattr__(self, name: str) -> Any:
        """A part by name: ``state.generator``, ``state.optimizer_g``."""
        parts = self.__dict__.get("parts", {})
        if name in parts:
            return parts[name]
        raise AttributeError(f"the run state has no part '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        parts = self.__dict__.get("parts")
        if parts is not None and name in parts:
            parts[name] = value  # replacing a part (state.generator = ...) keeps its key
        else:
            object.__setattr__(self, name, value)

    def _parts(self) -> dict[str, Any]:
        return self.parts

    def to_tensors(
        self, rng_by_rank: list[tuple[dict[str, Tensor], dict[str, Any]]] | None = None
    ) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """Flatten into ``{name: tensor}`` (for safetensors) and JSON-able metadata.

        ``rng_by_rank`` holds every process's :func:`capture_rng` (default: this one's).
        """
        tensors: dict[str, Tensor] = {}
        meta: dict[str, Any] = {}
        for rank, (rng_tensors, rng_meta) in enumerate(rng_by_rank or [capture_rng()]):
            prefix = rng_prefix(rank)
            tensors.update({prefix + k: v for k, v in rng_tensors.items()})
            meta.update({prefix + k: v for k, v in rng_meta.items()})
        meta.update(step=self.step, epoch=self.epoch, position=self.position)
        meta["processes"] = len(rng_by_rank or [None])
        if self.best:
            meta["best"] = dict(self.best)
        sums, counts = self.window.state()
        tensors.update({f"{WINDOW_PREFIX}{key}": value for key, value in sums.items()})
        meta.update({f"{WINDOW_PREFIX}{key}": value for key, value in counts.items()})
        if self.method is not None:
            for key, value in self.method.extra_state().items():
                tensors[f"{METHOD_PREFIX}{key}"] = value.detach().contiguous()
        for part, obj in self._parts().items():
            if obj is None:
                continue
            if isinstance(obj, nn.Module):
                for key, value in obj.state_dict().items():
                    tensors[f"{part}.{key}"] = value.detach().contiguous()
            else:
                state = obj.state_dict()
                for index, slots in state["state"].items():
                    for slot, value in slots.items():
                        value = value if torch.is_tensor(value) else torch.tensor(value)
                        tensors[f"{part}.state.{index}.{slot}"] = value.detach().contiguous()
                meta[f"{part}.param_groups"] = state["param_groups"]
        return tensors, meta

    def load_tensors(self, tensors: dict[str, Tensor], meta: dict[str, Any], rank: int = 0) -> None:
        """Restore from :meth:`to_tensors` output; mismatching shapes or parts fail clearly.

        ``rank``'s random state is restored when the checkpoint holds one; a process the
        checkpoint has none for (it was saved by fewer processes) keeps its current streams.
        """
        for part, obj in self._parts().items():
            prefix = f"{part}."
            own = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            if obj is None:
                continue
            if not isinstance(obj, nn.Module) and meta.get("optimizer_state") is False:
                continue  # an older checkpoint kept without it: the optimiser starts afresh
            try:
                if isinstance(obj, nn.Module):
                    obj.load_state_dict(own)
                else:
                    obj.load_state_dict(_optimizer_state(own, meta[f"{part}.param_groups"]))
            except (RuntimeError, KeyError, ValueError) as error:
                first = str(error).strip().splitlines()[0]
                raise CheckpointError(
                    f"checkpoint does not fit this recipe's {part}: {first}"
                ) from None
        if self.method is not None:
            own = {
                k[len(METHOD_PREFIX) :]: v
                for k, v in tensors.items()
                if k.startswith(METHOD_PREFIX)
            }
            self.method.load_extra_state(own)
        self.step, self.epoch, self.position = meta["step"], meta["epoch"], meta["position"]
        self.best = dict(meta.get("best") or {})
        self.window.load(
            {k[len(WINDOW_PREFIX) :]: v for k, v in tensors.items() if k.startswith(WINDOW_PREFIX)},
            {k[len(WINDOW_PREFIX) :]: v for k, v in meta.items() if k.startswith(WINDOW_PREFIX)},
        )
        prefix = rng_prefix(rank)
        own_tensors = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        own_meta = {k[len(prefix) :]: v for k, v in meta.items() if k.startswith(prefix)}
        if "rng.torch" in own_tensors:
            restore_rng(own_tensors, own_meta)


METHOD_PREFIX = "method."
"""Key prefix of a method's extra state in a checkpoint."""

WINDOW_PREFIX = "window."
"""Key prefix of the metrics window's partial sums and counts in a checkpoint."""


def rng_prefix(rank: int) -> str:
    """Key prefix of a process's random state: none for rank 0 (as a one-process run saves)."""
    return "" if rank == 0 else f"rank{rank}."


def _optimizer_state(tensors: dict[str, Tensor], param_groups: list[dict[str, Any]]) -> dict:
    state: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors.items():
        _, index, slot = key.split(".", 2)
        state.setdefault(int(index), {})[slot] = value
    return {"state": state, "param_groups": param_groups}
