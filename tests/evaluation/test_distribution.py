"""FID and KID from a local feature-network file: the plumbing, with a tiny random network."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from torch import nn

from i2i.cli import main
from i2i.evaluation.distribution import DistributionScore, FeatureNetworkError

pytest.importorskip("torchmetrics", reason="FID/KID need the fid extra (in the test extra)")
pytest.importorskip("onnxruntime", reason="ONNX feature networks need onnxruntime")


@pytest.fixture
def feature_network(tmp_path):
    """A small randomly initialised conv net exported to ONNX: (N, 3, H, W) → (N, 16)."""
    torch.manual_seed(0)
    network = nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, 2, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    ).eval()
    batch = torch.export.Dim("batch", min=1)
    height, width = torch.export.Dim("height", min=8), torch.export.Dim("width", min=8)
    path = tmp_path / "features.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            network,
            (torch.rand(2, 3, 32, 32),),
            dynamo=True,
            input_names=["image"],
            dynamic_shapes=({0: batch, 2: height, 3: width},),
        )
    program.save(str(path))
    return path


def test_fid_is_zero_for_identical_sets_and_grows_with_the_difference(feature_network):
    torch.manual_seed(1)
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    scores = []
    for shift in (0.0, 0.3, 0.8):
        metric = DistributionScore(feature_network, images=8)
        metric.update((real + shift).clamp(-1, 1), real)
        scores.append(metric.result())
    assert abs(scores[0]["fid"]) < 1e-3 and abs(scores[0]["kid"]) < 1e-3
    assert scores[0]["fid"] < scores[1]["fid"] < scores[2]["fid"]
    assert scores[1]["kid"] < scores[2]["kid"]


def test_a_missing_or_unknown_feature_file_is_one_line(tmp_path):
    with pytest.raises(FeatureNetworkError, match="not found"):
        DistributionScore(tmp_path / "inception.pth", images=4)
    (tmp_path / "net.bin").write_bytes(b"x")
    with pytest.raises(FeatureNetworkError, match="expected the Inception weights"):
        DistributionScore(tmp_path / "net.bin", images=4)


def test_eval_reports_fid_and_palette_accuracy(tiny_checkpoint, feature_network, tmp_path):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        folder = tmp_path / "data" / split
        folder.mkdir(parents=True)
        for index in range(4):
            pair = rng.integers(0, 4, (48, 96, 1)).repeat(3, 2) * 60
            Image.fromarray(pair.astype(np.uint8)).save(folder / f"{index}.png")
    out = tmp_path / "report"
    arguments = ["eval", "-c", str(tiny_checkpoint), "--data", str(tmp_path / "data"), "-o"]
    options = ["--palette-colors", "3", "--fid-features", str(feature_network), "--no-progress"]
    result = CliRunner().invoke(main, [*arguments, str(out), *options])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    scores = summary["scores"]
    assert set(scores) == {"pixel_acc", "class_acc", "class_iou", "fid", "kid"}
    assert 0 <= scores["pixel_acc"] <= 1 and scores["fid"] > 0
    assert summary["palette_colors"] == 3 and (out / "palette.json").is_file()
    again = CliRunner().invoke(
        main,
        [
            *arguments,
            str(tmp_path / "again"),
            "--palette",
            str(out / "palette.json"),
            "--no-progress",
        ],
    )
    assert again.exit_code == 0, again.output
    repeated = json.loads((tmp_path / "again" / "summary.json").read_text())["scores"]
    assert repeated["pixel_acc"] == pytest.approx(scores["pixel_acc"])
