"""int8 export: the sub-pixel decoder is the transposed convolution, and the quantised model
translates through every command close to the fp32 one, with its cost in the card."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from torch import nn

import i2i
from i2i.cli import main
from i2i.inference.int8 import SubPixelConvTranspose, psnr_between, rewritable, subpixel_decoder


@pytest.mark.parametrize(("size", "stride", "padding"), [(4, 2, 1), (2, 2, 0), (5, 3, 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_the_subpixel_form_is_the_transposed_convolution(size, stride, padding, bias):
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(5, 7, size, stride, padding, bias=bias)
    image = torch.randn(2, 5, 9, 11)
    with torch.no_grad():
        assert torch.allclose(SubPixelConvTranspose(layer)(image), layer(image), atol=1e-5)


def test_only_layers_that_map_a_pixel_to_a_block_are_rewritten_and_all_come_back():
    kept = [nn.ConvTranspose2d(3, 3, 3, 1, 1), nn.ConvTranspose2d(3, 3, 4, 2, 1, groups=3)]
    assert not any(rewritable(layer) for layer in kept)
    network = nn.Sequential(nn.ConvTranspose2d(3, 4, 4, 2, 1), nn.ReLU(), *kept)
    originals = list(network)
    with subpixel_decoder(network) as rewritten:
        assert rewritten == 1 and isinstance(network[0], SubPixelConvTranspose)
    assert list(network) == originals


def _pairs(root, split: str, count: int) -> None:
    """Aligned A|B pairs of smooth colour fields (something for a U-Net to carry through)."""
    folder = root / split
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(split))
    y, x = np.mgrid[0:64, 0:64] / 63.0
    for index in range(count):
        a, b, c = rng.uniform(0, 1, 3)
        field = np.stack([a * x + (1 - a) * y, b * y, c * (1 - x)], axis=-1)
        half = (field * 255).astype(np.uint8)
        Image.fromarray(np.concatenate([half, half[:, ::-1]], axis=1)).save(folder / f"{index}.png")


def _cli(*arguments: str) -> str:
    result = CliRunner().invoke(main, list(arguments))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_int8_export_runs_everywhere_close_to_fp32_and_states_its_cost(
    tiny_checkpoint, tmp_path
):
    data = tmp_path / "data"
    _pairs(data, "train", 8)
    _pairs(data, "val", 4)
    fp32, int8 = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    _cli("export", "-c", str(tiny_checkpoint), "--eval", str(fp32))
    _cli("export", "-c", str(tiny_checkpoint), "--eval", "--int8", "--calibration", str(data),
         "--calibration-images", "8", str(int8))  # fmt: skip
    graph = onnx.load(str(int8))
    operators = {node.op_type for node in graph.graph.node}
    assert "QuantizeLinear" in operators and "ConvTranspose" not in operators
    info = json.loads({p.key: p.value for p in graph.metadata_props}["i2i"])
    assert info["int8"]["rewritten_transposed_convolutions"] == 5  # depth 5
    assert info["int8"]["calibration"].startswith("8 images of the train split")
    card = (tmp_path / "int8.README.md").read_text()
    assert f"**{info['int8']['psnr_vs_fp32']} dB**" in card and "the val split" in card
    # The Python API: close to the fp32 export on held-out pairs, and not the same model.
    image = torch.from_numpy(np.asarray(Image.open(data / "val" / "0.png"))[:, :64].copy())
    batch = image.permute(2, 0, 1)[None].float() / 127.5 - 1
    quantised = i2i.load(int8).translate_batch(batch, mode="eval")
    reference = i2i.load(fp32).translate_batch(batch, mode="eval")
    assert 30 < psnr_between(quantised, reference) < float("inf")
    # translate, eval and serve's loader take it like any .onnx
    out = tmp_path / "out"
    _cli("translate", "-c", str(int8), "-o", str(out), "--eval", "--aligned", "--no-progress",
         str(data / "val" / "1.png"))  # fmt: skip
    assert Image.open(out / "1.png").size == (64, 64)
    scored = _cli("eval", "-c", str(int8), "--eval", "--data", str(data), "-o", str(tmp_path / "e"))
    assert "4 images" in scored


def test_int8_without_readable_training_data_says_to_give_calibration(tiny_checkpoint, tmp_path):
    result = CliRunner().invoke(
        main, ["export", "-c", str(tiny_checkpoint), "--int8", str(tmp_path / "m.onnx")]
    )
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--calibration DIR" in lines[0], result.output
    assert not (tmp_path / "m.onnx").exists()
