"""The Hugging Face hub commands: the hub-layout export behind `export --format hf`, and push."""

from __future__ import annotations

from pathlib import Path

import click

from i2i.cli.base import main, reports_errors
from i2i.cli.use import checkpoint_option
from i2i.errors import CheckpointError, quoted


def export_hub(checkpoint: str, folder: Path, license: str | None, overwrite: bool) -> list[Path]:
    """Write the hub-layout folder of ``checkpoint`` into ``folder`` (``i2i export --format
    hf``); returns its files."""
    from i2i.card import last_validation, model_card
    from i2i.checkpoint import load_checkpoint
    from i2i.hub import WEIGHTS, export_hub_folder
    from i2i.inference.load import resolve_checkpoint
    from i2i.outputs import OutputFolder

    source = resolve_checkpoint(checkpoint)
    if source.suffix != ".safetensors":
        raise CheckpointError(
            f"{quoted(source)}: --format hf exports i2i checkpoints (.safetensors); convert "
            "others first with i2i convert"
        )
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"{quoted(folder)} is a file; --format hf writes a folder")
    outputs = OutputFolder(folder, "export", source, overwrite=overwrite, inputs=[source])
    _, meta = load_checkpoint(source, prefix="\0")
    run_metrics = source.parent.parent / "metrics.jsonl"
    metrics = last_validation(run_metrics if source.parent.name == "checkpoints" else None)
    card = model_card(
        folder / WEIGHTS,
        meta,
        title=f"{folder.name} (exported from {source.name})",
        metrics=metrics,
        relative_to=folder,
    )
    written = export_hub_folder(source, outputs, card, license, metrics)
    click.echo(f"i2i: wrote {folder} ({', '.join(p.name for p in written)})", err=True)
    return written


@main.command()
@click.argument("repo")
@checkpoint_option
@click.option("--dry-run", is_flag=True, help="List what would be uploaded; upload nothing.")
@click.option("--private", is_flag=True, help="Create the repository private.")
@click.option("--license", default=None, help="The license named in the model card.")
@click.option("--message", default="Upload i2i model", show_default=True, help="Commit message.")
@reports_errors
def push(
    repo: str, checkpoint: str, dry_run: bool, private: bool, license: str | None, message: str
) -> None:
    """Upload a model to the Hugging Face hub as REPO (ORG/NAME), in the hub's layout.

    Exports to a temporary folder (as `i2i export --format hf`) and uploads model.safetensors,
    config.json and README.md with huggingface_hub (log in first: `hf auth login`).

    \b
    Examples:
      i2i push -c runs/maps me/pix2pix-maps --dry-run
      i2i push -c runs/maps me/pix2pix-maps --license mit
    """
    import tempfile

    from i2i.hub import HUB_NAME, HubError, upload_folder

    if not HUB_NAME.match(repo) or repo.startswith("hf://") or "@" in repo:
        raise HubError(f"{quoted(repo)} is not a hub repository name; use ORG/NAME")
    with tempfile.TemporaryDirectory(prefix="i2i-push-") as temporary:
        files = export_hub(checkpoint, Path(temporary) / "model", license, overwrite=False)
        for path in sorted(files):
            click.echo(f"{path.name}\t{path.stat().st_size} bytes")
        if dry_run:
            click.echo(f"i2i: dry run: nothing uploaded to {repo}", err=True)
            return
        url = upload_folder(Path(temporary) / "model", repo, private, message)
    click.echo(f"i2i: uploaded to {url}", err=True)
