"""Dataset commands."""

from __future__ import annotations

from pathlib import Path

import click

from i2i.cli.base import main, reports_errors


@main.group()
def data() -> None:
    """Get datasets."""


@data.command("download")
@click.argument("name")
@click.option(
    "--dir",
    "folder",
    default="datasets",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to put NAME/ in.",
)
@click.option("--sha256", default=None, help="Expected SHA-256 of the archive.")
@click.option("--progress/--no-progress", default=True, show_default=True)
@reports_errors
def data_download(name: str, folder: str, sha256: str | None, progress: bool) -> None:
    """Download and unpack pix2pix dataset NAME (cityscapes, edges2handbags, edges2shoes,
    facades, maps, night2day). An interrupted download continues where it stopped.

    \b
    Example:
      i2i data download maps --dir datasets      # then: i2i run recipes/pix2pix_maps.yaml
    """
    from i2i.data.download import download_dataset

    where = download_dataset(name, Path(folder), sha256, progress)
    click.echo(f"i2i: {name} is in {where}", err=True)
