"""Evaluating a generator on a paired split, image by image."""

from __future__ import annotations

from pathlib import Path

import torch
from tqdm import tqdm

from i2i.data.augment import held_out_pairs
from i2i.data.loader import collate_pairs
from i2i.evaluation.distribution import DistributionScore
from i2i.evaluation.metrics import pair_metrics
from i2i.evaluation.palette import Palette, PaletteScore
from i2i.evaluation.report import REPORT_FILES, write_report
from i2i.inference.load import LoadedGenerator
from i2i.inference.translate import image_writer
from i2i.interfaces import PairedDataset
from i2i.outputs import OutputFolder
from i2i.testtime import Mode, generator_mode


def evaluate(
    generator: LoadedGenerator,
    dataset: PairedDataset,
    outputs: OutputFolder,
    *,
    direction: str,
    size: int | None,
    mode: Mode,
    device: str,
    info: dict,
    progress: bool = True,
    palette: Palette | None = None,
    features: Path | None = None,
) -> dict:
    """Translate every pair's input (resized to ``size``, as at test time), score, report.

    With a ``palette``, the summary adds the palette accuracy (:mod:`i2i.evaluation.palette`);
    with a ``features`` network file, FID and KID (:mod:`i2i.evaluation.distribution`).
    Every file goes through ``outputs``, which refuses to replace what it may not.
    """
    outputs.check([outputs.folder / name for name in REPORT_FILES])
    images = outputs.folder / "images"
    rows = []
    channels = (generator.in_channels, generator.out_channels)
    palette_score = PaletteScore(palette) if palette is not None else None
    distribution = DistributionScore(features, len(dataset), device) if features else None
    context = (
        generator_mode(generator.module, mode) if generator.module is not None else torch.no_grad()
    )
    bar = tqdm(range(len(dataset)), disable=not progress, unit="img", desc="eval")
    with context, bar:  # closed even on an error, so the error starts a line of its own
        for index in bar:
            sample = dataset[index]
            input, target = held_out_pairs(
                collate_pairs([sample]), direction, size or None, channels, device
            )
            output = generator.run(input)
            scores = {k: float(v[0]) for k, v in pair_metrics(output, target).items()}
            if palette_score is not None:
                scores["pixel_acc"] = float(palette_score.update(output, target)[0])
            if distribution is not None:
                distribution.update(output, target)
            stem = Path(sample["name"]).stem
            row = {"name": sample["name"], **scores}
            for label, image in (("input", input), ("output", output), ("target", target)):
                outputs.write(images / f"{stem}_{label}.png", image_writer(image[0], ".png"))
                row[f"{label}_image"] = f"images/{stem}_{label}.png"
            rows.append(row)
    split_scores: dict[str, float] = {}
    if palette_score is not None:
        split_scores.update(palette_score.result())
        info = {**info, "palette_colors": palette_score.palette.size}
    if distribution is not None:
        split_scores.update(distribution.result())
    return write_report(outputs, rows, info, split_scores)
