"""Any channel count for A and B, independently; 8- or 16-bit; the model follows or refuses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from i2i.data import PairedFoldersDataset, collate_pairs, read_image, to_signed_unit
from i2i.errors import DataError, RecipeError
from i2i.plugins import default_registry
from i2i.testing import check_dataset
from i2i.train.loop import fit, prepare


def _edges_to_photos(root: Path, count: int = 4, sixteen_bit: bool = False) -> Path:
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for side in ("A", "B"):
            (root / split / side).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            if sixteen_bit:
                edges = Image.fromarray(rng.integers(0, 65536, (32, 32), dtype=np.uint16))
            else:
                edges = Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8), "L")
            edges.save(root / split / "A" / f"{index}.png")
            photo = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(photo).save(root / split / "B" / f"{index}.png")
    return root


def test_read_image_keeps_the_files_channels_and_depth(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8)
    Image.fromarray(grey, "L").save(tmp_path / "grey.png")
    deep = (np.arange(64, dtype=np.uint16) * 1000 + 7).reshape(8, 8)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    Image.new("RGBA", (8, 8), (1, 2, 3, 4)).save(tmp_path / "rgba.png")
    assert torch.equal(read_image(tmp_path / "grey.png")[0], torch.from_numpy(grey))
    sixteen = read_image(tmp_path / "deep.png")
    assert sixteen.dtype == torch.uint16 and sixteen.shape == (1, 8, 8)
    assert np.array_equal(sixteen[0].numpy(), deep)  # every bit kept
    assert read_image(tmp_path / "rgba.png").shape == (4, 8, 8)
    assert read_image(tmp_path / "rgba.png", 3).shape == (3, 8, 8)
    assert read_image(tmp_path / "deep.png", 3).dtype == torch.uint8
    assert float(to_signed_unit(torch.tensor([0, 65535], dtype=torch.uint16))[1]) == 1.0


def test_paired_folders_give_each_side_its_own_channels(tmp_path):
    root = _edges_to_photos(tmp_path / "edges")
    dataset = PairedFoldersDataset(str(root), "train", channels=None)
    assert dataset[0]["A"].shape == (1, 32, 32) and dataset[0]["B"].shape == (3, 32, 32)
    assert collate_pairs([dataset[0], dataset[1]])["A"].shape == (2, 1, 32, 32)
    check_dataset("paired_folders", {"channels": None}, root=root)


def test_a_batch_of_mixed_channels_names_the_real_cause(tmp_path):
    grey = {
        "A": torch.zeros(1, 8, 8, dtype=torch.uint8),
        "B": torch.zeros(3, 8, 8, dtype=torch.uint8),
        "name": "g.png",
    }
    colour = {**grey, "A": torch.zeros(3, 8, 8, dtype=torch.uint8), "name": "c.png"}
    with pytest.raises(
        DataError,
        match=r"the A images of one batch differ in channels, size or "
        r"depth \('g.png' 1x8x8 torch.uint8, 'c.png' 3x8x8",
    ):
        collate_pairs([grey, colour])
    wide = {**grey, "B": torch.zeros(3, 8, 16, dtype=torch.uint8)}
    with pytest.raises(DataError, match=r"pair 'g.png': A is 8x8 but B is 16x8"):
        collate_pairs([wide])


@pytest.mark.slow
@pytest.mark.parametrize("sixteen_bit", [False, True])
def test_one_channel_edges_to_rgb_photos_train_end_to_end(tiny_recipe, tmp_path, sixteen_bit):
    root = _edges_to_photos(tmp_path / "edges", sixteen_bit=sixteen_bit)
    data = [
        "data.dataset={name: paired_folders, channels: null}",
        f"data.root={root}",
        "data.load_size=32",
        "data.batch_size=2",
        "log.val_images=2",
        "train.max_steps=3",
    ]
    recipe = tiny_recipe(*data, "model.in_channels=1")
    run = prepare(recipe, Path(recipe.run.dir), default_registry())
    assert run.method.generator.in_channels == 1
    fit(run)
    lines = [json.loads(line) for line in (Path(recipe.run.dir) / "metrics.jsonl").open()]
    assert max(line["step"] for line in lines) == 3
    assert all(np.isfinite(v) for line in lines for k, v in line.items() if k.startswith("loss/"))


def test_channels_the_model_cannot_take_are_refused_naming_both(tiny_recipe, tmp_path):
    root = _edges_to_photos(tmp_path / "edges")
    data = [
        "data.dataset={name: paired_folders, channels: null}",
        f"data.root={root}",
        "data.load_size=32",
    ]
    recipe = tiny_recipe(*data, "model.in_channels=4")
    with pytest.raises(
        RecipeError,
        match=r"model.in_channels: the dataset's A images have 1 "
        r"channel\(s\) but model.in_channels is 4; set model.in_channels=1",
    ):
        prepare(recipe, Path(recipe.run.dir), default_registry())
    assert not Path(recipe.run.dir).exists()


@pytest.mark.fault
def test_a_later_pair_with_other_channels_is_named_not_a_value_error(tiny_recipe, tmp_path):
    root = _edges_to_photos(tmp_path / "edges")
    four = np.random.default_rng(1).integers(0, 256, (32, 32, 4), dtype=np.uint8)
    Image.fromarray(four, "RGBA").save(root / "train" / "A" / "3.png")  # the first is grey
    data = [
        "data.dataset={name: paired_folders, channels: null}",
        f"data.root={root}",
        "data.load_size=32",
        "data.batch_size=1",
        "log.val_images=2",
        "train.max_steps=4",
    ]
    recipe = tiny_recipe(*data, "model.in_channels=1")
    run = prepare(recipe, Path(recipe.run.dir), default_registry())
    with pytest.raises(DataError, match=r"3.png: 4-channel images, but model.in_channels is 1"):
        fit(run)


@pytest.mark.fault
def test_unpaired_a_and_b_of_different_sizes_are_not_held_to_the_pairing_rule(
    tiny_recipe, tmp_path
):
    rng = np.random.default_rng(2)
    for split in ("train", "val"):
        for side, size in (("A", (64, 64)), ("B", (80, 96))):
            (tmp_path / "u" / f"{split}{side}").mkdir(parents=True)
            for index in range(4):
                pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / "u" / f"{split}{side}" / f"{index}.png")
    from i2i.config import load_recipe

    quickstart = Path(__file__).parents[2] / "recipes" / "cyclegan_quickstart.yaml"
    recipe = load_recipe(
        quickstart,
        [
            "data.dataset={name: unpaired_folders}",
            f"data.root={tmp_path / 'u'}",
            "model.generator.ngf=4",
            "model.discriminator.ndf=4",
            "log.val_images=2",
            "log.progress=false",
            "train.max_steps=2",
            "train.device=cpu",
            f"run.dir={tmp_path / 'run'}",
        ],
    )
    run = prepare(recipe, Path(recipe.run.dir), default_registry())
    assert fit(run).is_file()
    # the folders' i-th A and B are unrelated: only the cycle is scored, never A against B
    lines = [json.loads(line) for line in (run.run_dir / "metrics.jsonl").open()]
    scored = {key for line in lines for key in line if key.startswith("val/")}
    assert scored == {"val/cycle_l1", "val/cycle_psnr", "val/cycle_ssim"}
