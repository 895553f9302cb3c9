"""Shared fixtures: small recipes and a way to plant plugins on sys.path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from i2i.checkpoint import write_checkpoint
from i2i.config import load_recipe
from i2i.config.schema import Recipe
from i2i.plugins import reset_plugins


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory):
    """The suite's caches (the plugin listing) in a folder of its own, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("I2I_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def _fresh_plugins():
    """Every test starts from the entry-point plugins alone."""
    reset_plugins()
    yield
    reset_plugins()


TINY_OVERRIDES = [
    "data.dataset.name=synthetic_shapes",
    "data.dataset.size=32",
    "data.dataset.length=64",
    "data.load_size=36",
    "data.crop_size=32",
    "data.batch_size=4",
    "data.num_workers=0",
    "model.generator.depth=5",
    "model.generator.ngf=8",
    "model.discriminator.ndf=8",
    "model.discriminator.n_layers=2",
    "train.device=cpu",
    "log.every=5",
    "log.sample_every=20",
    "log.val_images=4",
    "log.progress=false",
]


@pytest.fixture
def tiny_recipe(tmp_path: Path):
    """Build a seconds-long CPU recipe on synthetic data, with extra overrides."""

    def make(*overrides: str) -> Recipe:
        return load_recipe(None, [*TINY_OVERRIDES, f"run.dir={tmp_path / 'run'}", *overrides])

    return make


@pytest.fixture
def tiny_checkpoint(tmp_path):
    """An i2i checkpoint of a depth-5, ngf-8 U-Net with non-trivial weights."""
    from i2i_pix2pix import UNetGenerator

    torch.manual_seed(0)
    node = {"name": "unet", "depth": 5, "ngf": 8, "norm": "batch", "dropout": 0.5}
    generator = UNetGenerator(**{k: v for k, v in node.items() if k != "name"})
    with torch.no_grad():
        for name, tensor in generator.state_dict().items():
            if "running_var" in name:
                tensor.uniform_(0.5, 1.5)
            elif "running_mean" in name:
                tensor.normal_(0, 0.1)
    tensors = {f"generator.{k}": v.contiguous() for k, v in generator.state_dict().items()}
    recipe = {
        "model": {"generator": node, "in_channels": 3, "out_channels": 3},
        "data": {"direction": "AtoB", "crop_size": 64, "dataset": {"name": "aligned"}},
    }
    return write_checkpoint(tmp_path / "tiny.safetensors", tensors, {"step": 1, "recipe": recipe})
