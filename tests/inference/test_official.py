"""Official *_net_G.pth files: architecture inferred, weights mapped, outputs identical."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from i2i.errors import CheckpointError
from i2i.inference.load import convert_to_checkpoint, load_generator
from i2i.plugins import default_registry
from tests.fixtures.official_unet import OfficialSpecUNet

KEYS = Path(__file__).parents[1] / "fixtures" / "official_unet_256_keys.txt"


def _listing(module: torch.nn.Module) -> list[str]:
    return [
        f"{k} {tuple(v.shape)} {str(v.dtype).removeprefix('torch.')}"
        for k, v in module.state_dict().items()
    ]


def _trained_like(net: torch.nn.Module) -> torch.nn.Module:
    """Random weights and non-trivial BatchNorm statistics, as a trained file would hold."""
    torch.manual_seed(0)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(
                    torch.rand_like(tensor) + 0.5
                    if "running_var" in name
                    else torch.randn_like(tensor) * 0.05
                )
    return net


def test_spec_network_has_exactly_the_official_keys_and_shapes():
    expected = [" ".join(line.split()) for line in KEYS.read_text().splitlines() if line.strip()]
    assert _listing(OfficialSpecUNet()) == expected


def test_unet_256_loads_and_reproduces_the_official_outputs(tmp_path):
    official = _trained_like(OfficialSpecUNet()).eval()
    path = tmp_path / "latest_net_G.pth"
    torch.save(official.state_dict(), path)
    loaded = load_generator(path, default_registry())
    assert loaded.node == {"name": "unet", "depth": 8, "ngf": 64, "norm": "batch", "dropout": 0.5}
    x = torch.rand(2, 3, 256, 256) * 2 - 1
    with torch.no_grad():
        difference = (loaded.module.eval()(x) - official(x)).abs().max().item()
    assert difference <= 1e-5


def test_instance_norm_unet_128_with_stale_buffers(tmp_path):
    official = _trained_like(OfficialSpecUNet(num_downs=7, ngf=16, norm="instance")).eval()
    state = official.state_dict()
    # Files saved by old PyTorch versions carry statistics for InstanceNorm layers.
    state["model.model.1.model.2.running_mean"] = torch.zeros(32)
    state["model.model.1.model.2.running_var"] = torch.ones(32)
    path = tmp_path / "old_net_G.pth"
    torch.save(state, path)
    loaded = load_generator(path, default_registry())
    assert loaded.node["depth"] == 7 and loaded.node["norm"] == "instance"
    assert loaded.size_multiple == 128
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        assert (loaded.module.eval()(x) - official(x)).abs().max().item() <= 1e-5


def test_norm_none_without_biases_loads_with_zero_biases(tmp_path):
    official = _trained_like(OfficialSpecUNet(num_downs=6, ngf=8, norm="none")).eval()
    assert "model.model.1.model.1.bias" not in official.state_dict()
    path = tmp_path / "none_net_G.pth"
    torch.save(official.state_dict(), path)
    loaded = load_generator(path, default_registry())
    assert loaded.node["norm"] == "none"
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert (loaded.module.eval()(x) - official(x)).abs().max().item() <= 1e-5


def test_convert_then_load_gives_the_same_network(tmp_path):
    official = _trained_like(OfficialSpecUNet(num_downs=6, ngf=8)).eval()
    source = tmp_path / "5_net_G.pth"
    torch.save(official.state_dict(), source)
    target = convert_to_checkpoint(source, tmp_path / "unet.safetensors", default_registry())
    assert target.is_file() and target.with_suffix(".json").is_file()
    reloaded = load_generator(target, default_registry())
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(reloaded.module.eval()(x), official(x), atol=1e-5)


@pytest.mark.fault
def test_pickle_that_runs_code_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil_net_G.pth"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    with evil.open("wb") as stream:
        pickle.dump({"model.model.0.weight": Exploit()}, stream)
    with pytest.raises(CheckpointError, match="was not unpickled"):
        load_generator(evil, default_registry())
    assert not marker.exists()
    result = subprocess.run(
        [sys.executable, "-m", "i2i", "convert", str(evil), str(tmp_path / "out.safetensors")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_unrecognised_state_dict(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(CheckpointError, match="no weight converter recognises"):
        load_generator(path, default_registry())
