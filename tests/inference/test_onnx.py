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
    result = CliRunner().invoke(main, ["export", "-c", str(tiny_checkpoint), "--eval", str(target)])
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
    CliRunner().invoke(main, ["export", "-c", str(tiny_checkpoint), "--eval", str(target)])
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


def _unet_checkpoint(path, dropout: float):
    """A depth-6 U-Net (dropout at its level 4) at 64², with trained-looking statistics."""
    from i2i.checkpoint import write_checkpoint
    from i2i_pix2pix import UNetGenerator

    torch.manual_seed(1)
    node = {"name": "unet", "depth": 6, "ngf": 8, "norm": "batch", "dropout": dropout}
    generator = UNetGenerator(**{k: v for k, v in node.items() if k != "name"})
    tensors = {f"generator.{k}": v.contiguous() for k, v in generator.state_dict().items()}
    recipe = {"model": {"generator": node, "in_channels": 3, "out_channels": 3}}
    return write_checkpoint(path, tensors, {"step": 1, "recipe": recipe})


def test_paper_mode_export_normalises_each_image_and_draws_dropout(tmp_path):
    from i2i.testtime import generator_mode

    x = torch.rand(3, 3, 64, 64) * 2 - 1
    plain = _unet_checkpoint(tmp_path / "plain.safetensors", dropout=0.0)
    result = CliRunner().invoke(main, ["export", "-c", str(plain), str(tmp_path / "p.onnx")])
    assert result.exit_code == 0, result.output
    module = load_generator(plain, default_registry()).module
    with generator_mode(module, "paper"):
        expected = module(x).numpy()  # per-image statistics, as three batches of one
    session = onnxruntime.InferenceSession(str(tmp_path / "p.onnx"))
    (got,) = session.run(None, {"image": x.numpy()})
    assert np.abs(got - expected).max() <= 1e-4

    noisy = _unet_checkpoint(tmp_path / "noisy.safetensors", dropout=0.5)
    CliRunner().invoke(main, ["export", "-c", str(noisy), str(tmp_path / "n.onnx")])
    session = onnxruntime.InferenceSession(str(tmp_path / "n.onnx"))
    first, second = (session.run(None, {"image": x.numpy()})[0] for _ in range(2))
    assert np.abs(first - second).max() > 1e-3  # dropout is drawn anew on every run


def test_an_exported_mode_cannot_be_switched_at_translate_time(tiny_checkpoint, tmp_path):
    CliRunner().invoke(main, ["export", "-c", str(tiny_checkpoint), str(tmp_path / "p.onnx")])
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(tmp_path / "x.png")
    command = ["translate", "-c", str(tmp_path / "p.onnx"), "-o", str(tmp_path / "out")]
    refused = CliRunner().invoke(main, [*command, "--eval", str(tmp_path / "x.png")])
    assert refused.exit_code == 2
    assert "exported in paper mode" in refused.output and "--eval" in refused.output
    accepted = CliRunner().invoke(main, [*command, "--no-progress", str(tmp_path / "x.png")])
    assert accepted.exit_code == 0, accepted.output
