"""``i2i serve``: try a model in a browser."""

from __future__ import annotations

import click

from i2i.cli.base import DEVICE, POSITIVE, POSITIVE_FLOAT, main, reports_errors
from i2i.cli.use import download_option
from i2i.errors import CheckpointError


@main.command()
@click.argument("checkpoint", type=click.Path())
@download_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--device", type=DEVICE, default="cpu", show_default=True)
@click.option(
    "--max-upload-mb",
    type=POSITIVE_FLOAT,
    default=20.0,
    show_default=True,
    help="Largest upload accepted.",
)
@click.option(
    "--max-pixels",
    type=POSITIVE,
    default=16 * 2**20,
    show_default=True,
    help="Largest image (width × height) accepted.",
)
@reports_errors
def serve(
    checkpoint: str, host: str, port: int, device: str, max_upload_mb: float, max_pixels: int
) -> None:
    """Try CHECKPOINT (a checkpoint file or run directory) in a browser: upload, drag or draw
    an image and see its translation beside it.

    The page is served by i2i itself (nothing from the internet), on this machine only
    unless --host says otherwise.

    \b
    Example:
      i2i serve runs/maps            # then open http://127.0.0.1:8000
    """
    from i2i.serve import serve as make_server

    try:
        server = make_server(
            checkpoint,
            host=host,
            port=port,
            device=device,
            max_upload=int(max_upload_mb * 2**20),
            max_pixels=max_pixels,
        )
    except OSError as error:
        raise CheckpointError(
            f"cannot listen on {host}:{port}: {error.strerror}; try --port"
        ) from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"i2i: warning: listening on {host}: other machines can reach the page", err=True
        )
    address = f"http://{host}:{server.server_address[1]}"
    click.echo(f"i2i: serving {checkpoint} at {address} (Ctrl-C stops)", err=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
