"""How a study scores its runs: one palette for all, and the ``i2i eval`` command of each."""

from __future__ import annotations

from pathlib import Path

from i2i.checkpoint import list_checkpoints
from i2i.errors import RecipeError, quoted
from i2i.registry import Registry
from i2i.study.schema import Plan, Variant


def held_out_split(plan: Plan) -> str:
    """The split every run is scored on."""
    split = plan.study.eval.split or plan.runs[0].recipe.data.val_split
    if not split:
        raise RecipeError(
            f"study {quoted(plan.path)}: the recipe has no data.val_split; set study.eval.split"
        )
    return split


def prepare_palette(plan: Plan, folder: Path, registry: Registry) -> Path | None:
    """The study's palette file, computed once from the training targets and then reused.

    Every variant is scored with the same colours, and a continued study with the very file
    the first part used.
    """
    colours = plan.study.eval.palette_colors
    if not colours:
        return None
    path = folder / "palette.json"
    if path.is_file():
        return path
    from i2i.evaluation.palette import palette_of_split

    recipe = plan.runs[0].recipe
    data = recipe.data
    split = plan.study.eval.palette_split or data.train_split
    dataset = registry.build("dataset", data.dataset, "data.dataset", root=data.root, split=split)
    size = plan.study.eval.size or data.crop_size
    palette = palette_of_split(
        dataset, data.direction, size, recipe.model.out_channels, colours, plan.study.eval.seed
    )
    palette.save(path)
    return path


def eval_command(plan: Plan, variant: Variant, run_dir: Path, palette: Path | None) -> list[str]:
    """The ``i2i eval`` arguments that score ``run_dir``'s final checkpoint."""
    settings = plan.study.eval
    checkpoint = list_checkpoints(run_dir / "checkpoints")[-1]
    arguments = [
        "eval",
        "-c",
        str(checkpoint),
        "-o",
        str(run_dir / "eval"),
        "--split",
        held_out_split(plan),
        "--size",
        str(settings.size or variant.recipe.data.crop_size),
        "--seed",
        str(settings.seed),
        "--no-progress",
        "--overwrite",  # the eval folder of a study's run is the study's own, re-scored at will
    ]
    if settings.mode == "eval":
        arguments.append("--eval")
    if palette is not None:
        arguments += ["--palette", str(palette)]
    if settings.fid_features:
        arguments += ["--fid-features", str(Path(settings.fid_features).expanduser())]
    return arguments
