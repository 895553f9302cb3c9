"""Training commands: run and resume."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from i2i.cli.base import main, reports_errors, warn_plugin_problems
from i2i.cli.launch import launcher_options
from i2i.errors import I2IError, MissingDataset, RecipeError, quoted

if TYPE_CHECKING:  # imported when a command runs: `i2i --help` stays quick without torch
    from i2i.config.schema import Recipe
    from i2i.launch.slurm import SlurmOptions
    from i2i.train.distributed import Processes
    from i2i.train.loop import Run


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option(
    "--resume",
    "resume_existing",
    is_flag=True,
    help="When run.dir already holds a run, continue it as `i2i resume` does instead of "
    "refusing; otherwise start it. One command line for jobs that get requeued.",
)
@launcher_options
@reports_errors
def run(
    recipe: str, overrides: tuple[str, ...], resume_existing: bool, slurm: SlurmOptions | None
) -> None:
    """Train from RECIPE, with optional key=value OVERRIDES.

    \b
    Examples:
      i2i run recipes/quickstart.yaml
      i2i run recipes/pix2pix_maps.yaml data.root=datasets/maps train.max_steps=200
      i2i run recipes/pix2pix_maps.yaml model.generator.name=encoder_decoder
      i2i run --resume recipes/pix2pix_maps.yaml run.dir=runs/maps
      torchrun --nproc-per-node 2 -m i2i run recipes/pix2pix_maps.yaml data.batch_size=2
      i2i run recipes/pix2pix_maps.yaml --launcher slurm --gpus-per-run 1 --time 8:00:00
    """
    from i2i.config import load_recipe
    from i2i.plugins import default_registry
    from i2i.train import distributed
    from i2i.train.loop import prepare
    from i2i.train.resume import resume as resume_run
    from i2i.train.rundir import choose_run_dir, clear_unstarted_run, has_checkpoint, holds_run

    config = load_recipe(recipe, overrides)
    if slurm is not None:
        _submit(recipe, overrides, config, resume_existing, slurm)
        return
    requested = Path(config.run.dir or Path("runs") / Path(recipe).stem)
    if resume_existing and holds_run(requested):
        if has_checkpoint(requested):
            rest = [o for o in overrides if not o.startswith("run.dir=")]
            _train(lambda processes: resume_run(requested, rest, default_registry(), processes))
            return
        clear_unstarted_run(requested)  # killed before its first checkpoint: start it afresh

    def start(processes: Processes) -> Run:
        run_dir = distributed.decided_by_main(
            processes,
            lambda: choose_run_dir(str(requested) if resume_existing else config.run.dir, recipe),
        )
        config.run.dir = str(run_dir)
        try:
            return prepare(config, run_dir, default_registry(), processes)
        except MissingDataset as missing:
            if processes.distributed or not _offer_download(missing):
                raise
            return prepare(config, run_dir, default_registry(), processes)

    _train(start, device=config.train.device)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("overrides", nargs=-1)
@reports_errors
def resume(run_dir: str, overrides: tuple[str, ...]) -> None:
    """Continue the run in RUN_DIR from its last checkpoint, exactly where it stopped.

    Networks, optimisers, learning-rate schedule, epoch, position in the epoch and every
    random generator are restored. OVERRIDES (key=value) change the recipe, e.g. to train
    longer; metrics logged after the checkpoint by a killed run are dropped.

    \b
    Examples:
      i2i resume runs/pix2pix_maps
      i2i resume runs/smoke train.max_steps=400
      torchrun --nproc-per-node 2 -m i2i resume runs/pix2pix_maps
    """
    from i2i.plugins import default_registry
    from i2i.train.resume import resume as resume_run

    _train(lambda processes: resume_run(Path(run_dir), overrides, default_registry(), processes))


def _submit(
    recipe: str,
    overrides: tuple[str, ...],
    config: Recipe,
    resume_existing: bool,
    slurm: SlurmOptions,
) -> None:
    """Submit the run as one SLURM job that continues exactly after every requeue."""
    from dataclasses import replace

    from i2i.launch import read_record
    from i2i.launch.run import SingleRun
    from i2i.launch.slurm import SlurmLauncher
    from i2i.train.rundir import choose_run_dir, holds_run

    requested = Path(config.run.dir or Path("runs") / Path(recipe).stem)
    job = read_record(requested).get("job_id") if config.run.dir else None
    launcher = SlurmLauncher(replace(slurm, job_name=f"i2i-{requested.name}"), requested / "slurm")
    if job and launcher.queued([job]):  # before anything else: the job may have started it
        raise RecipeError(
            f"run.dir {quoted(requested)} is already queued as SLURM job {job}; nothing was "
            "submitted (see squeue)"
        )
    if resume_existing and holds_run(requested):
        folder = requested
    else:
        folder = choose_run_dir(config.run.dir, recipe)
    folder = folder.absolute()
    launcher = SlurmLauncher(replace(slurm, job_name=f"i2i-{folder.name}"), folder / "slurm")
    rest = [o for o in overrides if not o.startswith("run.dir=")]
    first_made = folder  # the outermost folder this command creates, if any
    while not first_made.parent.exists():
        first_made = first_made.parent
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        launcher.launch([SingleRun(Path(recipe).absolute(), rest, folder)])
    except I2IError:
        if created:  # refused by SLURM: leave nothing behind
            import shutil

            shutil.rmtree(first_made, ignore_errors=True)
        raise
    record = read_record(folder)
    click.echo(
        f"i2i: submitted SLURM job {record['job_id']}; run in {folder}; job log "
        f"{record['slurm_log']}. It saves a checkpoint and is requeued at its time limit or on "
        f"preemption; afterwards `i2i resume {folder}` continues it like any run.",
        err=True,
    )


def interactive() -> bool:
    """True when a person can answer a question on the terminal."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _offer_download(missing: MissingDataset) -> bool:
    """Ask (on a terminal only) whether to fetch a missing official dataset; True once fetched."""
    from i2i.data.download import download_dataset

    if not interactive():
        return False
    click.echo(f"i2i: {missing}", err=True)
    question = f"Download {missing.dataset} into {missing.parent} now?"
    if not click.confirm(question, default=False, err=True):
        return False
    download_dataset(missing.dataset, missing.parent)
    return True


def _train(start: Callable[[Processes], Run], device: str | None = None) -> None:
    """Join torchrun's processes (if any), build the run with ``start``, train, and report.

    ``device`` (the recipe's train.device) lets the process group be joined before ``start``,
    for starts that must agree across processes; resuming joins inside ``prepare``.
    """
    from i2i.train import distributed
    from i2i.train.loop import fit, resolve_device

    processes = distributed.from_environment()
    if processes.main:
        warn_plugin_problems()
    try:
        if device is not None:
            distributed.join(processes, resolve_device(device))
        prepared = start(processes)
        state = prepared.state
        if 0 < prepared.total_steps <= state.step:
            if processes.main:
                click.echo(
                    f"i2i: the run in {prepared.run_dir} is finished (step {state.step} of "
                    f"{prepared.total_steps}); nothing was changed. To train longer: i2i resume "
                    f"{prepared.run_dir} train.max_steps=N",
                    err=True,
                )
            return
        what = f"resuming at step {state.step} of" if state.step else "training"
        where = f"{prepared.device}"
        if processes.distributed:
            where = f"{processes.world} processes ({prepared.device.type})"
        if processes.main:
            click.echo(
                f"i2i: {what} {prepared.total_steps} iterations on {where}; "
                f"run in {prepared.run_dir}",
                err=True,
            )
        last = fit(prepared)
    finally:
        distributed.leave()
    if processes.main:
        click.echo(f"i2i: done. checkpoint {last}", err=True)
