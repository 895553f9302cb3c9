"""Building a run from a checked recipe: every component, the data and the state.

:func:`prepare` builds all of it, so a bad recipe fails before anything is written;
:func:`i2i.train.loop.fit` then trains. (:mod:`i2i.train.resume` rebuilds a :class:`Run`
from a run directory to continue it.)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from i2i.config.load import recipe_to_dict
from i2i.config.schema import Recipe
from i2i.data.images import set_max_pixels
from i2i.data.loader import SkipUnreadable
from i2i.errors import RecipeError
from i2i.interfaces import PairedDataset
from i2i.methods import TrainingMethod
from i2i.provenance import provenance
from i2i.registry import Registry
from i2i.train.build import build_dataset, build_models, check_channels
from i2i.train.distributed import SINGLE, Processes, join, local_batch_size
from i2i.train.events import Subscriber
from i2i.train.precision import Precision
from i2i.train.preview import Preview
from i2i.train.state import RunState
from i2i.train.sync_batchnorm import to_global_batchnorm
from i2i.train.trackers import build_loggers


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    """'auto' → CUDA when available, else CPU; anything else as torch names it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise RecipeError(
            f"train.device: '{name}' is not a device; use auto, cpu or cuda"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RecipeError("train.device: CUDA is not available here; use train.device=cpu")
    return device


@dataclass
class Run:
    """A prepared run: recipe, components, data and state."""

    recipe: Recipe
    run_dir: Path
    device: torch.device
    method: TrainingMethod
    state: RunState
    train_set: PairedDataset
    preview: Preview
    processes: Processes = SINGLE
    precision: Precision = field(default_factory=Precision)
    data_depth: dict[str, int] = field(default_factory=dict)
    """Bits per value of the training data's A and B (8, or 16 for uint16 and float)."""
    loggers: list[tuple[str, Subscriber]] = field(default_factory=list)
    """The experiment loggers of ``log.loggers``, built (on rank 0 only)."""

    @property
    def models(self) -> TrainingMethod:
        """The method (its networks are also its attributes: ``run.models.generator``)."""
        return self.method

    @property
    def steps_per_epoch(self) -> int:
        """Iterations per epoch."""
        length, world = len(self.train_set), self.processes.world
        return math.ceil((length - length % world) / self.recipe.data.batch_size)

    @property
    def total_steps(self) -> int:
        """Iterations the run will make: the epoch schedule, capped by ``train.max_steps``."""
        train = self.recipe.train
        scheduled = (train.epochs + train.epochs_decay) * self.steps_per_epoch
        return scheduled if train.max_steps is None else min(scheduled, train.max_steps)


def prepare(
    recipe: Recipe, run_dir: Path, registry: Registry, processes: Processes = SINGLE
) -> Run:
    """Seed, build and check everything the recipe names; writes nothing.

    With several ``processes`` (torchrun), each builds the same networks from the same seed,
    then draws dropout and augmentation from a stream of its own.
    """
    seed_everything(recipe.seed)
    recipe.provenance = provenance(recipe_to_dict(recipe), registry)
    set_max_pixels(recipe.data.max_pixels)  # before any image is opened (loader workers fork)
    device = join(processes, resolve_device(recipe.train.device))
    local_batch_size(recipe.data.batch_size, processes)
    loggers = build_loggers(recipe, registry) if processes.main else []
    method = build_models(recipe, registry).to(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: autotune once, reuse
    for network in method.networks.values():
        if recipe.train.channels_last:
            network.to(memory_format=torch.channels_last)
        if processes.distributed and recipe.train.sync_batchnorm:
            to_global_batchnorm(network)
    train_set = build_dataset(recipe, registry, recipe.data.train_split)
    held_out = recipe.data.val_split
    val_set = build_dataset(recipe, registry, held_out) if held_out else train_set
    if recipe.data.on_corrupt == "skip":
        train_set, val_set = SkipUnreadable(train_set), SkipUnreadable(val_set)
    if len(train_set) == 0:
        raise RecipeError(f"data: split '{recipe.data.train_split}' is empty")
    depths = check_channels(train_set, recipe, method.data)
    if method.data == "unpaired" and not hasattr(train_set, "sizes"):
        name = recipe.data.dataset.get("name")
        raise RecipeError(
            f"data.dataset: method '{recipe.method['name']}' trains on unpaired data but "
            f"'{name}' is paired; use {{name: unpaired_folders}} or {{name: unpaired, of: "
            f"{{name: {name}}}}}"
        )
    state = RunState.of(method)
    preview = Preview(
        val_set,
        recipe.log.val_images,
        recipe.data.direction,
        recipe.data.crop_size,
        (recipe.model.in_channels, recipe.model.out_channels),
        device,
        recipe.seed,
        _palette(recipe),
        paired=method.data != "unpaired",
    )
    if processes.distributed:
        seed_everything(recipe.seed + 1_000_003 * processes.rank)
    precision = Precision(recipe.train.precision, device.type)
    run = Run(recipe, run_dir, device, method, state, train_set, preview, processes, precision)
    run.data_depth, run.loggers = depths, loggers
    return run


def _palette(recipe: Recipe) -> Any:
    """The palette of ``log.val_palette``, checked against the output channels, or None."""
    if recipe.log.val_palette is None:
        return None
    from i2i.evaluation.palette import Palette

    palette = Palette.load(Path(recipe.log.val_palette).expanduser())
    if palette.colors.shape[1] != recipe.model.out_channels:
        raise RecipeError(
            f"log.val_palette: its colours have {palette.colors.shape[1]} channels, the "
            f"outputs {recipe.model.out_channels}"
        )
    return palette
