"""The method plugin of docs/methods.md, taken from the page itself, trains through the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import plant_distribution

GUIDE = Path(__file__).parents[1] / "docs" / "methods.md"

RECIPE = """
data:
  dataset: {name: synthetic_shapes, size: 32, length: 8}
  load_size: 36
  crop_size: 32
  num_workers: 0
model:
  generator: {name: unet, depth: 5, ngf: 8}
train: {max_steps: 4, device: cpu}
log: {every: 1, val_images: 2, progress: false}
checkpoint: {every: 2}
"""


def guide_source() -> str:
    """The ``regression_method.py`` block of the guide."""
    blocks = re.findall(r"```python\n(# regression_method\.py\n.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) == 1, "docs/methods.md lost its regression_method.py example"
    return blocks[0]


@pytest.mark.slow
def test_the_guide_method_trains_resumes_and_translates(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    plant_distribution(
        site, "regression_method", guide_source(), {"regression": "regression_method"}
    )
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}

    def i2i(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "i2i", *arguments], env=env, capture_output=True, text=True
        )

    run = tmp_path / "run"
    first = i2i(
        "run",
        str(recipe),
        "method={name: regression, distance: l2}",
        f"run.dir={run}",
        "train.max_steps=2",
    )
    assert first.returncode == 0, first.stderr
    resumed = i2i("resume", str(run), "train.max_steps=4")
    assert resumed.returncode == 0, resumed.stderr
    steps = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps if "loss/l2" in s] == [1, 2, 3, 4]
    assert not any("loss/d" in s for s in steps)
    checkpoint = sorted((run / "checkpoints").glob("*.safetensors"))[-1]
    images = tmp_path / "images"
    translated = i2i(
        "translate",
        "-c",
        str(checkpoint),
        "-o",
        str(images),
        "--no-progress",
        str(next((run / "samples").glob("*.png"))),
    )
    assert translated.returncode == 0, translated.stderr
    refused = i2i(
        "run", str(recipe), "method={name: regression, distance: l3}", f"run.dir={tmp_path / 'bad'}"
    )
    assert refused.returncode == 2 and "distance must be 'l1' or 'l2'" in refused.stderr
