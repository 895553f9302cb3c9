"""Paired augmentation: one geometric draw shared by input and target."""

from __future__ import annotations

import torch

from i2i.data.augment import (
    EvalTransform,
    PairedAugmentation,
    match_channels,
    to_signed_unit,
    to_uint8,
)


def _coordinates(batch: int, size: int) -> torch.Tensor:
    """An image whose pixels encode their own position, so any crop or flip is visible."""
    ys, xs = torch.meshgrid(
        torch.linspace(-0.5, 0.5, size), torch.linspace(-0.5, 0.5, size), indexing="ij"
    )
    grid = torch.stack([ys, xs, ys * xs])
    return grid.expand(batch, -1, -1, -1).clone()


def test_one_draw_is_applied_identically_to_input_and_target():
    torch.manual_seed(0)
    augment = PairedAugmentation(load_size=72, crop_size=64, flip=True)
    a = _coordinates(16, 96)
    b = 0.5 * a + 0.1  # a different image with the same geometry
    out_a, out_b = augment(a, b)
    assert out_a.shape == out_b.shape == (16, 3, 64, 64)
    torch.testing.assert_close(out_b, 0.5 * out_a + 0.1, atol=1e-5, rtol=0)


def test_draws_differ_between_samples():
    torch.manual_seed(1)
    out, _ = PairedAugmentation(load_size=72, crop_size=64, flip=True)(*[_coordinates(16, 96)] * 2)
    # Crop offsets and flips vary across the batch: not every sample is the same image.
    assert len({tuple(sample[:, 0, 0].tolist()) for sample in out.round(decimals=4)}) > 4
    flipped = out[:, 1, 0, 0] > out[:, 1, 0, -1]  # x runs right-to-left after a flip
    assert 0 < int(flipped.sum()) < 16


def test_without_randomness_the_pipeline_is_a_resize():
    a = _coordinates(2, 64)
    out_a, _ = PairedAugmentation(load_size=32, crop_size=32, flip=False)(a, a)
    assert out_a.shape == (2, 3, 32, 32)
    assert torch.equal(EvalTransform(64)(a, a)[0], a)
    assert EvalTransform(32)(a, a)[1].shape == (2, 3, 32, 32)


def test_unit_conversions_round_trip():
    pixels = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    signed = to_signed_unit(pixels)
    assert signed.min() == -1 and signed.max() == 1
    assert torch.equal(to_uint8(signed), pixels)


def test_match_channels():
    rgb = torch.rand(2, 3, 4, 4)
    grey = match_channels(rgb, 1)
    assert grey.shape == (2, 1, 4, 4)
    torch.testing.assert_close(
        grey[:, 0], 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    )
    assert match_channels(grey, 3).shape == (2, 3, 4, 4)


def test_resize_follows_pil_bicubic_as_the_official_preprocessing():
    import numpy as np
    from PIL import Image

    from i2i.data.augment import resize_square

    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 255, (30, 30, 3)), np.ones((10, 10, 1))).astype(np.uint8)
    picture = Image.fromarray(smooth).resize((300, 300), Image.BICUBIC)  # edges, not noise
    expected = np.asarray(picture.resize((128, 128), Image.BICUBIC)).astype(np.float32)
    pixels = torch.from_numpy(np.array(picture)).permute(2, 0, 1)[None]
    resized = (resize_square(to_signed_unit(pixels), 128) + 1) * 127.5
    difference = np.abs(resized[0].permute(1, 2, 0).numpy() - expected)
    assert difference.mean() < 0.5 and difference.max() < 10, (difference.mean(), difference.max())
