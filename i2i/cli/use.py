"""Using a trained model: translate, convert, eval, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from i2i.cli.base import DEVICE, POSITIVE, POSITIVE_FLOAT, main, reports_errors
from i2i.errors import CheckpointError, DataError, quoted

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


def _check_data_root(root: Path, split: str, given: bool) -> None:
    """A split folder given where the dataset root belongs gets its parent suggested."""
    where = "--data" if given else "the checkpoint's data.root"
    if (root / split).exists() or not root.is_dir():
        return
    if root.name == split or (root.parent / split).is_dir():
        raise DataError(
            f"{where} {quoted(root)} holds no '{split}' folder: it looks like a split folder "
            f"itself; give the dataset root, --data {quoted(root.parent)}"
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


@main.command("eval")
@checkpoint_option
@download_option
@click.option(
    "--data",
    "data_root",
    default=None,
    type=click.Path(file_okay=False),
    help="Dataset root holding the split folder.  [default: the checkpoint recipe's data.root]",
)
@click.option("--split", default="val", show_default=True)
@click.option(
    "--dataset",
    "dataset_name",
    default=None,
    help="Dataset component: aligned, paired_folders, ...  [default: the checkpoint recipe's "
    "data.dataset, else aligned]",
)
@click.option(
    "--direction",
    type=click.Choice(["AtoB", "BtoA"]),
    default=None,
    help="Default: the checkpoint's recipe, else AtoB.",
)
@click.option(
    "--size",
    type=POSITIVE,
    default=None,
    help="Resize pairs to SIZE² first, as the paper's test.  [default: the recipe's "
    "crop size, else 256]",
)
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False))
@click.option("--device", type=DEVICE, default="cpu", show_default=True)
@click.option("--eval", "eval_mode", is_flag=True, help="Eval mode instead of the paper's.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--palette-colors",
    type=click.IntRange(min=2),
    default=None,
    help="Add palette accuracy (per-pixel, per-class, IoU): cluster the targets of "
    "--palette-split into K colours (the maps analogue of the paper's FCN-score).",
)
@click.option(
    "--palette-split",
    default="train",
    show_default=True,
    help="Split whose targets the palette is taken from.",
)
@click.option(
    "--palette",
    "palette_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Score with the palette in this JSON file (as eval writes to OUT/palette.json).",
)
@click.option(
    "--fid-features",
    type=click.Path(dir_okay=False),
    default=None,
    help="Add FID and KID with this local feature network: the Inception weights (.pth) or "
    "any ONNX network. Nothing is downloaded.",
)
@max_pixels_option
@overwrite_option
@click.option("--progress/--no-progress", default=True, show_default=True)
@reports_errors
def evaluate_command(
    checkpoint: str,
    data_root: str | None,
    split: str,
    dataset_name: str | None,
    direction: str | None,
    size: int | None,
    out: str,
    device: str,
    eval_mode: bool,
    seed: int,
    palette_colors: int | None,
    palette_split: str,
    palette_file: str | None,
    fid_features: str | None,
    max_pixels: int | None,
    overwrite: bool,
    progress: bool,
) -> None:
    """Score a generator on a paired split: L1, PSNR, SSIM, sharpness; CSV, JSON and HTML.

    Optionally palette accuracy (--palette-colors or --palette) and FID/KID (--fid-features).

    \b
    Examples:
      i2i eval -c runs/maps/checkpoints/step_00200000.safetensors --data datasets/maps -o eval/
      i2i eval -c maps.safetensors --data datasets/maps --palette-colors 8 -o eval/
    """
    from i2i.data.images import set_max_pixels
    from i2i.evaluation.palette import Palette, palette_of_split
    from i2i.evaluation.report import REPORT_FILES, text_writer
    from i2i.evaluation.run import evaluate
    from i2i.inference.load import load_generator, resolve_checkpoint
    from i2i.outputs import OutputFolder
    from i2i.plugins import default_registry
    from i2i.provenance import provenance

    set_max_pixels(max_pixels)
    chosen = resolve_checkpoint(checkpoint)
    say_which_checkpoint(checkpoint, chosen)
    checkpoint = str(chosen)
    registry = default_registry()
    read = [Path(p) for p in (checkpoint, palette_file, fid_features) if p]
    outputs = OutputFolder(Path(out), "eval", Path(checkpoint), overwrite=overwrite, inputs=read)
    outputs.check([Path(out) / name for name in (*REPORT_FILES, "palette.json")])
    generator = load_generator(checkpoint, registry, device, direction)
    generator.check_mode(mode_for(eval_mode), checkpoint)
    data = generator.recipe.get("data", {})
    direction = direction or generator.direction
    size = size or data.get("crop_size", 256)
    node = {"name": dataset_name} if dataset_name else data.get("dataset", {"name": "aligned"})
    data_root_given = data_root is not None
    if data_root_given and not dataset_name and data.get("dataset") and not data.get("root"):
        # trained on data that has no folder (a generated set): the folder named is what counts
        click.echo(
            f"i2i: note: {quoted(Path(checkpoint).name)} was trained on "
            f"'{node.get('name')}', which reads no folder; scoring {quoted(data_root)} as "
            "aligned A|B pairs (--dataset NAME for another format)",
            err=True,
        )
        node = {"name": "aligned"}
    data_root = data_root or data.get("root")
    if data_root is None and node.get("name") == "aligned":
        raise CheckpointError(
            f"{quoted(checkpoint)} records no data.root; give the dataset with --data DIR"
        )
    if data_root is not None:
        _check_data_root(Path(data_root), split, given=data_root_given)
    dataset = registry.build("dataset", node, "--dataset", root=data_root, split=split)
    palette = None
    if palette_file:
        palette = Palette.load(Path(palette_file))
    elif palette_colors:
        source = registry.build("dataset", node, "--dataset", root=data_root, split=palette_split)
        channels = generator.out_channels
        palette = palette_of_split(source, direction, size, channels, palette_colors, seed)
    if palette is not None:
        outputs.write(Path(out) / "palette.json", text_writer(palette.to_json()))
    torch_seed(seed)
    used = {"model": {"generator": generator.node or {}}, "data": {"dataset": node}}
    info = {
        "provenance": {
            **provenance(used, registry),
            "trained_with": generator.recipe.get("provenance", {}),
        },
        "checkpoint": str(checkpoint),
        "data": str(data_root),
        "split": split,
        "direction": direction,
        "size": size,
        "mode": mode_for(eval_mode),
        "seed": seed,
    }
    summary = evaluate(
        generator,
        dataset,
        outputs,
        direction=direction,
        size=size,
        mode=mode_for(eval_mode),
        device=device,
        info=info,
        progress=progress,
        palette=palette,
        features=Path(fid_features) if fid_features else None,
    )
    means = ", ".join(f"{k} {v:.4g}" for k, v in {**summary["mean"], **summary["scores"]}.items())
    click.echo(f"i2i: {summary['images']} images: {means}; report in {out}/index.html", err=True)


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
