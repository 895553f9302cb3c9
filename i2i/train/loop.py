"""The training run: from a checked recipe to samples, metrics and checkpoints on disk.

(:mod:`i2i.train.resume` rebuilds a :class:`Run` from a run directory to continue it.)

:func:`prepare` builds every component (so a bad recipe fails before anything is written);
:func:`fit` then trains. A :class:`Run` holds all of it, with the mutable part in one
:class:`~i2i.train.state.RunState`.
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from i2i.checkpoint import save_checkpoint
from i2i.config.load import recipe_to_dict, recipe_to_yaml
from i2i.config.schema import Recipe
from i2i.data.augment import ImageAugmentation, PairedAugmentation
from i2i.data.images import set_max_pixels
from i2i.data.loader import EpochSampler, SkipUnreadable, make_loader, stop_workers
from i2i.data.unpaired import UnpairedEpochSampler
from i2i.errors import I2IError, RecipeError, RunInterrupted, WriteError
from i2i.files import write_text_atomic
from i2i.interfaces import PairedDataset
from i2i.lock import release_folder
from i2i.methods import NonFiniteLoss, StepTools, TrainingMethod
from i2i.provenance import provenance
from i2i.registry import Registry
from i2i.train.batches import training_batch
from i2i.train.best import BestCheckpoint
from i2i.train.build import build_dataset, build_models, check_channels
from i2i.train.distributed import (
    SINGLE,
    Processes,
    any_process,
    gather_objects,
    join,
    local_batch_size,
    mean_over_processes,
    wrap_for_training,
)
from i2i.train.plot import plot_losses
from i2i.train.precision import Precision
from i2i.train.preview import Preview
from i2i.train.records import MetricsLog, require_tensorboard, tensorboard_writer
from i2i.train.rng import capture_rng
from i2i.train.rundir import has_checkpoint, mark_started, refuse_existing_run, take_over
from i2i.train.schedule import lr_multiplier, set_lr
from i2i.train.signals import StopRequests
from i2i.train.state import RunState
from i2i.train.sync_batchnorm import to_global_batchnorm


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
    if recipe.log.tensorboard:
        require_tensorboard()
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
    )
    if processes.distributed:
        seed_everything(recipe.seed + 1_000_003 * processes.rank)
    precision = Precision(recipe.train.precision, device.type)
    run = Run(recipe, run_dir, device, method, state, train_set, preview, processes, precision)
    run.data_depth = depths
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


def fit(run: Run) -> Path | None:
    """Train from ``run.state`` until ``run.total_steps``; returns the last checkpoint's path.

    Under torchrun every process calls this; rank 0 alone writes, and gets the path (the
    others get None).

    SIGINT or SIGTERM end the run after the current step, with a checkpoint
    (:class:`RunInterrupted`); ``i2i resume`` continues it exactly.
    """
    recipe, state, method, processes = run.recipe, run.state, run.method, run.processes
    main = processes.main  # only rank 0 writes: config, metrics, samples, checkpoints
    if main:
        take_over(run.run_dir)
        if state.step == 0:
            refuse_existing_run(run.run_dir)  # another process started it since prepare()
        try:
            mark_started(run.run_dir)
            write_text_atomic(run.run_dir / "config.yaml", recipe_to_yaml(recipe))
        except I2IError:
            release_folder(run.run_dir)
            raise
    data = recipe.data
    if method.data == "unpaired":
        sampler: EpochSampler = UnpairedEpochSampler(
            run.train_set.sizes,  # type: ignore[attr-defined]
            recipe.seed,
            rank=processes.rank,
            world=processes.world,
        )
    else:
        sampler = EpochSampler(
            len(run.train_set), recipe.seed, rank=processes.rank, world=processes.world
        )
    loader = make_loader(
        run.train_set,
        local_batch_size(data.batch_size, processes),
        data.num_workers,
        sampler,
        pin_memory=run.device.type == "cuda",
        seed=recipe.seed,
    )
    augment: nn.Module = (
        ImageAugmentation(data.load_size, data.crop_size, data.flip)
        if method.data == "unpaired"
        else PairedAugmentation(data.load_size, data.crop_size, data.flip)
    ).to(run.device)
    optimizers = list(method.optimizers.values())
    networks = compiled(method.networks) if recipe.train.compile else dict(method.networks)
    if processes.distributed:
        networks = wrap_for_training(networks, run.device)
    tools = StepTools(run.precision, recipe.train.nonfinite == "skip")
    board = (
        tensorboard_writer(run.run_dir / "tensorboard") if recipe.log.tensorboard and main else None
    )
    metrics = MetricsLog(run.run_dir / "metrics.jsonl" if main else None, board)
    total = run.total_steps

    optimizer_prefixes = tuple(f"{name}." for name in method.optimizers)
    best = BestCheckpoint(recipe.checkpoint.best, run.run_dir / "checkpoints", state)

    def snapshot(rng_by_rank: list | None = None) -> tuple[dict, dict]:
        tensors, meta = state.to_tensors(rng_by_rank)
        meta["recipe"] = recipe_to_dict(recipe)
        meta["translators"] = translators(method)
        meta["grad_scaler"] = run.precision.state_dict()
        meta["data_depth"] = run.data_depth
        return tensors, meta

    def show(step: int) -> None:
        if not main:
            return
        grid = run.run_dir / "samples" / f"step_{step:08d}.png"
        scores = run.preview.run(method, recipe.log.sample_mode, grid)
        metrics.write(step, **scores)
        plot_losses(metrics.path, run.run_dir / "losses.png")
        if step > 0 and best.improves(scores, step):
            tensors, meta = snapshot()
            kept = {k: v for k, v in tensors.items() if not k.startswith(optimizer_prefixes)}
            best.save(kept, {**meta, "optimizer_state": False})

    def checkpoint() -> Path | None:
        rng_by_rank = gather_objects(capture_rng(), processes)  # every process takes part
        if not main:
            return None
        tensors, meta = snapshot(rng_by_rank)
        latest_only = optimizer_prefixes if recipe.checkpoint.optimizer == "latest" else ()
        return save_checkpoint(
            run.run_dir / "checkpoints", tensors, meta, recipe.checkpoint.keep, latest_only
        )

    if state.step == 0:
        show(0)
    meter = state.window  # restarted after the first preview: throughput is training alone
    meter.restart_clock()
    last = None
    progress = tqdm(
        total=total,
        initial=state.step,
        disable=not (recipe.log.progress and main),
        unit="it",
        dynamic_ncols=True,
        desc=run.run_dir.name,
        mininterval=0.5 if sys.stderr.isatty() else 30.0,  # keep logs of non-terminals short
    )
    started = time.perf_counter()
    stop = StopRequests()
    stopping = False  # agreed by all processes, so they all leave after the same step
    skipped = 0  # updates skipped for a non-finite loss (train.nonfinite=skip)
    unreadable = 0  # pairs skipped as unreadable (data.on_corrupt=skip)
    try:
        while state.step < total and not stopping:
            lr = recipe.train.optimizer.lr * lr_multiplier(
                state.epoch + 1, recipe.train.epochs, recipe.train.epochs_decay
            )
            set_lr(optimizers, lr)
            sampler.set_epoch(state.epoch, start=state.position)
            for batch in loader:
                unreadable += batch["skipped"]
                consumed = len(batch["name"]) + batch["skipped"]  # the sampler's positions
                if any_process(not batch["name"], run.device):
                    state.position += consumed * processes.world
                    continue  # every pair of a local batch was unreadable (data.on_corrupt=skip)
                images = training_batch(batch, recipe, run.device, augment, method.data)
                try:
                    losses = method.train_step(images, networks, tools)
                except NonFiniteLoss as error:
                    raise NonFiniteLoss(
                        f"step {state.step + 1}: {error}; the run stopped and its last checkpoint "
                        f"({last or 'none yet'}) is intact; lower train.optimizer.lr, or set "
                        "train.nonfinite=skip to skip such batches"
                    ) from None
                if processes.distributed:
                    losses = dict(zip(losses, mean_over_processes(torch.stack([*losses.values()]))))
                if tools.skip_nonfinite:  # with "stop", a non-finite loss raised before updating
                    skipped += sum(not bool(torch.isfinite(v)) for v in updated(losses))
                state.step += 1
                state.position += consumed * processes.world
                meter.add(losses, len(batch["name"]) * processes.world)
                stopping = any_process(stop.signal is not None, run.device)
                if not progress.disable and state.step % min(10, recipe.log.every) == 0:
                    # this step's losses, so short runs show some before the first log line
                    values = torch.stack([v.detach().float() for v in losses.values()])
                    shown = zip(losses, values.tolist())  # one device sync, not one per loss
                    progress.set_postfix({k: f"{v:.3g}" for k, v in shown})
                progress.update()
                if state.step % recipe.log.every == 0 or state.step == total:
                    values = meter.report()
                    extra = {"skipped_nonfinite": skipped} if skipped else {}
                    extra.update({"skipped_files": unreadable} if unreadable else {})
                    metrics.write(state.step, epoch=state.epoch + 1, lr=lr, **values, **extra)
                    progress.set_postfix(
                        {
                            k.removeprefix("loss/"): f"{v:.3g}"
                            for k, v in values.items()
                            if k.startswith("loss/")
                        }
                    )
                if state.step % recipe.log.sample_every == 0 and state.step < total:
                    show(state.step)
                if state.step % recipe.checkpoint.every == 0 and state.step < total:
                    last = checkpoint()
                if state.step >= total or stopping:
                    break
            else:
                state.epoch, state.position = state.epoch + 1, 0
        if stopping:
            last = checkpoint()
            cause = stop.signal.name if stop.signal else "a signal to another process"
            raise RunInterrupted(
                f"stopped by {cause} at step {state.step}; checkpoint {last} saved; "
                f"continue with: i2i resume {run.run_dir}"
            )
        show(state.step)
        last = checkpoint()
        metrics.write(state.step, elapsed_s=round(time.perf_counter() - started, 3))
        if main and last is not None:
            write_card(run, last, metrics.path)
    except WriteError as error:
        if last or state.step > 0 and has_checkpoint(run.run_dir):
            after = f"; its checkpoints are intact: continue with i2i resume {run.run_dir}"
        else:
            after = "; no checkpoint was written yet: run the same command again"
        raise error.extended(after) from None
    finally:
        stop_workers(loader)
        stop.restore()
        progress.close()
        metrics.close()
        if main:
            release_folder(run.run_dir)
    return last


def write_card(run: Run, checkpoint: Path, metrics: Path | None) -> Path:
    """``checkpoints/README.md``: the model card of the run's final checkpoint."""
    from i2i.card import last_validation, model_card
    from i2i.checkpoint import load_checkpoint

    _, meta = load_checkpoint(checkpoint, prefix="\0")
    card = model_card(
        checkpoint,
        meta,
        title=f"{run.run_dir.name}: {checkpoint.name}",
        metrics=last_validation(metrics),
        sample=run.run_dir / "samples" / f"step_{run.state.step:08d}.png",
        relative_to=checkpoint.parent,
    )
    path = run.run_dir / "checkpoints" / "README.md"
    write_text_atomic(path, card)
    return path


def translators(method: TrainingMethod) -> dict[str, dict[str, Any]]:
    """For a checkpoint: which network translates each direction, and its channels."""
    found = {}
    for direction in ("AtoB", "BtoA"):
        role = method.translator(direction)
        network = method.networks[role]
        found[direction] = {
            "role": role,
            "in_channels": getattr(network, "in_channels", None),
            "out_channels": getattr(network, "out_channels", None),
        }
    return found


def compiled(networks: dict[str, nn.Module]) -> dict[str, nn.Module]:
    """Each network through ``torch.compile`` (the originals keep the weights and are saved)."""
    return {role: torch.compile(network) for role, network in networks.items()}


def updated(losses: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """The losses an optimiser stepped on: 'd' and 'g' where a method logs them, else all."""
    stepped = [losses[k] for k in ("d", "g") if k in losses]
    return stepped or list(losses.values())
