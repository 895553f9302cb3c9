"""The Python API: i2i.load(path)(image) for each input type and checkpoint kind, equal to
what i2i translate writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import i2i
from i2i.cli import main
from i2i.errors import DataError


@pytest.fixture
def photo(tmp_path) -> Path:
    pixels = np.random.default_rng(3).integers(0, 256, (40, 72, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    return tmp_path / "photo.png"


def _cli(checkpoint, photo: Path, out: Path, *flags: str) -> np.ndarray:
    arguments = ["translate", "-c", str(checkpoint), "-o", str(out), *flags, str(photo)]
    result = CliRunner().invoke(main, [*arguments, "--no-progress"])
    assert result.exit_code == 0, result.output
    return np.asarray(Image.open(out / photo.name))


def test_each_input_type_comes_back_as_itself_at_its_size(tiny_checkpoint, photo):
    model = i2i.load(tiny_checkpoint)
    image = Image.open(photo)
    out = model(image, mode="eval")
    assert isinstance(out, Image.Image) and out.size == (72, 40)
    array = np.asarray(image)
    for kind in (array, array.astype(np.uint16) * 257, array.astype(np.float32) / 255):
        result = model(kind, mode="eval")
        assert result.dtype == kind.dtype and result.shape == (40, 72, 3)
    assert np.array_equal(model(array, mode="eval"), np.asarray(out))
    grey = model(array[..., 0], mode="eval")
    assert grey.shape == (40, 72, 3)
    tensor = torch.from_numpy(array).permute(2, 0, 1).float() / 127.5 - 1
    single, batch = model(tensor, mode="eval"), model(tensor[None].repeat(2, 1, 1, 1), mode="eval")
    assert single.shape == (3, 40, 72) and batch.shape == (2, 3, 40, 72)
    assert torch.allclose(batch[0], single, atol=1e-5)
    both = model([image, array], mode="eval")
    assert isinstance(both[0], Image.Image) and isinstance(both[1], np.ndarray)
    with pytest.raises(DataError, match="cannot translate a str"):
        model("photo.png")


@pytest.mark.fault
def test_inputs_outside_the_contract_are_one_clear_error(tiny_checkpoint, photo):
    from i2i.errors import DeviceError, I2IError

    model = i2i.load(tiny_checkpoint)
    array = np.asarray(Image.open(photo))
    with pytest.raises(DataError, match=r"run from 0 to 255, outside \[0, 1\]; .*divide by 255"):
        model(array.astype(np.float32), mode="eval")  # 0..255 floats, not 0..1
    nan = array.astype(np.float32) / 255
    nan[3, 4, 1] = np.nan
    with pytest.raises(DataError, match="NaN or infinite"):
        model(nan)
    with pytest.raises(DataError, match=r"empty \(shape"):
        model(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(DataError, match=r"outside \[-1, 1\]"):
        model(torch.full((3, 8, 8), 200.0))
    with pytest.raises(DataError, match="NaN or infinite"):
        model(torch.full((3, 8, 8), float("inf")))
    with pytest.raises(DataError, match="not torch.int64"):
        model(torch.zeros((3, 8, 8), dtype=torch.int64))
    # a uint8 tensor is an image's bytes: the same type back, equal to the array's result
    as_bytes = torch.from_numpy(array).permute(2, 0, 1).contiguous()
    out = model(as_bytes, mode="eval")
    assert out.dtype == torch.uint8 and out.shape == as_bytes.shape
    assert np.array_equal(out.permute(1, 2, 0).numpy(), model(array, mode="eval"))
    device = "cuda" if not torch.cuda.is_available() else "cuda:99"
    with pytest.raises(DeviceError, match="CUDA is not available|CUDA device"):
        i2i.load(tiny_checkpoint, device=device)
    assert issubclass(DataError, I2IError) and issubclass(DeviceError, I2IError)


def test_outputs_equal_the_command_lines(tiny_checkpoint, photo, tmp_path):
    model = i2i.load(tiny_checkpoint)
    assert np.array_equal(
        np.asarray(model(Image.open(photo), mode="eval")),
        _cli(tiny_checkpoint, photo, tmp_path / "eval", "--eval"),
    )
    paper = np.asarray(model(Image.open(photo), seed=7))
    assert np.array_equal(paper, _cli(tiny_checkpoint, photo, tmp_path / "paper", "--seed", "7"))
    assert np.array_equal(
        np.asarray(model(Image.open(photo), mode="eval", tile=32, overlap=8)),
        _cli(
            tiny_checkpoint,
            photo,
            tmp_path / "tiles",
            "--eval",
            "--tile",
            "32",
            "--tile-overlap",
            "8",
        ),
    )


def test_official_and_onnx_files_load_the_same_way(tiny_checkpoint, photo, tmp_path):
    from i2i.inference.load import load_generator
    from i2i.inference.onnx import export_onnx
    from i2i.plugins import default_registry
    from tests.fixtures.official_unet import OfficialSpecUNet

    torch.manual_seed(0)
    official = OfficialSpecUNet(num_downs=5, ngf=8).eval()
    torch.save(official.state_dict(), tmp_path / "latest_net_G.pth")
    x = torch.rand(1, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        expected = official(x)[0]
    got = i2i.load(tmp_path / "latest_net_G.pth")(x[0], mode="eval")
    assert torch.allclose(got, expected, atol=1e-5)

    generator = load_generator(tiny_checkpoint, default_registry())
    exported = export_onnx(generator, tmp_path / "tiny.onnx", mode="eval")
    image = Image.open(photo)
    reference = np.asarray(i2i.load(tiny_checkpoint)(image, mode="eval"), dtype=np.int16)
    other = np.asarray(i2i.load(exported)(image, mode="eval"), dtype=np.int16)
    assert np.abs(other - reference).max() <= 1  # onnxruntime's float sums
    with pytest.raises(i2i.errors.CheckpointError, match="exported in eval mode"):
        i2i.load(exported)(image)  # the paper mode


def test_the_python_examples_in_the_docs_run(tiny_checkpoint, tmp_path, monkeypatch):
    import re
    import shutil

    text = (Path(__file__).parents[2] / "docs" / "using-models.md").read_text()
    section = text[text.index("## From Python") : text.index("## Model cards")]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    shutil.copy(tiny_checkpoint, tmp_path / "model.safetensors")
    Image.fromarray(np.zeros((48, 80, 3), np.uint8)).save(tmp_path / "photo.png")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "using-models.md", "exec"), {})
