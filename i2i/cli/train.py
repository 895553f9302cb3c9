"""Training commands: run and resume."""

from __future__ import annotations

from pathlib import Path

import click

from i2i.cli.base import main, reports_errors, warn_plugin_problems


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@reports_errors
def run(recipe: str, overrides: tuple[str, ...]) -> None:
    """Train from RECIPE, with optional key=value OVERRIDES.

    \b
    Examples:
      i2i run recipes/quickstart.yaml
      i2i run recipes/pix2pix_maps.yaml data.root=datasets/maps train.max_steps=200
      i2i run recipes/pix2pix_maps.yaml model.generator.name=encoder_decoder
    """
    from i2i.config import load_recipe
    from i2i.plugins import default_registry
    from i2i.train.loop import fit, prepare
    from i2i.train.rundir import choose_run_dir

    config = load_recipe(recipe, overrides)
    warn_plugin_problems()
    run_dir = choose_run_dir(config.run.dir, recipe)
    config.run.dir = str(run_dir)
    prepared = prepare(config, run_dir, default_registry())
    click.echo(
        f"i2i: training {prepared.total_steps} iterations on {prepared.device}; run in {run_dir}",
        err=True,
    )
    last = fit(prepared)
    click.echo(f"i2i: done. checkpoint {last}", err=True)


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
    """
    from i2i.plugins import default_registry
    from i2i.train.loop import fit
    from i2i.train.resume import resume as resume_run

    prepared = resume_run(Path(run_dir), overrides, default_registry())
    click.echo(
        f"i2i: resuming at step {prepared.state.step} of {prepared.total_steps} "
        f"on {prepared.device}; run in {run_dir}",
        err=True,
    )
    last = fit(prepared)
    click.echo(f"i2i: done. checkpoint {last}", err=True)
