"""The training loop: the paper's iteration, announcing what happens as events.

:func:`fit` trains a :class:`~i2i.train.prepare.Run` (built by :func:`prepare`, or by
:mod:`i2i.train.resume`). What the run leaves on disk or sends elsewhere (metrics.jsonl,
losses.png, the model card, TensorBoard, trackers) is written by subscribers to its events
(:mod:`i2i.train.events`); the loop itself only trains, previews and checkpoints.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from i2i.checkpoint import save_checkpoint
from i2i.config.load import recipe_to_dict, recipe_to_yaml
from i2i.data.augment import ImageAugmentation, PairedAugmentation
from i2i.data.loader import EpochSampler, make_loader, stop_workers
from i2i.data.unpaired import UnpairedEpochSampler
from i2i.errors import I2IError, RunInterrupted, WriteError
from i2i.files import write_text_atomic
from i2i.lock import release_folder
from i2i.methods import NonFiniteLoss, StepTools, TrainingMethod
from i2i.train.batches import training_batch
from i2i.train.best import BestCheckpoint
from i2i.train.distributed import (
    any_process,
    gather_objects,
    local_batch_size,
    mean_over_processes,
    wrap_for_training,
)
from i2i.train.events import Events, Outcome, RunInfo, Subscriber
from i2i.train.prepare import Run, prepare, resolve_device, seed_everything
from i2i.train.rng import capture_rng
from i2i.train.rundir import has_checkpoint, mark_started, refuse_existing_run, take_over
from i2i.train.schedule import lr_multiplier, set_lr
from i2i.train.signals import StopRequests
from i2i.train.trackers import trackers
from i2i.train.writers import LossPlot, MetricsWriter, ModelCardWriter

__all__ = ["Run", "fit", "prepare", "resolve_device", "seed_everything"]


def fit(run: Run) -> Path | None:
    """Train from ``run.state`` until ``run.total_steps``; returns the last checkpoint's path.

    Under torchrun every process calls this; rank 0 alone writes, and gets the path (the
    others get None).

    SIGINT or SIGTERM end the run after the current step, with a checkpoint
    (:class:`RunInterrupted`); ``i2i resume`` continues it exactly.
    """
    state, total = run.state, run.total_steps
    training = Training(run)
    outcome: Outcome = "failed"
    try:
        training.events.emit("run_started", training.info())
        if state.step == 0:
            training.preview()
        training.meter.restart_clock()  # throughput is training alone, not the first preview
        while state.step < total and not training.stopping:
            lr = training.start_epoch()
            for batch in training.loader:
                if not training.step(batch):
                    continue  # every pair of the batch was unreadable (data.on_corrupt=skip)
                training.log(lr)
                if state.step % run.recipe.log.sample_every == 0 and state.step < total:
                    training.preview()
                if state.step % run.recipe.checkpoint.every == 0 and state.step < total:
                    training.checkpoint()
                if state.step >= total or training.stopping:
                    break
            else:
                state.epoch, state.position = state.epoch + 1, 0
        if training.stopping:
            training.checkpoint()
            outcome = "interrupted"
            raise training.interruption()
        training.preview()
        training.checkpoint()
        training.events.emit("scalars", state.step, {"elapsed_s": training.elapsed()})
        outcome = "finished"
    except WriteError as error:
        raise error.extended(training.after_write_error()) from None
    finally:
        training.close(outcome)
    return training.last


class Training:
    """One process's training of a run: its loader, networks, events and counters."""

    def __init__(self, run: Run) -> None:
        self.run, self.recipe, self.state = run, run.recipe, run.state
        self.main = run.processes.main  # only rank 0 writes
        if self.main:
            claim(run)
        self.sampler, self.loader = training_data(run)
        self.augment = augmentation(run)
        self.networks = training_networks(run)
        self.tools = StepTools(run.precision, self.recipe.train.nonfinite == "skip")
        self.optimizer_prefixes = tuple(f"{name}." for name in run.method.optimizers)
        folder = run.run_dir / "checkpoints"
        self.best = BestCheckpoint(self.recipe.checkpoint.best, folder, self.state)
        self.events = Events(subscribers(run) if self.main else [])
        self.meter, self.stop = self.state.window, StopRequests()
        self.progress = progress_bar(run)
        self.last: Path | None = None
        self.stopping = False  # agreed by all processes, so they all leave after one step
        self.skipped = 0  # updates skipped for a non-finite loss (train.nonfinite=skip)
        self.unreadable = 0  # pairs skipped as unreadable (data.on_corrupt=skip)
        self.started = time.perf_counter()

    def info(self) -> RunInfo:
        """What subscribers learn as the run starts."""
        log = self.recipe.log
        tags = {**provenance_tags(self.recipe.provenance), **log.tags}
        recipe = recipe_to_dict(self.recipe)
        return RunInfo(self.run.run_dir, recipe, self.state.step, log.group, tags, title=log.name)

    def start_epoch(self) -> float:
        """Set the epoch's learning rate and the sampler's position; returns the rate."""
        train = self.recipe.train
        lr = train.optimizer.lr * lr_multiplier(
            self.state.epoch + 1, train.epochs, train.epochs_decay, train.schedule
        )
        set_lr(list(self.run.method.optimizers.values()), lr)
        self.sampler.set_epoch(self.state.epoch, start=self.state.position)
        return lr

    def step(self, batch: dict[str, Any]) -> bool:
        """One training iteration on ``batch``; False when it held no readable pair."""
        run, state, world = self.run, self.state, self.run.processes.world
        self.unreadable += batch["skipped"]
        consumed = len(batch["name"]) + batch["skipped"]  # the sampler's positions
        if any_process(not batch["name"], run.device):
            state.position += consumed * world
            return False
        images = training_batch(batch, self.recipe, run.device, self.augment, run.method.data)
        try:
            losses = run.method.train_step(images, self.networks, self.tools)
        except NonFiniteLoss as error:
            raise NonFiniteLoss(
                f"step {state.step + 1}: {error}; the run stopped and its last checkpoint "
                f"({self.last or 'none yet'}) is intact; lower train.optimizer.lr, or set "
                "train.nonfinite=skip to skip such batches"
            ) from None
        if run.processes.distributed:
            losses = dict(zip(losses, mean_over_processes(torch.stack([*losses.values()]))))
        if self.tools.skip_nonfinite:  # with "stop", a non-finite loss raised before updating
            self.skipped += sum(not bool(torch.isfinite(v)) for v in updated(losses))
        state.step += 1
        state.position += consumed * world
        self.meter.add(losses, len(batch["name"]) * world)
        self.stopping = any_process(self.stop.signal is not None, run.device)
        self.show_losses(losses)
        return True

    def show_losses(self, losses: dict[str, torch.Tensor]) -> None:
        """Advance the progress bar; every few steps, show this step's losses on it."""
        if not self.progress.disable and self.state.step % min(10, self.recipe.log.every) == 0:
            values = torch.stack([v.detach().float() for v in losses.values()])
            shown = zip(losses, values.tolist())  # one device sync, not one per loss
            self.progress.set_postfix({k: f"{v:.3g}" for k, v in shown})
        self.progress.update()

    def log(self, lr: float) -> None:
        """Every ``log.every`` steps (and at the last): the window's means, as ``scalars``."""
        step = self.state.step
        if step % self.recipe.log.every and step != self.run.total_steps:
            return
        values: dict[str, Any] = {"epoch": self.state.epoch + 1, "lr": lr, **self.meter.report()}
        values.update({"skipped_nonfinite": self.skipped} if self.skipped else {})
        values.update({"skipped_files": self.unreadable} if self.unreadable else {})
        self.events.emit("scalars", step, values)
        losses = {k.removeprefix("loss/"): v for k, v in values.items() if k.startswith("loss/")}
        self.progress.set_postfix({k: f"{v:.3g}" for k, v in losses.items()})

    def preview(self) -> None:
        """The sample grid and held-out scores (rank 0); the best checkpoint when beaten."""
        if not self.main:
            return
        step, run = self.state.step, self.run
        grid = run.run_dir / "samples" / f"step_{step:08d}.png"
        scores = run.preview.run(run.method, self.recipe.log.sample_mode, grid)
        self.events.emit("preview", step, grid, scores)
        if step > 0 and self.best.improves(scores, step):
            tensors, meta = self.snapshot()
            kept = {k: v for k, v in tensors.items() if not k.startswith(self.optimizer_prefixes)}
            path = self.best.save(kept, {**meta, "optimizer_state": False})
            self.events.emit("best_changed", step, path, scores)

    def snapshot(self, rng_by_rank: list | None = None) -> tuple[dict, dict]:
        """The run's tensors and metadata, as a checkpoint holds them."""
        tensors, meta = self.state.to_tensors(rng_by_rank)
        meta["recipe"] = recipe_to_dict(self.recipe)
        meta["translators"] = translators(self.run.method)
        meta["grad_scaler"] = self.run.precision.state_dict()
        meta["data_depth"] = self.run.data_depth
        return tensors, meta

    def checkpoint(self) -> None:
        """Save a checkpoint (every process takes part; rank 0 writes)."""
        rng_by_rank = gather_objects(capture_rng(), self.run.processes)
        if not self.main:
            return
        self.events.catch_up()  # a tracker has every step up to a checkpoint, once resumed
        tensors, meta = self.snapshot(rng_by_rank)
        checkpoint = self.recipe.checkpoint
        latest_only = self.optimizer_prefixes if checkpoint.optimizer == "latest" else ()
        folder = self.run.run_dir / "checkpoints"
        self.last = save_checkpoint(folder, tensors, meta, checkpoint.keep, latest_only)
        self.events.emit("checkpoint", self.state.step, self.last)

    def elapsed(self) -> float:
        """Seconds this process has trained."""
        return round(time.perf_counter() - self.started, 3)

    def interruption(self) -> RunInterrupted:
        """The error that ends a run stopped by a signal."""
        cause = self.stop.signal.name if self.stop.signal else "a signal to another process"
        return RunInterrupted(
            f"stopped by {cause} at step {self.state.step}; checkpoint {self.last} saved; "
            f"continue with: i2i resume {self.run.run_dir}"
        )

    def after_write_error(self) -> str:
        """What a failed write leaves the user to do."""
        run_dir = self.run.run_dir
        if self.last or self.state.step > 0 and has_checkpoint(run_dir):
            return f"; its checkpoints are intact: continue with i2i resume {run_dir}"
        return "; no checkpoint was written yet: run the same command again"

    def close(self, outcome: Outcome) -> None:
        """Tell subscribers how the run ended; stop workers, restore signals, free the folder."""
        try:
            if outcome == "failed":
                with contextlib.suppress(Exception):  # the run's own error is the one to report
                    self.events.emit("run_ended", outcome, self.last)
            else:
                self.events.emit("run_ended", outcome, self.last)
        finally:
            stop_workers(self.loader)
            self.stop.restore()
            self.progress.close()
            self.events.close()
            if self.main:
                release_folder(self.run.run_dir)


def claim(run: Run) -> None:
    """Take the run folder (refusing a run started meanwhile) and write config.yaml."""
    take_over(run.run_dir)
    if run.state.step == 0:
        refuse_existing_run(run.run_dir)  # another process started it since prepare()
    try:
        mark_started(run.run_dir)
        write_text_atomic(run.run_dir / "config.yaml", recipe_to_yaml(run.recipe))
    except I2IError:
        release_folder(run.run_dir)
        raise


def subscribers(run: Run) -> list[Subscriber]:
    """Rank 0's subscribers: the run folder's writers first, then the trackers."""
    metrics = run.run_dir / "metrics.jsonl"
    writers: list[Subscriber] = [
        MetricsWriter(metrics),
        LossPlot(metrics, run.run_dir / "losses.png"),
        ModelCardWriter(metrics),
    ]
    return writers + list(trackers(run.loggers, run.run_dir))


def training_data(run: Run) -> tuple[EpochSampler, Any]:
    """The epoch sampler (resumable mid-epoch) and the loader drawing from it."""
    recipe, processes = run.recipe, run.processes
    rank, world = processes.rank, processes.world
    if run.method.data == "unpaired":
        sizes = run.train_set.sizes  # type: ignore[attr-defined]
        sampler: EpochSampler = UnpairedEpochSampler(sizes, recipe.seed, rank=rank, world=world)
    else:
        sampler = EpochSampler(len(run.train_set), recipe.seed, rank=rank, world=world)
    loader = make_loader(
        run.train_set,
        local_batch_size(recipe.data.batch_size, processes),
        recipe.data.num_workers,
        sampler,
        pin_memory=run.device.type == "cuda",
        seed=recipe.seed,
        paired=run.method.data != "unpaired",
    )
    return sampler, loader


def augmentation(run: Run) -> nn.Module:
    """The kornia augmentation of the data, on the training device."""
    data = run.recipe.data
    kind = ImageAugmentation if run.method.data == "unpaired" else PairedAugmentation
    return kind(data.load_size, data.crop_size, data.flip).to(run.device)


def training_networks(run: Run) -> dict[str, nn.Module]:
    """The networks the step runs: compiled and wrapped for DDP when the recipe asks."""
    networks = run.method.networks
    trained = compiled(networks) if run.recipe.train.compile else dict(networks)
    return wrap_for_training(trained, run.device) if run.processes.distributed else trained


def progress_bar(run: Run) -> tqdm:
    """The progress bar (rank 0, unless log.progress=false)."""
    return tqdm(
        total=run.total_steps,
        initial=run.state.step,
        disable=not (run.recipe.log.progress and run.processes.main),
        unit="it",
        dynamic_ncols=True,
        desc=run.run_dir.name,
        mininterval=0.5 if sys.stderr.isatty() else 30.0,  # keep logs of non-terminals short
    )


def provenance_tags(provenance: dict[str, Any] | None) -> dict[str, str]:
    """The recipe's provenance as tracker tags: i2i's version, each component's plugin."""
    provenance = provenance or {}
    tags = {"i2i.version": str(provenance.get("i2i", "?"))}
    for key, component in (provenance.get("components") or {}).items():
        tags[f"i2i.{key}"] = (
            f"{component.get('name')} ({component.get('distribution')} {component.get('version')})"
        )
    return tags


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
