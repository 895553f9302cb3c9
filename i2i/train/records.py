"""What a run writes as it goes: ``metrics.jsonl`` lines and sample grids."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from i2i.data.augment import to_rgb_array
from i2i.data.images import FAST_PNG
from i2i.files import open_for_appending, write_atomic, writing


class MetricsLog:
    """Appends one JSON object per line; each line carries ``step`` and wall ``time``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with writing(path):
            self._stream = open_for_appending(path)

    def write(self, step: int, **values: Any) -> None:
        """Append a line for ``step``; floats are rounded to 6 significant digits."""
        record = {"step": step, "time": round(time.time(), 3)}
        for key, value in values.items():
            value = value.item() if torch.is_tensor(value) else value
            record[key] = float(f"{value:.6g}") if isinstance(value, float) else value
        with writing(self.path):
            self._stream.write(json.dumps(record) + "\n")

    def close(self) -> None:
        """Flush and close the file."""
        with contextlib.suppress(OSError):  # a full disk was reported by the write
            self._stream.close()


class WindowMeter:
    """Means of the losses since the last report, and the iteration rate over that window.

    Losses stay on the device as tensors until reported, so logging costs no sync per step.
    The partial sums are part of a run's state (:meth:`state` / :meth:`load`), so the first
    window after a resume has the same means as in an uninterrupted run; the rate counts
    only the steps this process timed.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start a new window."""
        self.sums: dict[str, Tensor] = {}
        self.steps, self.images = 0, 0
        self.restart_clock()

    def restart_clock(self) -> None:
        """Time the rate from now on (after a preview, or when a resumed run starts)."""
        self.timed_steps, self.timed_images, self.started = 0, 0, time.perf_counter()

    def add(self, losses: dict[str, Tensor], images: int) -> None:
        """Count one iteration over ``images`` pairs."""
        for key, value in losses.items():
            # .to: sums restored from a checkpoint arrive on the CPU (a no-op once moved)
            self.sums[key] = (
                self.sums[key].to(value.device) + value if key in self.sums else value.clone()
            )
        self.steps += 1
        self.images += images
        self.timed_steps += 1
        self.timed_images += images

    def report(self) -> dict[str, float]:
        """Window means (``loss/<name>``) and throughput; then starts a new window."""
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        values = {f"loss/{key}": (total / self.steps).item() for key, total in self.sums.items()}
        values["it_per_s"] = self.timed_steps / elapsed
        values["img_per_s"] = self.timed_images / elapsed
        self.reset()
        return values

    def state(self) -> tuple[dict[str, Tensor], dict[str, int]]:
        """The partial sums as tensors, and the counts, for a checkpoint."""
        sums = {key: value.detach().cpu().contiguous() for key, value in self.sums.items()}
        return sums, {"steps": self.steps, "images": self.images}

    def load(self, sums: dict[str, Tensor], counts: dict[str, int]) -> None:
        """Continue the window :meth:`state` saved."""
        self.sums = dict(sums)
        self.steps, self.images = int(counts.get("steps", 0)), int(counts.get("images", 0))
        self.restart_clock()


def save_grid(
    path: Path,
    rows: list[tuple[Tensor, ...]],
    labels: tuple[str, ...] = ("input", "output", "target"),
) -> None:
    """Save rows of images (float ``[-1, 1]``, ``(C, H, W)``) as one PNG, each column
    labelled at the top (``input | output | target``)."""
    grid = np.concatenate(
        [np.concatenate([to_rgb_array(image) for image in images], axis=1) for images in rows]
    )
    width = rows[0][0].shape[-1] if rows else 0
    header = Image.new("RGB", (grid.shape[1], LABEL_HEIGHT), "white")
    draw = ImageDraw.Draw(header)
    for column, label in enumerate(labels):
        draw.text((column * width + 4, 3), fitted(draw, label, width - 8), fill=(20, 20, 20))
    canvas = Image.new("RGB", (grid.shape[1], grid.shape[0] + LABEL_HEIGHT), "white")
    canvas.paste(header, (0, 0))
    canvas.paste(Image.fromarray(grid), (0, LABEL_HEIGHT))
    write_atomic(path, lambda name: canvas.save(name, format="PNG", **FAST_PNG))


def fitted(draw: ImageDraw.ImageDraw, label: str, room: float) -> str:
    """``label``, cut short with an ellipsis where it is wider than its column (its first
    letter alone in a column too narrow even for that)."""
    if draw.textlength(label) <= room:
        return label
    short = label
    while len(short) > 1 and draw.textlength(short + "…") > room:
        short = short[:-1]
    return short + "…" if draw.textlength(short + "…") <= room else label[:1]


LABEL_HEIGHT = 16
"""Pixels of the label strip above a sample grid's columns."""
