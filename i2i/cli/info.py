"""Inspecting commands: plugins and recipes."""

from __future__ import annotations

import click

from i2i.cli.base import main, reports_errors


@main.command()
@click.option(
    "--kind",
    type=click.Choice(["generator", "discriminator", "loss", "dataset", "converter"]),
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
