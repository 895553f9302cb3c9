"""Hostile and odd image files: decompression bombs, EXIF rotation, broken links, odd names."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from i2i.cli import main
from i2i.data import AlignedDataset, read_image, read_rgb
from i2i.data.images import DEFAULT_MAX_PIXELS, set_max_pixels
from i2i.errors import DataError
from tests.helpers import invoke_eval, one_line_error

pytestmark = pytest.mark.fault


def bomb_png(path: Path, width: int = 40000, height: int = 40000) -> Path:
    """A tiny PNG whose header declares ``width × height`` pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (2, 1)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(autouse=True)
def _default_limit():
    set_max_pixels(None)
    yield
    set_max_pixels(None)


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path):
    bomb = bomb_png(tmp_path / "bomb.png")
    with pytest.raises(
        DataError, match=r"bomb.png' is 1600000000 pixels, over the limit of 178956970"
    ):
        read_rgb(bomb)
    small = bomb_png(tmp_path / "small.png", 300, 300)
    set_max_pixels(300 * 300 - 1)
    with pytest.raises(DataError, match=r"300x300 = 90000 pixels, .* raise data.max_pixels"):
        read_rgb(small)
    assert DEFAULT_MAX_PIXELS == 178_956_970


def test_a_bomb_in_translate_and_eval_is_one_line(tiny_checkpoint, tmp_path):
    bomb = bomb_png(tmp_path / "data" / "val" / "bomb.png")
    runner = CliRunner()
    translated = runner.invoke(
        main, ["translate", "-c", str(tiny_checkpoint), "-o", str(tmp_path / "o"), str(bomb)]
    )
    assert "over the limit" in one_line_error(translated)
    evaluated = invoke_eval(tiny_checkpoint, tmp_path / "data", tmp_path / "e")
    assert "over the limit" in one_line_error(evaluated)


def test_a_bomb_stops_a_run_or_is_skipped_and_counted(tiny_recipe, tmp_path):
    from i2i.plugins import default_registry
    from i2i.train.loop import fit, prepare

    split = tmp_path / "pairs" / "train"
    rng = np.random.default_rng(0)
    split.mkdir(parents=True)
    for index in range(4):
        pixels = rng.integers(0, 255, (32, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(split / f"{index}.png")
    bomb_png(split / "9.png")
    data = [
        "data.dataset={name: aligned}",
        f"data.root={tmp_path / 'pairs'}",
        "data.val_split=null",
        "data.batch_size=1",
        "train.max_steps=5",
    ]
    failing = tiny_recipe(*data, f"run.dir={tmp_path / 'fail'}")
    with pytest.raises(DataError, match=r"9\.png' is 1600000000 pixels"):
        fit(prepare(failing, tmp_path / "fail", default_registry()))
    skipping = tiny_recipe(*data, "data.on_corrupt=skip", f"run.dir={tmp_path / 'skip'}")
    run = prepare(skipping, tmp_path / "skip", default_registry())
    fit(run)
    lines = [json.loads(line) for line in (tmp_path / "skip" / "metrics.jsonl").open()]
    assert run.state.step == 5 and max(line.get("skipped_files", 0) for line in lines) >= 1


def _rotated_with_exif(path: Path, upright: np.ndarray) -> None:
    """Store ``upright`` turned 90° counter-clockwise, tagged so viewers turn it back."""
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, k=1)))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the viewer rotates 90° clockwise
    stored.save(path, exif=exif)


def test_exif_orientation_is_applied_as_viewers_do(tmp_path):
    upright = np.random.default_rng(2).integers(0, 256, (32, 64, 3), dtype=np.uint8)
    split = tmp_path / "train"
    split.mkdir()
    _rotated_with_exif(split / "pair.png", upright)
    assert Image.open(split / "pair.png").size == (32, 64)  # as stored: portrait
    assert np.array_equal(read_rgb(split / "pair.png").permute(1, 2, 0).numpy(), upright)
    sample = AlignedDataset(str(tmp_path), "train")[0]  # stored, it is not two square halves
    assert np.array_equal(sample["A"].permute(1, 2, 0).numpy(), upright[:, :32])
    assert np.array_equal(sample["B"].permute(1, 2, 0).numpy(), upright[:, 32:])


def test_broken_links_among_the_images_are_named_not_dropped(tmp_path):
    split = tmp_path / "train"
    split.mkdir()
    Image.new("RGB", (16, 8)).save(split / "1.png")
    (split / "2.png").symlink_to(tmp_path / "gone.png")
    (split / "3.png").symlink_to(split / "3.png")  # a loop
    dataset = AlignedDataset(str(tmp_path), "train")
    assert [p.name for p in dataset.files] == ["1.png", "2.png", "3.png"]
    for index in (1, 2):
        with pytest.raises(DataError, match=rf"{index + 1}\.png' is a broken symbolic link"):
            dataset[index]


def test_a_newline_in_a_file_name_cannot_break_the_one_line_error(tiny_checkpoint, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad\nname.png").write_bytes(b"not a png")
    result = CliRunner().invoke(
        main, ["translate", "-c", str(tiny_checkpoint), "-o", str(tmp_path / "o"), str(folder)]
    )
    line = one_line_error(result)
    assert "bad\\nname.png" in line and line.endswith("replace or remove the file")


def test_a_tiff_of_many_bands_is_bounded_by_its_bytes_not_its_pixels(tmp_path):
    import tifffile

    bands = np.zeros((200, 64, 64), np.float32)  # 4096 pixels, 3.2 MB once decoded
    tifffile.imwrite(tmp_path / "cube.tif", bands, photometric="minisblack")
    set_max_pixels(64 * 64 * 4)  # the pixels pass; 16 bytes each do not cover 200 bands
    with pytest.raises(DataError, match=r"cube.tif' \(200x64x64 float32\) would decode to"):
        read_image(tmp_path / "cube.tif")
    set_max_pixels(64 * 64 * 200)
    assert read_image(tmp_path / "cube.tif").shape == (200, 64, 64)


def test_a_float_tiff_holding_nan_or_inf_is_named_where_it_is_read(tmp_path):
    import tifffile

    for bad in (np.nan, np.inf):
        pixels = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
        pixels[2, 3] = bad
        tifffile.imwrite(tmp_path / "bad.tif", pixels)
        with pytest.raises(DataError, match=r"bad.tif' holds 1 NaN or infinite value"):
            read_image(tmp_path / "bad.tif")
