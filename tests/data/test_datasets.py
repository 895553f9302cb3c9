"""Datasets and decoding: aligned and paired-folder formats, odd image modes, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from i2i.data import AlignedDataset, PairedFoldersDataset, SyntheticShapesDataset, read_rgb
from i2i.errors import DataError, DataWarning


def _save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)


def test_aligned_splits_left_a_right_b(tmp_path):
    image = np.zeros((8, 16, 3), np.uint8)
    image[:, :8] = 10
    image[:, 8:] = 200
    _save(tmp_path / "train" / "10.png", image)
    _save(tmp_path / "train" / "2.png", image)
    dataset = AlignedDataset(str(tmp_path), "train")
    assert [p.name for p in dataset.files] == ["2.png", "10.png"]
    sample = dataset[0]
    assert sample["A"].shape == sample["B"].shape == (3, 8, 8)
    assert sample["A"].dtype == torch.uint8
    assert int(sample["A"].max()) == 10 and int(sample["B"].min()) == 200


@pytest.mark.fault
def test_aligned_image_must_hold_two_square_halves(tmp_path):
    _save(tmp_path / "train" / "odd.png", np.zeros((8, 15, 3), np.uint8))
    _save(tmp_path / "train" / "wide.png", np.zeros((8, 40, 3), np.uint8))
    dataset = AlignedDataset(str(tmp_path), "train")
    for index, name in enumerate(["odd.png", "wide.png"]):
        with pytest.raises(DataError, match=rf"{name}' is \d+x8, not two square halves"):
            dataset[index]


@pytest.mark.fault
def test_non_image_files_are_named_in_a_warning(tmp_path):
    _save(tmp_path / "train" / "1.png", np.zeros((4, 8, 3), np.uint8))
    (tmp_path / "train" / "notes.txt").write_text("hello")
    (tmp_path / "train" / ".DS_Store").write_bytes(b"")
    with pytest.warns(DataWarning, match=r"1 file\(s\) that are not images \('notes.txt'\)"):
        assert len(AlignedDataset(str(tmp_path), "train")) == 1


@pytest.mark.fault
def test_missing_or_empty_folders(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        AlignedDataset(str(tmp_path), "train")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="holds no images"):
        AlignedDataset(str(tmp_path), "train")
    with pytest.raises(DataError, match="data.root is not set"):
        AlignedDataset(None, "train")


def test_paired_folders_match_by_name(tmp_path):
    for name in ("a", "b"):
        _save(tmp_path / "train" / "A" / f"{name}.png", np.full((4, 6, 3), 1, np.uint8))
        _save(tmp_path / "train" / "B" / f"{name}.jpg", np.full((4, 6, 3), 250, np.uint8))
    dataset = PairedFoldersDataset(str(tmp_path), "train")
    assert len(dataset) == 2 and dataset[1]["name"] == "b.png"
    assert dataset[0]["A"].shape == (3, 4, 6)


@pytest.mark.fault
def test_paired_folders_report_unmatched_and_mismatched(tmp_path):
    _save(tmp_path / "train" / "A" / "x.png", np.zeros((4, 4, 3), np.uint8))
    _save(tmp_path / "train" / "B" / "y.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(DataError, match="2 file.*x, y"):
        PairedFoldersDataset(str(tmp_path), "train")
    (tmp_path / "train" / "B" / "y.png").rename(tmp_path / "train" / "B" / "x.png")
    _save(tmp_path / "train" / "B" / "x.png", np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(DataError, match="x.png.*A is 4x4 but B is 4x5"):
        PairedFoldersDataset(str(tmp_path), "train")[0]


@pytest.mark.fault
def test_corrupt_image_names_the_file(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(DataError, match="cannot decode image .*broken.jpg"):
        read_rgb(path)


@pytest.mark.fault
def test_grey_rgba_and_16_bit_images_become_rgb(tmp_path):
    _save(tmp_path / "grey.png", np.full((3, 3), 128, np.uint8))
    rgba = np.zeros((3, 3, 4), np.uint8)
    rgba[..., 0] = 255  # red, fully transparent in the first column
    rgba[:, 1:, 3] = 255
    _save(tmp_path / "rgba.png", rgba)
    _save(tmp_path / "deep.png", np.full((3, 3), 65535 // 2, np.uint16))
    grey, with_alpha, deep = (read_rgb(tmp_path / n) for n in ("grey.png", "rgba.png", "deep.png"))
    assert grey.shape == (3, 3, 3) and int(grey.min()) == int(grey.max()) == 128
    assert with_alpha[:, 0, 0].tolist() == [255, 255, 255]  # transparency over white
    assert with_alpha[:, 0, 2].tolist() == [255, 0, 0]
    assert deep.shape == (3, 3, 3) and 126 <= int(deep[0, 0, 0]) <= 128


def test_synthetic_pairs_are_deterministic_and_split_dependent():
    train, again, val = (
        SyntheticShapesDataset(split=s, size=32, length=4) for s in ("train", "train", "val")
    )
    assert torch.equal(train[3]["B"], again[3]["B"])
    assert not torch.equal(train[3]["A"], val[3]["A"])
    assert train[0]["A"].shape == (3, 32, 32) and len(train) == 4
    with pytest.raises(IndexError):
        train[4]
