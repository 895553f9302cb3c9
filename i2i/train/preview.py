"""Held-out pairs the run is shown on: sample grids and held-out L1 at fixed steps."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from i2i.data.augment import held_out_pairs
from i2i.data.loader import collate_pairs
from i2i.interfaces import PairedDataset
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
    ) -> None:
        batch = collate_pairs([dataset[i] for i in range(min(count, len(dataset)))])
        self.input, self.target = held_out_pairs(batch, direction, crop_size, channels, device)
        self.device, self.seed = device, seed

    def run(self, generator: nn.Module, mode: Mode, grid_path: Path | None) -> float:
        """Translate the held-out inputs, optionally save a grid, return the mean L1."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), generator_mode(generator, mode):
            torch.manual_seed(self.seed)
            outputs: list[Tensor] = [generator(x.unsqueeze(0))[0] for x in self.input]
        output = torch.stack(outputs)
        if grid_path is not None:
            save_grid(grid_path, list(zip(self.input, output, self.target)))
        return (output - self.target).abs().mean().item()
