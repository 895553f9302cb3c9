"""Held-out pairs the run is shown on: sample grids and held-out metrics at fixed steps."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from i2i.data.augment import held_out_pairs
from i2i.data.loader import collate_pairs
from i2i.evaluation.metrics import pair_metrics
from i2i.evaluation.palette import Palette, PaletteScore
from i2i.interfaces import PairedDataset
from i2i.methods import TrainingMethod
from i2i.testtime import Mode, generator_mode
from i2i.train.records import save_grid


class Preview:
    """The first ``count`` pairs of a held-out split, prepared once on the device.

    Each :meth:`run` translates them with a fixed dropout seed (so grids at different steps
    are comparable and the training RNG stream is untouched) and returns the mean L1.
    """

    def __init__(
        self,
        dataset: PairedDataset,
        count: int,
        direction: str,
        crop_size: int,
        channels: tuple[int, int],
        device: torch.device,
        seed: int,
        palette: Palette | None = None,
        paired: bool = True,
    ) -> None:
        samples = [dataset[i] for i in range(min(count, len(dataset)))]
        batch = collate_pairs(samples, paired=paired)  # both sides are resized to crop_size
        self.input, self.target = held_out_pairs(batch, direction, crop_size, channels, device)
        self.device, self.seed, self.direction = device, seed, direction
        self.palette, self.paired = palette, paired
        # unpaired folders hold unrelated A and B images: comparing them would mean nothing
        self.aligned = paired or bool(getattr(dataset, "aligned", True))

    def run(self, method: TrainingMethod, mode: Mode, grid_path: Path | None) -> dict[str, float]:
        """Show the held-out inputs to ``method``, optionally save a grid; the mean metrics
        of its translations (``val/l1``, ``val/psnr``, ``val/ssim``).

        Each grid row is the input, what :meth:`TrainingMethod.preview` returns (the
        translation first), and the target; the metrics are the translation's.
        """
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), contextlib.ExitStack() as modes:
            for network in method.networks.values():
                modes.enter_context(generator_mode(network, mode))
            torch.manual_seed(self.seed)
            shown = [method.preview(x.unsqueeze(0), self.direction) for x in self.input]
        output = torch.stack([columns[0][0] for columns in shown])
        if grid_path is not None:
            rows = [
                (x, *(c[0] for c in columns), y)
                for x, columns, y in zip(self.input, shown, self.target)
            ]
            save_grid(grid_path, rows, ("input", *method.preview_labels, "target"))
        values: dict[str, float] = {}
        if self.aligned:
            values.update(_means(pair_metrics(output, self.target), "val/"))
            if self.palette is not None:
                counted = PaletteScore(self.palette)
                counted.update(output, self.target)
                values.update({f"val/{k}": v for k, v in counted.result().items()})
        if not self.paired and len(shown[0]) > 1:  # unpaired: how well the cycle comes back
            back = torch.stack([columns[-1][0] for columns in shown])
            values.update(_means(pair_metrics(back, self.input), "val/cycle_"))
        return values


def _means(scores: dict[str, torch.Tensor], prefix: str) -> dict[str, float]:
    return {f"{prefix}{key}": float(scores[key].mean()) for key in ("l1", "psnr", "ssim")}
