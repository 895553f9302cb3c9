"""Using a trained model: translate and convert (and the options every model command shares)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from i2i.cli.base import DEVICE, POSITIVE, main, reports_errors
from i2i.errors import quoted

checkpoint_option = click.option(
    "--checkpoint",
    "-c",
    required=True,
    type=click.Path(),
    help="i2i .safetensors, official *_net_G.pth, exported .onnx, a run directory (its "
    "best checkpoint where one is tracked, else its latest), a Hugging Face hub-layout folder, "
    "or hf://ORG/NAME[@REVISION] (from the local hub cache; see --download).",
)


def _allow_downloads(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    from i2i.hub import allow_downloads

    allow_downloads(value)


download_option = click.option(
    "--download",
    is_flag=True,
    expose_value=False,
    callback=_allow_downloads,
    help="With -c hf://ORG/NAME: fetch the model from the Hugging Face hub when it is not in "
    "the local cache (HF_HUB_OFFLINE=1 still forbids it).",
)
max_pixels_option = click.option(
    "--max-pixels",
    type=POSITIVE,
    default=None,
    help="Refuse images of more pixels, unread (a decompression-bomb guard).  [default: "
    "$I2I_MAX_PIXELS, else 178956970]",
)
overwrite_option = click.option(
    "--overwrite",
    is_flag=True,
    help="Replace existing files at the output paths (never the inputs).",
)


def say_which_checkpoint(given: str, chosen: Path) -> None:
    """When ``-c`` named a run folder or a hub model, say which file that meant."""
    if Path(given) == chosen:
        return
    why = {"best.safetensors": "its best", "model.safetensors": "its weights"}
    click.echo(f"i2i: {given}: {why.get(chosen.name, 'its latest')}: {chosen}", err=True)


def mode_for(eval_mode: bool) -> str:
    """The test-time mode a command's --eval flag asks for: ``eval``, else the paper's."""
    return "eval" if eval_mode else "paper"


@main.command()
@checkpoint_option
@download_option
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the outputs (same names as the inputs).",
)
@click.option(
    "--aligned",
    is_flag=True,
    help="Inputs are aligned A|B files: translate the side --direction names.",
)
@click.option(
    "--direction",
    type=click.Choice(["AtoB", "BtoA"]),
    default=None,
    help="Which way to translate: picks the network of a two-direction model (CycleGAN), and "
    "with --aligned the half (AtoB the left, BtoA the right).  [default: the checkpoint's "
    "recipe, else AtoB]",
)
@click.option(
    "--tile",
    type=POSITIVE,
    default=None,
    help="Translate in overlapping TILE×TILE tiles (for images too large at once).",
)
@click.option(
    "--tile-overlap",
    type=click.IntRange(min=0),
    default=None,
    help="Overlap of neighbouring tiles in pixels.  [default: TILE/4]",
)
@click.option(
    "--batch-size",
    type=POSITIVE,
    default=1,
    show_default=True,
    help="Images (or tiles) per forward pass; in paper mode each image keeps its own "
    "statistics, so the outputs do not depend on it.",
)
@click.option(
    "--load-size",
    type=click.IntRange(min=0),
    default=None,
    help="Resize inputs to N×N first; outputs are N×N. --aligned inputs default to the size "
    "the model was trained on (its data.crop_size, as the authors' test.py does, 256 for "
    "maps); 0 keeps every input's own size.",
)
@click.option(
    "--device", type=DEVICE, default="cpu", show_default=True, help="cpu, cuda, cuda:1, ..."
)
@click.option(
    "--eval",
    "eval_mode",
    is_flag=True,
    help="Eval mode (no dropout, running statistics) instead of the paper's test mode.",
)
@click.option("--seed", type=int, default=None, help="Seed the paper mode's dropout.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["png", "jpg", "tif", "webp", "keep"]),
    default="png",
    show_default=True,
    help="Output format: lossless PNG whatever the input, or keep each input's format.",
)
@click.option(
    "--depth",
    type=click.Choice(["auto", "8", "16"]),
    default="auto",
    show_default=True,
    help="Bits per value of the outputs: auto is 16 for a model trained on 16-bit (or float) "
    "targets, else 8.",
)
@max_pixels_option
@overwrite_option
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=False))
@reports_errors
def translate(
    checkpoint: str,
    out: str,
    aligned: bool,
    direction: str | None,
    tile: int | None,
    tile_overlap: int | None,
    batch_size: int,
    load_size: int | None,
    device: str,
    eval_mode: bool,
    seed: int | None,
    output_format: str,
    depth: str,
    max_pixels: int | None,
    overwrite: bool,
    progress: bool,
    inputs: tuple[str, ...],
) -> None:
    """Translate INPUTS (image files or folders) into --out, each at its own size, as PNG.

    Any size works: inputs are padded (reflection) to the generator's size multiple and the
    output is cropped back. By default G runs as in the paper at test time (dropout on,
    BatchNorm on the batch's own statistics); --eval switches to eval mode.

    An output never replaces an input, nor (without --overwrite) a file that is not an
    earlier translation of the same input; all of that is checked before any work.

    \b
    Examples:
      i2i translate -c runs/quickstart/checkpoints/step_00000300.safetensors -o out photos/
      i2i translate -c latest_net_G.pth -o out --aligned --direction AtoB datasets/maps/val
      i2i translate -c model.safetensors -o out --aligned --load-size 256 --batch-size 8 val/
      i2i translate -c model.onnx -o out --tile 512 mosaic.png
    """
    from i2i.data.images import set_max_pixels
    from i2i.inference.model import Model
    from i2i.inference.translate import translate_files

    set_max_pixels(max_pixels)
    model = Model(checkpoint, device)
    say_which_checkpoint(checkpoint, model.path)
    direction_given = direction is not None
    direction = direction or model.direction
    generator = model.generator(direction)
    generator.check_mode(mode_for(eval_mode), checkpoint)  # before any work: Model checks again
    if generator.module is None and seed is not None and generator.fixed_mode == "paper":
        click.echo("i2i: note: --seed does not reach onnxruntime's dropout", err=True)
    if seed is not None:
        torch_seed(seed)
    _warn_about_halves(model, [Path(p) for p in inputs], aligned, direction_given)
    trained_size = model.test_size() if aligned and load_size is None else None
    if trained_size:
        load_size = trained_size
        click.echo(
            f"i2i: note: --aligned inputs are resized to {load_size}x{load_size}, the size the "
            "model was trained on (as the authors' test.py does); --load-size 0 keeps theirs",
            err=True,
        )
    written = translate_files(
        model,
        [Path(p) for p in inputs],
        Path(out),
        direction=direction,
        mode=mode_for(eval_mode),
        side=("A" if direction == "AtoB" else "B") if aligned else None,
        tile=tile,
        overlap=tile_overlap,
        batch_size=batch_size,
        progress=progress,
        load_size=load_size or None,
        overwrite=overwrite,
        format=output_format,
        depth=None if depth == "auto" else int(depth),
    )
    click.echo(f"i2i: wrote {len(written)} image(s) to {out}", err=True)


def _warn_about_halves(model: Any, inputs: list[Path], aligned: bool, direction: bool) -> None:
    """Say so where inputs look like A|B pairs but are translated whole."""
    from i2i.inference.translate import expand_inputs, looks_aligned

    if aligned:
        return
    trained_on = model.generator().recipe.get("data", {}).get("dataset", {}).get("name")
    pair = looks_aligned(expand_inputs(inputs)) if trained_on == "aligned" else None
    if pair is not None:
        click.echo(
            f"i2i: warning: {quoted(pair)} is twice as wide as high, like the A|B pairs this "
            "model was trained on, and is translated whole; pass --aligned to translate one "
            "half",
            err=True,
        )
    if direction and len(model.directions) == 1:
        click.echo(
            "i2i: warning: --direction picks the half of --aligned inputs; without --aligned, "
            "this one-network model translates each input whole",
            err=True,
        )


def torch_seed(seed: int) -> None:
    """Seed torch's generators (the paper mode's dropout)."""
    import torch

    torch.manual_seed(seed)


@main.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@overwrite_option
@reports_errors
def convert(source: str, target: str, overwrite: bool) -> None:
    """Convert a foreign generator checkpoint (e.g. official *_net_G.pth) to .safetensors.

    \b
    Example:
      i2i convert latest_net_G.pth maps_unet.safetensors
    """
    from i2i.inference.load import convert_to_checkpoint
    from i2i.plugins import default_registry

    written = convert_to_checkpoint(Path(source), Path(target), default_registry(), overwrite)
    click.echo(f"i2i: wrote {written}", err=True)
