"""A procedurally generated paired dataset, so that i2i runs with no download.

A is a flat label map of random circles and rectangles (like a facade's label image);
B renders it: each class gets its own colour, shapes get a dark outline and a lit top edge,
the background a soft vertical gradient. Learning A→B needs colour mapping and spatial
context, and a small U-Net learns it in a few hundred CPU steps.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from i2i.interfaces import PairedSample

LABEL_COLOURS = np.array([[30, 30, 30], [230, 60, 60], [60, 200, 80], [70, 90, 230]], np.float32)
RENDER_COLOURS = np.array(
    [[200, 190, 160], [120, 40, 140], [240, 200, 40], [40, 170, 190]], np.float32
)


def _labels(rng: np.random.Generator, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    labels = np.zeros((size, size), np.int64)
    for _ in range(rng.integers(3, 7)):
        cls = rng.integers(1, len(LABEL_COLOURS))
        cy, cx = rng.integers(0, size, 2)
        radius = rng.integers(size // 10, size // 4)
        if rng.random() < 0.5:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        else:
            inside = (abs(yy - cy) <= radius) & (
                abs(xx - cx) <= rng.integers(size // 10, size // 3)
            )
        labels[inside] = cls
    return labels


def _render(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = labels.shape[0]
    image = RENDER_COLOURS[labels].copy()
    shade = np.broadcast_to(np.linspace(1.1, 0.75, size)[:, None], labels.shape)
    image[labels == 0] *= shade[labels == 0][:, None]  # background gradient, top to bottom
    padded = np.pad(labels, 1, mode="edge")
    neighbours = [padded[1:-1, :-2], padded[1:-1, 2:], padded[:-2, 1:-1], padded[2:, 1:-1]]
    outline = np.any([n != labels for n in neighbours], axis=0) & (labels > 0)
    lit = (padded[:-2, 1:-1] != labels) & (labels > 0) & ~outline
    image[outline] = 15.0
    image[lit] = np.minimum(image[lit] + 70.0, 255.0)
    image += rng.normal(0.0, 4.0, image.shape)
    return image


class SyntheticShapesDataset:
    """Procedural label-map → rendering pairs, deterministic per (seed, split, index).

    Args:
        root: unused (the data is generated); present to meet the dataset interface.
        split: any name; different splits give different pairs.
        size: side of the square images, in pixels.
        length: number of pairs in the split.
        seed: base seed of the generator.
    """

    def __init__(
        self,
        root: str | None = None,
        split: str = "train",
        size: int = 64,
        length: int = 512,
        seed: int = 0,
    ) -> None:
        self.size, self.length, self.seed = size, length, seed
        self.split_id = zlib.crc32(split.encode())

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> PairedSample:
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, self.split_id, index])
        labels = _labels(rng, self.size)
        a = LABEL_COLOURS[labels]
        b = _render(labels, rng)

        def to_tensor(image: np.ndarray) -> torch.Tensor:
            return (
                torch.from_numpy(image.clip(0, 255).astype(np.uint8)).permute(2, 0, 1).contiguous()
            )

        return {"A": to_tensor(a), "B": to_tensor(b), "name": f"{index:05d}.png"}
