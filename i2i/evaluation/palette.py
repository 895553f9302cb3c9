"""Palette accuracy: the paper's FCN-score for targets drawn in a handful of flat colours.

The paper scores labels → photo by running a segmentation network on the output. Maps (and
label maps, facades labels) are the reverse: the *target* is a drawing in a few flat colours.
So the "segmenter" is the palette itself: cluster the colours of the real training targets
into ``K`` colours (k-means, fixed seed), label every pixel of output and target with its
nearest palette colour, and score the labels as the paper scores segmentations: per-pixel
accuracy, mean per-class accuracy and mean class IoU, from one confusion matrix over the whole
split. Nothing is downloaded; the palette is computed from the data alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from kornia.contrib import KMeans
from torch import Tensor

from i2i.data.augment import match_channels, resize_square, to_signed_unit
from i2i.data.loader import collate_pairs, split_direction
from i2i.errors import DataError, quoted
from i2i.files import write_text_atomic
from i2i.interfaces import PairedDataset

PALETTE_METRICS = ("pixel_acc", "class_acc", "class_iou")
"""The paper's three FCN-score columns, in its order."""


@dataclass
class Palette:
    """``K`` colours, ``(K, C)`` floats in ``[-1, 1]``, that a target domain is drawn in."""

    colors: Tensor

    @classmethod
    def fit(
        cls,
        targets: Iterable[Tensor],
        k: int,
        seed: int = 0,
        pixels: int = 200_000,
        restarts: int = 4,
    ) -> Palette:
        """Cluster the colours of ``targets`` (``(N, C, H, W)`` batches in [-1, 1]) into ``k``.

        ``pixels`` colours are drawn at random (seeded) from all targets; of ``restarts``
        k-means runs the one with the least within-cluster error is kept.
        """
        if k < 2:
            raise ValueError(f"a palette needs at least 2 colours, got {k}")
        colours = torch.cat([t.detach().float().movedim(1, -1).flatten(0, -2) for t in targets])
        if len(colours) < k:
            raise DataError(f"palette: {len(colours)} pixels cannot make {k} colours")
        generator = torch.Generator().manual_seed(seed)
        if len(colours) > pixels:
            colours = colours[torch.randperm(len(colours), generator=generator)[:pixels]]
        best, best_error = None, float("inf")
        with torch.random.fork_rng(devices=[]):  # kornia's KMeans reseeds the global generator
            for attempt in range(restarts):
                kmeans = KMeans(k, None, tolerance=1e-6, max_iterations=200, seed=seed + attempt)
                kmeans.fit(colours)
                centres = kmeans.cluster_centers
                error = torch.cdist(colours, centres).min(1).values.pow(2).sum().item()
                if error < best_error:
                    best, best_error = centres, error
        assert best is not None
        order = torch.argsort(best.sum(1), descending=True)  # brightest first: a stable order
        return cls(best[order].contiguous())

    @property
    def size(self) -> int:
        """Number of colours."""
        return self.colors.shape[0]

    def classify(self, images: Tensor) -> Tensor:
        """Each pixel of ``(N, C, H, W)`` images in [-1, 1] as the index of its nearest colour."""
        if images.shape[1] != self.colors.shape[1]:
            raise DataError(
                f"palette has {self.colors.shape[1]}-channel colours, images have "
                f"{images.shape[1]} channels"
            )
        flat = images.detach().float().movedim(1, -1)
        distances = torch.cdist(flat.flatten(0, -2), self.colors.to(flat.device))
        return distances.argmin(1).view(flat.shape[:-1])

    def to_json(self) -> str:
        """The colours as JSON (0-255 values, one list per colour)."""
        values = ((self.colors.clamp(-1, 1) + 1) * 127.5).tolist()
        return json.dumps({"colors": [[round(v, 3) for v in c] for c in values]}) + "\n"

    def save(self, path: Path) -> None:
        """Write :meth:`to_json` to ``path``, atomically."""
        write_text_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> Palette:
        """Read colours written by :meth:`save`."""
        try:
            colors = json.loads(Path(path).read_text())["colors"]
            tensor = torch.tensor(colors, dtype=torch.float32) / 127.5 - 1
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(
                f"palette file {quoted(path)} is not a palette ({error}); write one with "
                "i2i eval --palette-colors K"
            ) from None
        if tensor.ndim != 2 or len(tensor) < 2:
            raise DataError(f"palette file {quoted(path)} must list at least 2 colours")
        return cls(tensor)


class PaletteScore:
    """Accumulates a confusion matrix of palette labels over a split, then scores it.

    Rows are the target's labels, columns the output's.
    """

    def __init__(self, palette: Palette) -> None:
        self.palette = palette
        self.confusion = torch.zeros(palette.size, palette.size, dtype=torch.float64)

    def update(self, output: Tensor, target: Tensor) -> Tensor:
        """Add a batch; returns each image's per-pixel accuracy."""
        predicted, truth = self.palette.classify(output), self.palette.classify(target)
        k = self.palette.size
        pairs = (truth.flatten() * k + predicted.flatten()).cpu()
        self.confusion += torch.bincount(pairs, minlength=k * k).view(k, k).double()
        return (predicted == truth).flatten(1).float().mean(1)

    def result(self) -> dict[str, float]:
        """Per-pixel accuracy, mean per-class accuracy and mean class IoU.

        The class means run over the colours present in the targets, as FCN-scores do.
        """
        return confusion_scores(self.confusion)


def confusion_scores(confusion: Tensor) -> dict[str, float]:
    """The three FCN-score columns of a ``(K, K)`` confusion matrix (rows: truth)."""
    hits = confusion.diagonal()
    truth, predicted = confusion.sum(1), confusion.sum(0)
    present = truth > 0
    total = confusion.sum()
    if total == 0:
        return {name: float("nan") for name in PALETTE_METRICS}
    union = truth + predicted - hits
    return {
        "pixel_acc": float(hits.sum() / total),
        "class_acc": float((hits[present] / truth[present]).mean()),
        "class_iou": float((hits[present] / union[present]).mean()),
    }


def palette_of_split(
    dataset: PairedDataset,
    direction: str,
    size: int | None,
    channels: int,
    k: int,
    seed: int = 0,
    images: int = 100,
) -> Palette:
    """The palette of the targets of (at most ``images`` evenly spread pairs of) ``dataset``.

    Targets are taken as evaluation sees them: ``direction`` picks the side, resized to
    ``size²``, converted to ``channels``.
    """
    if len(dataset) == 0:
        raise DataError("palette: the split to take colours from is empty")
    step = max(1, len(dataset) // images)
    targets = []
    for index in range(0, len(dataset), step)[:images]:
        _, target = split_direction(collate_pairs([dataset[index]]), direction)
        target = to_signed_unit(target)
        target = resize_square(target, size) if size else target
        targets.append(match_channels(target, channels))
    return Palette.fit(targets, k, seed)
