"""``i2i eval``: score a model on a dataset split and write a report."""

from __future__ import annotations

from pathlib import Path

import click

from i2i.cli.base import DEVICE, POSITIVE, main, reports_errors
from i2i.cli.use import (
    checkpoint_option,
    download_option,
    max_pixels_option,
    mode_for,
    overwrite_option,
    say_which_checkpoint,
    torch_seed,
)
from i2i.errors import CheckpointError, DataError, quoted


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
