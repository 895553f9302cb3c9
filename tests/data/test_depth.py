"""16-bit and float data end to end: TIFF and PNG-16 read without losing bits, models
trained on 16-bit targets write 16-bit outputs, and the 16-bit → RGB recipe trains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from click.testing import CliRunner
from PIL import Image

from i2i.checkpoint import list_checkpoints, load_checkpoint
from i2i.cli import main
from i2i.config import load_recipe
from i2i.data import read_image, to_signed_unit
from i2i.data.images import as_channels, read_rgb
from i2i.inference.translate import image_writer
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare
from tests.conftest import TINY_OVERRIDES

RECIPES = Path(__file__).parents[2] / "recipes"


def _gradient(height: int = 32, width: int = 48, bands: int = 3) -> np.ndarray:
    ramp = np.linspace(0, 65535, height * width * bands).reshape(height, width, bands)
    return ramp.round().astype(np.uint16)


def test_a_16_bit_tiff_round_trip_keeps_more_than_8_bits(tmp_path):
    pixels = _gradient()
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb")
    image = read_image(tmp_path / "in.tif")
    assert image.dtype == torch.uint16 and image.shape == (3, 32, 48)
    assert np.array_equal(image.permute(1, 2, 0).numpy(), pixels)
    image_writer(to_signed_unit(image), ".tif", depth=16)(str(tmp_path / "out.tif"))
    back = tifffile.imread(tmp_path / "out.tif").astype(np.int64)
    assert np.abs(back - pixels).max() <= 1  # of 65535: 16 bits, where 8 would be off by 128
    assert len(np.unique(back)) > 256


def test_float_and_many_band_tiffs(tmp_path):
    tifffile.imwrite(tmp_path / "float.tif", np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    floats = read_image(tmp_path / "float.tif")
    assert floats.dtype == torch.float32 and float(to_signed_unit(floats).max()) == 1.0
    bands = np.random.default_rng(0).integers(0, 65535, (5, 16, 16), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "bands.tif", bands, photometric="minisblack")
    five = read_image(tmp_path / "bands.tif")
    assert five.shape == (5, 16, 16) and five.dtype == torch.uint16
    assert as_channels(five, 3, tmp_path / "bands.tif").shape == (3, 16, 16)  # RGB + NIR → RGB
    assert read_rgb(tmp_path / "bands.tif").dtype == torch.uint8


def _rgb_to_depth(root: Path) -> Path:
    rng = np.random.default_rng(1)
    for split in ("train", "val"):
        for index in range(4):
            for side in ("A", "B"):
                (root / split / side).mkdir(parents=True, exist_ok=True)
            rgb = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(root / split / "A" / f"{index}.png")
            depth = rng.integers(0, 65536, (32, 32), dtype=np.uint16)
            Image.fromarray(depth).save(root / split / "B" / f"{index}.png")  # 16-bit grey
    return root


@pytest.mark.slow
def test_a_model_trained_on_16_bit_targets_writes_16_bit_outputs(tiny_recipe, tmp_path):
    root = _rgb_to_depth(tmp_path / "depth")
    recipe = tiny_recipe(
        "data.dataset={name: paired_folders, channels: null}",
        f"data.root={root}",
        "data.load_size=32",
        "model.out_channels=1",
        "log.val_images=2",
        "train.max_steps=2",
    )
    fit(prepare(recipe, Path(recipe.run.dir), default_registry()))
    checkpoint = list_checkpoints(Path(recipe.run.dir) / "checkpoints")[-1]
    assert load_checkpoint(checkpoint)[1]["data_depth"] == {"A": 8, "B": 16}
    photo = root / "val" / "A" / "0.png"
    for flags, mode in (([], "I;16"), (["--depth", "8"], "RGB")):
        out = tmp_path / f"out{len(flags)}"
        result = CliRunner().invoke(
            main, ["translate", "-c", str(checkpoint), "-o", str(out), "--eval", *flags, str(photo)]
        )
        assert result.exit_code == 0, result.output
        with Image.open(out / "0.png") as written:
            assert written.mode == mode
            if mode == "I;16":
                assert len(np.unique(np.asarray(written))) > 256  # more than 8 bits of output


@pytest.mark.slow
def test_the_16_bit_grey_to_rgb_recipe_trains(tmp_path):
    rng = np.random.default_rng(2)
    root = tmp_path / "grey16"
    for split in ("train", "val"):
        for index in range(4):
            for side in ("A", "B"):
                (root / split / side).mkdir(parents=True, exist_ok=True)
            grey = rng.integers(0, 65536, (72, 72), dtype=np.uint16)
            tifffile.imwrite(root / split / "A" / f"{index}.tif", grey)
            colour = rng.integers(0, 256, (72, 72, 3), dtype=np.uint8)
            Image.fromarray(colour).save(root / split / "B" / f"{index}.png")
    small = [
        o for o in TINY_OVERRIDES if not o.startswith(("data.dataset", "data.load", "data.crop"))
    ]
    recipe = load_recipe(
        RECIPES / "grey16_to_rgb.yaml",
        [
            *small,
            f"data.root={root}",
            "train.max_steps=3",
            f"run.dir={tmp_path / 'run'}",
            "log.sample_every=2",
        ],
    )
    run = prepare(recipe, tmp_path / "run", default_registry())
    assert run.data_depth == {"A": 16, "B": 8} and run.method.generator.in_channels == 1
    fit(run)
    assert (tmp_path / "run" / "checkpoints" / "best.safetensors").is_file()
