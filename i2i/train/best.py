"""``checkpoints/best.safetensors``: the checkpoint with the best held-out metric so far."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor

from i2i.checkpoint import write_checkpoint
from i2i.config.schema import BestConfig
from i2i.train.state import RunState

BEST_NAME = "best.safetensors"


class BestCheckpoint:
    """Tracks ``checkpoint.best``: which value is best, and replaces the file when beaten.

    The best value seen is part of the run state, so it survives a resume; a best file
    written after the last regular checkpoint (by a run killed since) counts too.
    """

    def __init__(self, config: BestConfig, folder: Path, state: RunState) -> None:
        self.metric, self.mode = config.metric, config.mode
        self.path, self.state = folder / BEST_NAME, state
        saved = _recorded(self.path.with_suffix(".json"))
        tracked = bool(self.metric) and saved.get("metric") == self.metric
        if tracked and (not state.best or self._better(saved["value"], state.best["value"])):
            state.best = saved

    def _better(self, value: float, than: float) -> bool:
        return value > than if self.mode == "max" else value < than

    def improves(self, scores: dict[str, float], step: int) -> bool:
        """True (and noted in the run state) when ``scores`` beat the best so far."""
        if not self.metric or self.metric not in scores:
            return False
        value = scores[self.metric]
        best = self.state.best
        if best.get("metric") == self.metric and not self._better(value, best["value"]):
            return False
        self.state.best = {"metric": self.metric, "value": value, "step": step}
        return True

    def save(self, tensors: dict[str, Tensor], meta: dict[str, Any]) -> Path:
        """Replace the best checkpoint (atomically, weights and run state)."""
        return write_checkpoint(self.path, tensors, {**meta, "best": dict(self.state.best)})


def _recorded(sidecar: Path) -> dict[str, Any]:
    try:
        best = json.loads(sidecar.read_text()).get("best") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return best if isinstance(best.get("value"), (int, float)) else {}
