"""Inspecting commands: plugins and recipes."""

from __future__ import annotations

import sys

import click

from i2i.cli.base import main, reports_errors
from i2i.registry import KINDS


@main.command()
@click.option(
    "--kind",
    type=click.Choice(list(KINDS)),
    help="Only this kind of component.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with status 1 when a plugin is broken or two plugins register one name (for CI).",
)
@click.argument("pattern", default="*")
def plugins(kind: str | None, strict: bool, pattern: str) -> None:
    """List installed plugins and every component they register (PATTERN filters names).

    A component another plugin also registers is listed as plugin:name; the bare name
    belongs to the built-in plugin, or to neither. An exact NAME also prints its arguments,
    their defaults and what they mean.

    \b
    Examples:
      i2i plugins --kind discriminator
      i2i plugins unet              # the U-Net's arguments and defaults
      i2i plugins --strict          # in a plugin's CI: fail on broken plugins and clashes
    """
    from i2i.plugin_listing import cached_listing

    listing = cached_listing()
    click.echo("plugins:")
    for line in listing.plugin_lines:
        click.echo(f"  {line}")
    click.echo("components:")
    click.echo(f"  {'kind':<14} {'name':<24} {'plugin':<14} summary")
    for c in listing.matching(kind, pattern):
        click.echo(f"  {c['kind']:<14} {c['shown']:<24} {c['plugin']:<14} {c['summary']}")
    if listing.names_exactly(kind, pattern):
        _print_arguments(kind, pattern)
    if strict and listing.problems:
        click.echo(
            f"i2i: error: {listing.problems} plugin problem(s); see the list above", err=True
        )
        sys.exit(1)


def _print_arguments(kind: str | None, pattern: str) -> None:
    """The arguments of the components ``pattern`` names exactly (this loads the plugins)."""
    from i2i.plugins import default_registry
    from i2i.registry import SHARED_ARGUMENTS

    registry = default_registry()
    exact = [c for c in registry.components(kind, every=True) if pattern in (c.name, c.qualified)]
    for component in exact:
        click.echo(f"\n{component.kind} {component.qualified}: {component.summary}")
        for argument in component.arguments():
            shared = argument.name in SHARED_ARGUMENTS.get(component.kind, ())
            default = "(given by i2i)" if shared else argument.shown_default
            click.echo(f"  {argument.name:<18} {default:<15} {argument.doc}")


@main.group()
def plugin() -> None:
    """Write plugins.

    \b
    Example:
      i2i plugin new edges                 # writes ./i2i-edges, ready for pip install -e
      i2i plugin new mygan --kind method   # a training method, its recipe and tests
    """


@plugin.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Folder to write the package folder i2i-NAME into.",
)
@click.option(
    "--kind",
    type=click.Choice(["components", "method"]),
    default="components",
    show_default=True,
    help="components: an example generator, discriminator and loss term; method: a training "
    "method with its recipe.",
)
@reports_errors
def plugin_new(name: str, parent: str, kind: str) -> None:
    """Write a plugin package NAME: example components (or a method), hooks and tests that pass.

    \b
    Then:
      cd i2i-NAME && pip install -e ".[test]" && pytest
    """
    from pathlib import Path

    from i2i.scaffold import new_plugin

    folder = new_plugin(name, Path(parent), kind)
    click.echo(
        f"i2i: wrote {folder}; next: cd {folder} && pip install -e '.[test]' && pytest", err=True
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
