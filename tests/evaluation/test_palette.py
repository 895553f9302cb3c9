"""Palette accuracy: the maps analogue of the FCN-score means what it says."""

from __future__ import annotations

import kornia
import pytest
import torch

from i2i.errors import DataError
from i2i.evaluation.palette import Palette, PaletteScore, confusion_scores

COLOURS = torch.tensor(
    [[0.95, 0.94, 0.92], [0.70, 0.80, 0.99], [0.78, 0.86, 0.66], [0.96, 0.66, 0.21]]
)


def map_like(seed: int, n: int = 3, size: int = 64) -> torch.Tensor:
    """Flat-coloured tiles: rectangles of four map colours on a background, in [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.zeros(n, size, size, dtype=torch.long)
    for image in labels:
        for _ in range(6):
            x, y = torch.randint(0, size - 16, (2,), generator=generator).tolist()
            w, h = torch.randint(6, 16, (2,), generator=generator).tolist()
            image[y : y + h, x : x + w] = int(torch.randint(1, 4, (1,), generator=generator))
    return COLOURS[labels].permute(0, 3, 1, 2) * 2 - 1


def score(palette: Palette, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    scorer = PaletteScore(palette)
    scorer.update(output, target)
    return scorer.result()


def test_palette_recovers_the_colours_a_target_is_drawn_in():
    palette = Palette.fit([map_like(0)], k=4, seed=0)
    found = (palette.colors + 1) / 2
    distances = torch.cdist(found, COLOURS).min(1).values
    assert torch.all(distances < 0.02), found


def test_self_blurred_and_recoloured_targets_score_in_that_order():
    palette = Palette.fit([map_like(0), map_like(1)], k=4, seed=0)
    target = map_like(2)
    itself = score(palette, target, target)
    assert itself == {"pixel_acc": 1.0, "class_acc": 1.0, "class_iou": 1.0}
    blurred = score(palette, kornia.filters.gaussian_blur2d(target, (9, 9), (3.0, 3.0)), target)
    recoloured = score(palette, target[:, [2, 0, 1]], target)  # channels rotated
    for key in itself:
        assert itself[key] > blurred[key] > recoloured[key], key


def test_palette_is_reproducible_and_survives_a_file(tmp_path):
    targets = [map_like(3)]
    first, second = Palette.fit(targets, 4, seed=5), Palette.fit(targets, 4, seed=5)
    assert torch.equal(first.colors, second.colors)
    first.save(tmp_path / "palette.json")
    loaded = Palette.load(tmp_path / "palette.json")
    assert torch.allclose(loaded.colors, first.colors, atol=0.01)
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="bad.json"):
        Palette.load(tmp_path / "bad.json")


def test_class_means_run_over_the_classes_the_targets_hold():
    confusion = torch.tensor(
        [[8.0, 2.0, 0.0], [0.0, 0.0, 0.0], [5.0, 0.0, 5.0]], dtype=torch.float64
    )
    scores = confusion_scores(confusion)
    assert scores["pixel_acc"] == pytest.approx(13 / 20)
    assert scores["class_acc"] == pytest.approx((0.8 + 0.5) / 2)  # class 1 is in no target
    assert scores["class_iou"] == pytest.approx((8 / 15 + 5 / 10) / 2)
