"""Evaluation: metrics that mean what they say, and a complete report."""

from __future__ import annotations

import csv
import json
import re

import kornia
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from i2i.cli import main
from i2i.evaluation.metrics import pair_metrics


def test_metrics_of_identical_blurred_and_different_images():
    torch.manual_seed(0)
    target = torch.rand(2, 3, 64, 64) * 2 - 1
    same = pair_metrics(target, target)
    assert torch.allclose(same["l1"], torch.zeros(2)) and torch.all(same["psnr"] > 60)
    assert torch.allclose(same["ssim"], torch.ones(2), atol=1e-4)
    assert torch.allclose(same["sharpness"], torch.ones(2))
    blurred = kornia.filters.gaussian_blur2d(target, (7, 7), (2.0, 2.0))
    soft = pair_metrics(blurred, target)
    assert torch.all(soft["sharpness"] < 0.5) and torch.all(soft["ssim"] < 1)
    noisy = pair_metrics((target + 0.5 * torch.randn_like(target)).clamp(-1, 1), target)
    assert torch.all(noisy["psnr"] < same["psnr"]) and torch.all(noisy["l1"] > 0.1)


def test_eval_writes_csv_json_and_a_gallery(tiny_checkpoint, tmp_path):
    split = tmp_path / "data" / "val"
    split.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(3):
        Image.fromarray(rng.integers(0, 255, (48, 96, 3), dtype=np.uint8)).save(
            split / f"{index}.jpg"
        )
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "-c",
            str(tiny_checkpoint),
            "--data",
            str(tmp_path / "data"),
            "-o",
            str(out),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [row["name"] for row in rows] == ["0.jpg", "1.jpg", "2.jpg"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["images"] == 3 and summary["size"] == 64 and summary["mode"] == "paper"
    mean_l1 = sum(float(row["l1"]) for row in rows) / 3
    assert abs(summary["mean"]["l1"] - mean_l1) < 1e-5
    page = (out / "index.html").read_text()
    sources = re.findall(r"src='([^']+)'", page)
    assert len(sources) == 9 and all((out / src).is_file() for src in sources)
    assert Image.open(out / sources[1]).size == (64, 64)


@pytest.mark.fault
def test_a_split_folder_given_as_the_data_root_gets_its_parent_suggested(tiny_checkpoint, tmp_path):
    from tests.helpers import invoke_eval, one_line_error

    (tmp_path / "maps" / "val").mkdir(parents=True)
    Image.new("RGB", (128, 64)).save(tmp_path / "maps" / "val" / "1.png")
    line = one_line_error(invoke_eval(tiny_checkpoint, tmp_path / "maps" / "val", tmp_path / "e"))
    assert "--data" in line and "looks like a split folder itself" in line
    assert f"--data '{tmp_path / 'maps'}'" in line and "download" not in line


@pytest.mark.fault
def test_the_data_a_user_names_is_the_data_scored_even_for_a_generated_training_set(
    tiny_checkpoint, tmp_path
):
    from i2i.checkpoint import load_checkpoint, write_checkpoint
    from tests.helpers import invoke_eval, one_line_error

    tensors, meta = load_checkpoint(tiny_checkpoint)
    shapes = {"name": "synthetic_shapes", "size": 64, "length": 512}
    meta["recipe"]["data"] = {"direction": "AtoB", "crop_size": 64, "dataset": shapes}
    generated = write_checkpoint(tmp_path / "generated.safetensors", tensors, meta)
    split = tmp_path / "mine" / "val"
    split.mkdir(parents=True)
    for index in range(3):
        pair = np.random.default_rng(index).integers(0, 255, (64, 128, 3), dtype=np.uint8)
        Image.fromarray(pair).save(split / f"{index}.png")
    result = invoke_eval(generated, tmp_path / "mine", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "scoring" in result.stderr and "as aligned A|B pairs" in result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["images"] == 3 and summary["data"] == str(tmp_path / "mine")
    missing = invoke_eval(generated, tmp_path / "does-not-exist", tmp_path / "out2")
    assert "does not exist" in one_line_error(missing)
