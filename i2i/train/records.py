"""What a run writes as it goes: ``metrics.jsonl`` lines and sample grids."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from i2i.data.augment import to_rgb_array
from i2i.errors import RecipeError


def require_tensorboard() -> None:
    """Fail on one line, before anything is written, when tensorboard is not installed."""
    if importlib.util.find_spec("tensorboard") is None:
        raise RecipeError(
            "log.tensorboard: the tensorboard package is not installed; "
            "pip install 'i2i[tensorboard]' or set log.tensorboard=false"
        )


def tensorboard_writer(folder: Path) -> Any:
    """A TensorBoard ``SummaryWriter`` writing into ``folder``."""
    require_tensorboard()
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(folder))


class MetricsLog:
    """Appends one JSON object per line; each line carries ``step`` and wall ``time``.

    With a TensorBoard writer, every numeric value is also written as a scalar. Without a
    path (processes other than rank 0) nothing is written.
    """

    def __init__(self, path: Path | None, board: Any = None) -> None:
        self.path, self.board = path, board
        self._stream = path.open("a", buffering=1) if path is not None else None

    def write(self, step: int, **values: Any) -> None:
        """Append a line for ``step``; floats are rounded to 6 significant digits."""
        record = {"step": step, "time": round(time.time(), 3)}
        for key, value in values.items():
            value = value.item() if torch.is_tensor(value) else value
            record[key] = float(f"{value:.6g}") if isinstance(value, float) else value
        if self._stream is None:
            return
        self._stream.write(json.dumps(record) + "\n")
        if self.board is not None:
            for key, value in record.items():
                if key not in ("step", "time") and isinstance(value, (int, float)):
                    self.board.add_scalar(key, value, step)

    def close(self) -> None:
        """Flush and close the file (and the TensorBoard writer)."""
        if self._stream is not None:
            self._stream.close()
        if self.board is not None:
            self.board.close()


class WindowMeter:
    """Means of the losses since the last report, and the iteration rate over that window.

    Losses stay on the device as tensors until reported, so logging costs no sync per step.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start a new window."""
        self.sums: dict[str, Tensor] = {}
        self.steps, self.images, self.started = 0, 0, time.perf_counter()

    def add(self, losses: dict[str, Tensor], images: int) -> None:
        """Count one iteration over ``images`` pairs."""
        for key, value in losses.items():
            self.sums[key] = self.sums[key] + value if key in self.sums else value.clone()
        self.steps += 1
        self.images += images

    def report(self) -> dict[str, float]:
        """Window means (``loss/<name>``) and throughput; then starts a new window."""
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        values = {f"loss/{key}": (total / self.steps).item() for key, total in self.sums.items()}
        values["it_per_s"] = self.steps / elapsed
        values["img_per_s"] = self.images / elapsed
        self.reset()
        return values


def save_grid(path: Path, rows: list[tuple[Tensor, Tensor, Tensor]]) -> None:
    """Save ``input | output | target`` rows (float ``[-1, 1]``, ``(C, H, W)``) as one PNG."""
    grid = np.concatenate(
        [np.concatenate([to_rgb_array(image) for image in images], axis=1) for images in rows]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(path)
