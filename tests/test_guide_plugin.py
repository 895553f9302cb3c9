"""A plugin written from docs/plugins.md alone trains on the first try."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import plant_distribution

SOURCE = Path(__file__).parent / "fixtures" / "guide_plugin" / "guide_i2i_plugin.py"

RECIPE = """
data:
  dataset: {name: synthetic_shapes, size: 32, length: 8}
  load_size: 32
  crop_size: 32
  num_workers: 0
  val_split: null
model:
  generator: {name: unet, depth: 5, ngf: 8}
  discriminator: {name: patchgan, ndf: 8, n_layers: 2}
train: {max_steps: 2, device: cpu}
log: {every: 1, val_images: 2, progress: false}
"""


def test_guide_plugin_trains_through_the_cli(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    plant_distribution(site, "guide_i2i_plugin", SOURCE.read_text(), {"guide": "guide_i2i_plugin"})
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    listing = subprocess.run(
        [sys.executable, "-m", "i2i", "plugins", "--kind", "discriminator"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert any(
        line.split()[:3] == ["discriminator", "dilated", "guide"] for line in listing.splitlines()
    )
    run = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "i2i",
            "run",
            str(recipe),
            "model.discriminator={name: dilated}",
            "loss.terms.feature_matching.weight=10",
            f"run.dir={run}",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    steps = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len([s for s in steps if "loss/d" in s]) == 2
