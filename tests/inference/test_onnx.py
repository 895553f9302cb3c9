"""ONNX export: parity with PyTorch under onnxruntime, and translating with the .onnx file."""

from __future__ import annotations

import numpy as np
import onnxruntime
import torch
from click.testing import CliRunner
from PIL import Image

from i2i.cli import main
from i2i.inference.load import load_generator
from i2i.plugins import default_registry


def test_export_matches_pytorch_at_any_batch_and_size(tiny_checkpoint, tmp_path):
    target = tmp_path / "tiny.onnx"
    result = CliRunner().invoke(main, ["export", "-c", str(tiny_checkpoint), str(target)])
    assert result.exit_code == 0, result.output
    generator = load_generator(tiny_checkpoint, default_registry()).module.eval()
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    for shape in [(1, 3, 32, 32), (2, 3, 64, 96), (3, 3, 128, 32)]:
        x = torch.rand(*shape) * 2 - 1
        with torch.no_grad():
            expected = generator(x).numpy()
        (got,) = session.run(None, {"image": x.numpy()})
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-4


def test_translate_runs_an_onnx_file(tiny_checkpoint, tmp_path):
    target = tmp_path / "tiny.onnx"
    CliRunner().invoke(main, ["export", "-c", str(tiny_checkpoint), str(target)])
    Image.fromarray(np.full((50, 70, 3), 90, np.uint8)).save(tmp_path / "x.png")
    outputs = {}
    for checkpoint in (target, tiny_checkpoint):
        out = tmp_path / checkpoint.suffix.strip(".")
        result = CliRunner().invoke(
            main,
            [
                "translate",
                "-c",
                str(checkpoint),
                "-o",
                str(out),
                "--eval",
                "--no-progress",
                str(tmp_path / "x.png"),
            ],
        )
        assert result.exit_code == 0, result.output
        outputs[checkpoint.suffix] = np.asarray(Image.open(out / "x.png"), dtype=int)
    assert outputs[".onnx"].shape == (50, 70, 3)
    assert np.abs(outputs[".onnx"] - outputs[".safetensors"]).max() <= 1  # rounding only
