"""The ``i2i`` command line: thin commands that parse, call the library and report."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from i2i import __version__
from i2i.errors import I2IError

F = TypeVar("F", bound=Callable[..., Any])


def _one_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if lines[-1].startswith("i2i.errors."):
        # Raised in a loader worker: torch re-raises it with the worker's traceback as message.
        return lines[-1].split(": ", 1)[-1]
    return lines[0]


def reports_errors(command: F) -> F:
    """Report an :class:`I2IError` (even one from a loader worker) on one line; exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except I2IError as error:
            click.echo(f"i2i: error: {_one_line(error)}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("i2i: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _warn_plugin_problems() -> None:
    from i2i.plugins import default_plugins

    for problem in default_plugins().problems:
        click.echo(f"i2i: warning: {problem} (skipped)", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="i2i")
def main() -> None:
    """i2i: paired image-to-image translation (pix2pix and friends), built from plugins.

    \b
    Quick start (no download needed):
      i2i run recipes/quickstart.yaml
    """


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
    _warn_plugin_problems()
    run_dir = choose_run_dir(config.run.dir, recipe)
    config.run.dir = str(run_dir)
    prepared = prepare(config, run_dir, default_registry())
    click.echo(
        f"i2i: training {prepared.total_steps} iterations on {prepared.device}; run in {run_dir}",
        err=True,
    )
    last = fit(prepared)
    click.echo(f"i2i: done. checkpoint {last}", err=True)


@main.command()
@click.option(
    "--kind",
    type=click.Choice(["generator", "discriminator", "loss", "dataset"]),
    help="Only this kind of component.",
)
@click.argument("pattern", default="*")
def plugins(kind: str | None, pattern: str) -> None:
    """List installed plugins and every component they register (PATTERN filters names).

    \b
    Example:
      i2i plugins --kind discriminator
    """
    from i2i.plugins import default_plugins

    loaded = default_plugins()
    click.echo("plugins:")
    for info in loaded.loaded:
        version = f" {info.version}" if info.version else ""
        click.echo(f"  {info.name:<16} {info.distribution}{version}")
    for problem in loaded.problems:
        click.echo(f"  {problem.plugin:<16} BROKEN: {problem.message}")
    click.echo("components:")
    click.echo(f"  {'kind':<14} {'name':<20} {'plugin':<14} summary")
    for component in loaded.registry.components(kind, pattern):
        click.echo(
            f"  {component.kind:<14} {component.name:<20} {component.plugin:<14} "
            f"{component.summary}"
        )


@main.group()
def config() -> None:
    """Inspect recipes and the keys they may set.

    \b
    Examples:
      i2i config show recipes/quickstart.yaml train.max_steps=50
      i2i config reference > docs/config-reference.md
    """


@config.command("show")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@reports_errors
def config_show(recipe: str, overrides: tuple[str, ...]) -> None:
    """Print RECIPE resolved against the schema, with key=value OVERRIDES applied.

    \b
    Example:
      i2i config show recipes/pix2pix_maps.yaml data.direction=BtoA
    """
    from i2i.config import load_recipe, recipe_to_yaml

    click.echo(recipe_to_yaml(load_recipe(recipe, overrides)), nl=False)


@config.command("reference")
def config_reference() -> None:
    """Print the config reference (every key, type, default, meaning) as Markdown.

    \b
    Example:
      i2i config reference > docs/config-reference.md
    """
    from i2i.config.reference import config_reference as render

    click.echo(render(), nl=False)
