"""The ``i2i`` command line: thin commands that parse, call the library and report."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from i2i import __version__
from i2i.errors import I2IError, RunInterrupted

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
        except RunInterrupted as error:
            click.echo(f"i2i: {error}", err=True)
            sys.exit(130)
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


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("overrides", nargs=-1)
@reports_errors
def resume(run_dir: str, overrides: tuple[str, ...]) -> None:
    """Continue the run in RUN_DIR from its last checkpoint, exactly where it stopped.

    Networks, optimisers, learning-rate schedule, epoch, position in the epoch and every
    random generator are restored. OVERRIDES (key=value) change the recipe, e.g. to train
    longer; metrics logged after the checkpoint by a killed run are dropped.

    \b
    Examples:
      i2i resume runs/pix2pix_maps
      i2i resume runs/smoke train.max_steps=400
    """
    from i2i.plugins import default_registry
    from i2i.train.loop import fit
    from i2i.train.loop import resume as resume_run

    prepared = resume_run(Path(run_dir), overrides, default_registry())
    click.echo(
        f"i2i: resuming at step {prepared.state.step} of {prepared.total_steps} "
        f"on {prepared.device}; run in {run_dir}",
        err=True,
    )
    last = fit(prepared)
    click.echo(f"i2i: done. checkpoint {last}", err=True)


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


def _mode(eval_mode: bool) -> str:
    return "eval" if eval_mode else "paper"


@main.command()
@click.option(
    "--checkpoint",
    "-c",
    required=True,
    type=click.Path(dir_okay=False),
    help="i2i .safetensors, official *_net_G.pth, or exported .onnx.",
)
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
    default="AtoB",
    show_default=True,
    help="With --aligned: AtoB translates the left half, BtoA the right.",
)
@click.option(
    "--tile",
    type=int,
    default=None,
    help="Translate in overlapping TILE×TILE tiles (for images too large at once).",
)
@click.option(
    "--tile-overlap",
    type=int,
    default=None,
    help="Overlap of neighbouring tiles in pixels.  [default: TILE/4]",
)
@click.option(
    "--batch-size",
    type=int,
    default=1,
    show_default=True,
    help="Images (or tiles) per forward pass.",
)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:1, ...")
@click.option(
    "--eval",
    "eval_mode",
    is_flag=True,
    help="Eval mode (no dropout, running statistics) instead of the paper's test mode.",
)
@click.option("--seed", type=int, default=None, help="Seed the paper mode's dropout.")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=False))
@reports_errors
def translate(
    checkpoint: str,
    out: str,
    aligned: bool,
    direction: str,
    tile: int | None,
    tile_overlap: int | None,
    batch_size: int,
    device: str,
    eval_mode: bool,
    seed: int | None,
    progress: bool,
    inputs: tuple[str, ...],
) -> None:
    """Translate INPUTS (image files or folders) into --out, each at its own size.

    Any size works: inputs are padded (reflection) to the generator's size multiple and the
    output is cropped back. By default G runs as in the paper at test time (dropout on,
    BatchNorm on the batch's own statistics); --eval switches to eval mode.

    \b
    Examples:
      i2i translate -c runs/quickstart/checkpoints/step_00000300.safetensors -o out photos/
      i2i translate -c latest_net_G.pth -o out --aligned --direction AtoB datasets/maps/val
      i2i translate -c model.onnx -o out --tile 512 mosaic.png
    """
    from i2i.inference.load import load_generator
    from i2i.inference.translate import translate_files
    from i2i.plugins import default_registry
    from i2i.testtime import generator_mode

    generator = load_generator(checkpoint, default_registry(), device)
    if seed is not None:
        torch_seed(seed)
    overlap = tile_overlap if tile_overlap is not None else (tile or 0) // 4
    arguments = dict(
        side=("A" if direction == "AtoB" else "B") if aligned else None,
        tile=tile,
        overlap=overlap,
        batch_size=batch_size,
        device=device,
        progress=progress,
    )
    paths = [Path(p) for p in inputs]
    if generator.module is None:
        if not eval_mode:
            click.echo("i2i: note: ONNX models run in eval mode", err=True)
        written = translate_files(generator, paths, Path(out), **arguments)
    else:
        with generator_mode(generator.module, _mode(eval_mode)):
            written = translate_files(generator, paths, Path(out), **arguments)
    click.echo(f"i2i: wrote {len(written)} image(s) to {out}", err=True)


def torch_seed(seed: int) -> None:
    """Seed torch's generators (the paper mode's dropout)."""
    import torch

    torch.manual_seed(seed)


@main.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@reports_errors
def convert(source: str, target: str) -> None:
    """Convert a foreign generator checkpoint (e.g. official *_net_G.pth) to .safetensors.

    \b
    Example:
      i2i convert latest_net_G.pth maps_unet.safetensors
    """
    from i2i.inference.load import convert_to_checkpoint
    from i2i.plugins import default_registry

    written = convert_to_checkpoint(Path(source), Path(target), default_registry())
    click.echo(f"i2i: wrote {written}", err=True)


@main.command("eval")
@click.option("--checkpoint", "-c", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--data",
    "data_root",
    required=True,
    type=click.Path(file_okay=False),
    help="Dataset root holding the split folder.",
)
@click.option("--split", default="val", show_default=True)
@click.option(
    "--dataset",
    "dataset_name",
    default="aligned",
    show_default=True,
    help="Dataset component: aligned, paired_folders, ...",
)
@click.option(
    "--direction",
    type=click.Choice(["AtoB", "BtoA"]),
    default=None,
    help="Default: the checkpoint's recipe, else AtoB.",
)
@click.option(
    "--size",
    type=int,
    default=None,
    help="Resize pairs to SIZE² first, as the paper's test.  [default: the recipe's "
    "crop size, else 256]",
)
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False))
@click.option("--device", default="cpu", show_default=True)
@click.option("--eval", "eval_mode", is_flag=True, help="Eval mode instead of the paper's.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--progress/--no-progress", default=True, show_default=True)
@reports_errors
def evaluate_command(
    checkpoint: str,
    data_root: str,
    split: str,
    dataset_name: str,
    direction: str | None,
    size: int | None,
    out: str,
    device: str,
    eval_mode: bool,
    seed: int,
    progress: bool,
) -> None:
    """Score a generator on a paired split: L1, PSNR, SSIM, sharpness; CSV, JSON and HTML.

    \b
    Example:
      i2i eval -c runs/maps/checkpoints/step_00200000.safetensors --data datasets/maps -o eval/
    """
    from i2i.evaluation.run import evaluate
    from i2i.inference.load import load_generator
    from i2i.plugins import default_registry

    registry = default_registry()
    generator = load_generator(checkpoint, registry, device)
    data = generator.recipe.get("data", {})
    direction = direction or data.get("direction", "AtoB")
    size = size or data.get("crop_size", 256)
    dataset = registry.build(
        "dataset", {"name": dataset_name}, "--dataset", root=data_root, split=split
    )
    torch_seed(seed)
    info = {
        "checkpoint": str(checkpoint),
        "data": str(data_root),
        "split": split,
        "direction": direction,
        "size": size,
        "mode": "eval" if eval_mode or generator.module is None else "paper",
        "seed": seed,
    }
    summary = evaluate(
        generator,
        dataset,
        Path(out),
        direction=direction,
        size=size,
        mode=_mode(eval_mode),
        device=device,
        info=info,
        progress=progress,
    )
    means = ", ".join(f"{k} {v:.4g}" for k, v in summary["mean"].items())
    click.echo(f"i2i: {summary['images']} images: {means}; report in {out}/index.html", err=True)


@main.command()
@click.option("--checkpoint", "-c", required=True, type=click.Path(dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@reports_errors
def export(checkpoint: str, target: str) -> None:
    """Export a generator to ONNX (eval mode, dynamic batch and image size).

    \b
    Example:
      i2i export -c runs/quickstart/checkpoints/step_00000300.safetensors quickstart.onnx
    """
    from i2i.inference.load import load_generator
    from i2i.inference.onnx import export_onnx
    from i2i.plugins import default_registry

    written = export_onnx(load_generator(checkpoint, default_registry()), Path(target))
    click.echo(f"i2i: wrote {written}", err=True)


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
