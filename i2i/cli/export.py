"""`i2i export`: a generator to ONNX (fp32 or int8) or to the Hugging Face hub's layout."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from i2i.cli.base import POSITIVE, main, reports_errors
from i2i.cli.use import (
    checkpoint_option,
    download_option,
    mode_for,
    overwrite_option,
    say_which_checkpoint,
)
from i2i.errors import CheckpointError, DataError, quoted

if TYPE_CHECKING:  # torch is imported by the command, not by `i2i --help`
    from torch import Tensor

    from i2i.inference.load import LoadedGenerator
    from i2i.outputs import OutputFolder

QUALITY_IMAGES = 8
"""Held-out images the int8 model is compared with the fp32 one on, at export."""


@main.command()
@checkpoint_option
@download_option
@click.option(
    "--eval",
    "eval_mode",
    is_flag=True,
    help="Export in eval mode (no dropout, running statistics) instead of the paper's.",
)
@click.option(
    "--direction",
    type=click.Choice(["AtoB", "BtoA"]),
    default=None,
    help="The network of a two-direction model (CycleGAN's G_A or G_B).  [default: the "
    "checkpoint's recipe]",
)
@click.argument("target", type=click.Path())
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["onnx", "hf"]),
    default=None,
    help="onnx: TARGET.onnx and TARGET.README.md; hf: the folder TARGET in the Hugging Face "
    "hub's layout (model.safetensors, config.json, README.md).  [default: hf when TARGET is a "
    "folder or has no suffix, else onnx]",
)
@click.option(
    "--int8",
    is_flag=True,
    help="onnx: quantise to int8 for CPUs (static, calibrated on the training data); the "
    "card states its PSNR against the fp32 model. Opt-in: it costs some accuracy.",
)
@click.option(
    "--calibration",
    type=click.Path(),
    default=None,
    help="--int8: the dataset folder to calibrate on, read as the run's data.dataset.  "
    "[default: the run's data.root]",
)
@click.option(
    "--calibration-images",
    type=POSITIVE,
    default=32,
    show_default=True,
    help="--int8: training images onnxruntime sets the activation ranges from.",
)
@click.option("--license", default=None, help="hf: the license named in the model card.")
@overwrite_option
@reports_errors
def export(
    checkpoint: str,
    target: str,
    eval_mode: bool,
    direction: str | None,
    export_format: str | None,
    int8: bool,
    calibration: str | None,
    calibration_images: int,
    license: str | None,
    overwrite: bool,
) -> None:
    """Export a generator to ONNX, or to a Hugging Face hub-layout folder, with its model card.

    ONNX: dynamic batch and image size; TARGET.README.md beside it says what the model is
    (recipe, plugins, data) and how to use it. The test-time mode is fixed in the graph: the
    paper's by default (dropout drawn anew on every run, each image normalised by its own
    statistics), or --eval. With --int8 the graph runs int8 convolutions (onnxruntime's
    static quantisation, calibrated on training images): faster on CPUs, slightly less exact.

    hf: model.safetensors (the translating network, or both of CycleGAN), config.json (what
    rebuilds it) and README.md (the card, with the hub's front matter); the folder loads with
    -c FOLDER and i2i.load, and `i2i push` uploads it.

    \b
    Examples:
      i2i export -c runs/quickstart/checkpoints/step_00000300.safetensors quickstart.onnx
      i2i export -c maps.safetensors --eval maps_eval.onnx
      i2i export -c runs/maps --int8 maps_int8.onnx
      i2i export -c runs/quickstart --format hf hub/quickstart
    """
    folder_like = Path(target).is_dir() or not Path(target).suffix
    export_format = export_format or ("hf" if folder_like else "onnx")
    if export_format == "hf":
        if int8:
            raise click.UsageError("--int8 is for --format onnx; hub folders hold the weights")
        from i2i.cli.hub import export_hub

        export_hub(checkpoint, Path(target), license, overwrite)
        return
    from i2i.card import model_card
    from i2i.checkpoint import load_checkpoint
    from i2i.evaluation.report import text_writer
    from i2i.inference.load import load_generator, resolve_checkpoint
    from i2i.inference.onnx import export_onnx
    from i2i.outputs import OutputFolder
    from i2i.plugins import default_registry

    source = resolve_checkpoint(checkpoint)
    say_which_checkpoint(checkpoint, source)
    outputs = OutputFolder(
        Path(target).parent, "export", source, overwrite=overwrite, inputs=[source]
    )
    card = Path(target).with_suffix(".README.md")
    outputs.check([Path(target), card])
    generator = load_generator(source, default_registry(), direction=direction)
    if generator.module is None:
        raise CheckpointError(f"{quoted(source)} is already an ONNX model")
    quality: dict[str, Any] = {}
    if int8:
        written, quality = _export_int8(
            generator, Path(target), mode_for(eval_mode), outputs, calibration, calibration_images
        )
    else:
        written = export_onnx(generator, Path(target), mode=mode_for(eval_mode), outputs=outputs)
    _, meta = load_checkpoint(source, prefix="\0") if source.suffix == ".safetensors" else ({}, {})
    meta = meta or {"recipe": generator.recipe}
    text = model_card(
        written,
        meta,
        title=f"{written.name} (exported from {source.name})",
        relative_to=written.parent,
    )
    if quality:
        text += _int8_section(quality)
    outputs.write(card, text_writer(text))
    click.echo(f"i2i: wrote {written} and its model card {card.name}", err=True)


def _export_int8(
    generator: LoadedGenerator,
    target: Path,
    mode: str,
    outputs: OutputFolder,
    calibration_root: str | None,
    count: int,
) -> tuple[Path, dict[str, Any]]:
    """Export fp32 with a sub-pixel decoder, quantise, measure against fp32, write ``target``."""
    import onnx

    from i2i.inference.int8 import agreement, quantize, subpixel_decoder
    from i2i.inference.onnx import METADATA_KEY, export_onnx, load_onnx
    from i2i.outputs import OutputFolder

    calibration, held_out, described = _calibration_inputs(generator, calibration_root, count)
    with tempfile.TemporaryDirectory(prefix="i2i-export-") as work:
        scratch = OutputFolder(Path(work), "export", generator.source)
        fp32_path = Path(work) / "fp32.onnx"
        with subpixel_decoder(generator.module) as rewritten:
            export_onnx(generator, fp32_path, mode=mode, outputs=scratch)
        quantized = quantize(fp32_path, Path(work) / "int8.onnx", calibration, scratch)
        fp32, int8 = load_onnx(fp32_path), load_onnx(quantized)
        quality = {
            "weights": "int8 per channel",
            "activations": "uint8",
            "calibration": described,
            "rewritten_transposed_convolutions": rewritten,
            "compared_on": held_out[1],
            "psnr_vs_fp32": round(agreement(fp32, int8, held_out[0]), 2),
        }
        if mode == "paper":  # dropout makes two fp32 runs differ too: the yardstick
            quality["psnr_fp32_vs_itself"] = round(agreement(fp32, fp32, held_out[0]), 2)
        model = onnx.load(str(quantized))
    info = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps({**info, "int8": quality})})
    written = outputs.write(target, lambda name: onnx.save(model, name, format="protobuf"))
    return written, quality


def _calibration_inputs(
    generator: LoadedGenerator, root: str | None, count: int
) -> tuple[list[Tensor], tuple[list[Tensor], str], str]:
    """Calibration batches from the training split, and held-out inputs to compare on."""
    from i2i.plugins import default_registry

    data = generator.recipe.get("data") or {}
    node = data.get("dataset") or {"name": "aligned"}
    root = root if root is not None else data.get("root")
    registry = default_registry()
    where = f"data.dataset {node.get('name')}" + (f" in {quoted(root)}" if root else "")
    try:
        train = registry.build("dataset", node, "data.dataset", root=root, split="train")
        inputs = _inputs(generator, train, count)
    except (DataError, OSError) as error:
        raise DataError(
            f"--int8 calibrates on the run's training data and cannot read {where}: {error}; "
            "give its folder with --calibration DIR"
        ) from None
    described = f"{len(inputs)} images of the train split of {where}"
    try:
        val_split = data.get("val_split") or "val"
        val = registry.build("dataset", node, "data.dataset", root=root, split=val_split)
        held = (_inputs(generator, val, QUALITY_IMAGES), f"the {val_split} split")
    except (DataError, OSError):
        held = (inputs[:QUALITY_IMAGES], "calibration images (no held-out split was readable)")
    return inputs, held, described


def _inputs(generator: LoadedGenerator, dataset: Any, count: int) -> list[Tensor]:
    """Up to ``count`` evenly spaced inputs of ``dataset`` as the generator takes them."""
    from torch.utils.data import default_collate

    from i2i.data.augment import held_out_pairs
    from i2i.inference.translate import round_up

    data = generator.recipe.get("data") or {}
    # the graph takes multiples of its size rule only
    size = round_up(data.get("crop_size") or 256, generator.size_multiple)
    length = len(dataset)
    if length == 0:
        raise DataError("it holds no images")
    picks = sorted({i * length // min(count, length) for i in range(min(count, length))})
    channels = (generator.in_channels, generator.out_channels)
    batches = [default_collate([dataset[i]]) for i in picks]
    direction = generator.direction
    return [held_out_pairs(b, direction, size, channels, "cpu")[0] for b in batches]


def _int8_section(quality: dict[str, Any]) -> str:
    """The model card's paragraph on what int8 cost."""
    lines = [
        "",
        "## int8",
        "",
        f"Quantised with onnxruntime's static quantisation ({quality['weights']} weights, "
        f"{quality['activations']} activations), calibrated on {quality['calibration']}. "
        f"On {QUALITY_IMAGES} images of {quality['compared_on']} its outputs are "
        f"**{quality['psnr_vs_fp32']} dB** PSNR from the fp32 model's",
    ]
    if "psnr_fp32_vs_itself" in quality:
        lines[-1] += (
            f" (two runs of the fp32 model differ by {quality['psnr_fp32_vs_itself']} dB: the "
            "paper's test-time dropout draws anew each time)"
        )
    lines[-1] += ". Use the fp32 export where that matters."
    return "\n".join(lines) + "\n"
