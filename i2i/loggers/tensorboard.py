"""TensorBoard: scalars and sample grids in event files, for ``tensorboard --logdir``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from i2i.loggers.common import require
from i2i.train.events import Outcome, RunInfo, Subscriber


class TensorBoardLogger(Subscriber):
    """Every logged value as a scalar, and each sample grid as an image.

    Args:
        dir: Folder of the event files; default: the run folder's ``tensorboard``.
        images: Also write the sample grids.
    """

    def __init__(self, dir: str | None = None, images: bool = True) -> None:  # noqa: A002
        require("tensorboard", "tensorboard")
        self.dir, self.images = dir, images
        self.writer: Any = None

    def run_started(self, run: RunInfo) -> None:
        """Open the event file (a resumed run adds a new one to the same folder)."""
        from torch.utils.tensorboard import SummaryWriter

        folder = Path(self.dir).expanduser() if self.dir else run.run_dir / "tensorboard"
        self.writer = SummaryWriter(log_dir=str(folder))

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """One scalar per value."""
        for key, value in values.items():
            self.writer.add_scalar(key, value, step)

    def preview(self, step: int, grid: Path, scores: Mapping[str, float]) -> None:
        """The held-out scores, and the grid."""
        self.scalars(step, scores)
        if self.images:
            with Image.open(grid) as image:
                pixels = np.asarray(image.convert("RGB"))
            self.writer.add_image("samples", pixels, step, dataformats="HWC")

    def run_ended(self, outcome: Outcome, last: Path | None) -> None:
        """Flush and close the event file."""
        if self.writer is not None:
            self.writer.close()
