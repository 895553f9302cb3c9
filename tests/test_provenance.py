"""Provenance: which plugin, at which version, built every component of a run."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from i2i import __version__
from i2i.checkpoint import list_checkpoints
from i2i.inference.load import load_generator
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare
from i2i.train.resume import resume


def _pix2pix() -> dict:
    return {
        "plugin": "pix2pix",
        "distribution": "i2i-pix2pix",
        "version": metadata.version("i2i-pix2pix"),
    }


def test_config_and_checkpoints_record_the_plugin_behind_each_component(tiny_recipe):
    recipe = tiny_recipe("train.max_steps=2")
    fit(prepare(recipe, Path(recipe.run.dir), default_registry()))
    run_dir = Path(recipe.run.dir)
    config = yaml.safe_load((run_dir / "config.yaml").read_text())["provenance"]
    assert config["i2i"] == __version__
    assert config["components"]["model.generator"] == {"name": "unet", **_pix2pix()}
    assert config["components"]["method"] == {"name": "pix2pix", **_pix2pix()}
    assert config["components"]["data.dataset"]["distribution"] == "i2i"
    assert config["components"]["loss.terms.l1"]["name"] == "l1"
    sidecar = json.loads(
        list_checkpoints(run_dir / "checkpoints")[-1].with_suffix(".json").read_text()
    )
    assert sidecar["recipe"]["provenance"] == config


def test_resuming_or_loading_under_another_plugin_version_warns_naming_it(tiny_recipe, monkeypatch):
    recipe = tiny_recipe("train.max_steps=2")
    fit(prepare(recipe, Path(recipe.run.dir), default_registry()))
    registry = default_registry()
    monkeypatch.setitem(registry.distributions, "pix2pix", ("i2i-pix2pix", "9.9"))
    checkpoint = list_checkpoints(Path(recipe.run.dir) / "checkpoints")[-1]
    changed = r"other versions: i2i-pix2pix \S+ then, i2i-pix2pix 9.9 now "
    with pytest.warns(UserWarning, match=changed + r"\(model.generator unet\)$"):
        load_generator(checkpoint, registry)
    with pytest.warns(UserWarning, match=changed + r"\(method pix2pix, model.generator unet, "):
        resume(Path(recipe.run.dir), ["train.max_steps=3"], registry)


def test_eval_summaries_record_what_scored_and_what_trained(tiny_checkpoint, tmp_path):
    from PIL import Image

    from tests.helpers import invoke_eval

    (tmp_path / "data" / "val").mkdir(parents=True)
    Image.new("RGB", (128, 64)).save(tmp_path / "data" / "val" / "1.png")
    result = invoke_eval(tiny_checkpoint, tmp_path / "data", tmp_path / "e")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())["provenance"]
    assert summary["components"]["model.generator"] == {"name": "unet", **_pix2pix()}
    assert summary["components"]["data.dataset"]["plugin"] == "i2i-data"
    assert summary["i2i"] == __version__ and "trained_with" in summary
