"""A study's pictures, with matplotlib: the paper-style qualitative figure and metric bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or opened

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from i2i.study.results import COLUMNS  # noqa: E402

MAIN_METRICS = ("pixel_acc", "class_iou", "ssim", "l1", "fid")
"""What metrics.png shows, where present (at most four)."""


def qualitative_figure(
    rows: list[str], columns: list[tuple[str, list[Path]]], path: Path, title: str = ""
) -> None:
    """One row per image, one labelled column per image source (input, each variant, target).

    ``columns`` pairs each label with its image files, one per row.
    """
    if not rows:
        return
    size = 1.6
    figure, axes = plt.subplots(
        len(rows),
        len(columns),
        figsize=(size * len(columns), size * len(rows) + (0.5 if title else 0.2)),
        squeeze=False,
    )
    for column, (label, images) in enumerate(columns):
        for row, image in enumerate(images):
            axis = axes[row][column]
            axis.imshow(np.asarray(Image.open(image).convert("RGB")))
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(label, fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    top = 1 - 0.35 / figure.get_figheight() if title else 1  # room for the title above the labels
    figure.tight_layout(pad=0.3, rect=(0, 0, 1, top))
    figure.savefig(path, dpi=80)
    plt.close(figure)


def metric_bars(results: dict[str, Any], path: Path) -> None:
    """Bars of the main metrics per variant, with the seed spread as error bars."""
    keys = [k for k in MAIN_METRICS if k in results["columns"]][:4]
    if not keys:
        keys = results["columns"][:4]
    labels = {c.key: c.label for c in COLUMNS}
    names = [v["name"] for v in results["variants"]]
    figure, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2), squeeze=False)
    for axis, key in zip(axes[0], keys):
        means = [v["mean"][key] for v in results["variants"]]
        spreads = [v["std"][key] or 0.0 for v in results["variants"]]
        axis.bar(range(len(names)), means, yerr=spreads, capsize=3, color="#4c72b0")
        axis.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
        better = next(c.better for c in COLUMNS if c.key == key)
        axis.set_title(
            f"{labels[key]} ({'lower' if better == 'low' else 'higher'} is better)", fontsize=9
        )
    if results.get("title"):
        figure.suptitle(results["title"], fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
