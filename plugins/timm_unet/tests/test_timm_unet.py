"""The timm-encoder U-Net: shapes, size rule, local pretrained weights, safe loading."""

from __future__ import annotations

import pickle

import pytest
import timm
import torch
from safetensors.torch import save_file

import i2i
from i2i_timm_unet import TimmUNet


def test_registered_and_translates_at_input_size():
    generator = i2i.create(
        "generator", {"name": "timm_unet", "encoder": "resnet18"}, in_channels=1, out_channels=3
    )
    assert isinstance(generator, TimmUNet) and generator.size_multiple == 32
    with torch.no_grad():
        output = generator.eval()(torch.randn(2, 1, 64, 96))
    assert output.shape == (2, 3, 64, 96) and output.abs().max() <= 1


def _reference_backbone() -> dict[str, torch.Tensor]:
    torch.manual_seed(123)
    backbone = timm.create_model("resnet18", features_only=True)
    return {k: v.contiguous() for k, v in backbone.state_dict().items()}


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_pretrained_from_a_local_file(tmp_path, suffix):
    weights = _reference_backbone()
    path = tmp_path / f"resnet18{suffix}"
    if suffix == ".safetensors":
        save_file(weights, str(path))
    else:
        torch.save(weights, path)
    generator = TimmUNet(encoder="resnet18", pretrained=str(path))
    loaded = generator.encoder.state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in weights.items())


class _Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_code_is_refused_unrun(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    with path.open("wb") as stream:
        pickle.dump({"conv1.weight": _Exploit()}, stream)
    with pytest.raises(ValueError, match="was not unpickled"):
        TimmUNet(encoder="resnet18", pretrained=str(path))
    assert "this must never run" not in capsys.readouterr().out


def test_bad_arguments_are_clear(tmp_path):
    with pytest.raises(ValueError, match="cannot build encoder 'resnet_nope'"):
        TimmUNet(encoder="resnet_nope")
    with pytest.raises(ValueError, match="needs 5 entries"):
        TimmUNet(encoder="resnet18", decoder_channels=(32, 16))
    unrelated = tmp_path / "other.safetensors"
    save_file({"something.else": torch.zeros(1)}, str(unrelated))
    with pytest.raises(ValueError, match="no key matched"):
        TimmUNet(encoder="resnet18", pretrained=str(unrelated))
