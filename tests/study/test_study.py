"""`i2i study`: variants trained alike, scored alike, tabulated; interrupted studies continue."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from safetensors.torch import load_file

from i2i.cli import main
from i2i.errors import RecipeError
from i2i.study.schema import load_study

BASE = """\
seed: 0
data:
  dataset: {name: synthetic_shapes, size: 32, length: 16}
  val_split: val
  load_size: 36
  crop_size: 32
  batch_size: 4
  num_workers: 0
model:
  generator: {name: unet, depth: 5, ngf: 8}
  discriminator: {name: patchgan, ndf: 8, n_layers: 2}
train: {device: cpu, max_steps: 8}
log: {every: 4, sample_every: 100, val_images: 4, progress: false}
checkpoint: {every: 4, keep: 1}
"""

STUDY = """\
title: Two variants
recipe: base.yaml
variants:
  L1: [loss.adversarial.weight=0]
  L1+cGAN: [{extra}]
eval: {{palette_colors: 3, figure_images: 2}}
reference: {{L1: "0.42"}}
"""


def write_study(folder: Path, extra: str = "") -> Path:
    (folder / "base.yaml").write_text(BASE)
    path = folder / "two.yaml"
    path.write_text(STUDY.format(extra=extra))
    return path


def i2i(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "i2i", *arguments], cwd=cwd, capture_output=True, text=True
    )


def digest(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with its content hash."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_two_variant_study_writes_tables_and_figures_that_agree(tmp_path):
    study = write_study(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["study", str(study), "-o", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert all(
        json.loads((out / v / "seed0" / "study.json").read_text()) for v in ("l1", "l1-cgan")
    )
    results = json.loads((out / "results.json").read_text())
    assert [v["name"] for v in results["variants"]] == ["L1", "L1+cGAN"]
    assert results["columns"][:3] == ["pixel_acc", "class_acc", "class_iou"]
    table = (out / "results.md").read_text()
    for variant in results["variants"]:
        summary = json.loads(
            (
                out / variant["name"].lower().replace("+", "-") / "seed0" / "eval" / "summary.json"
            ).read_text()
        )
        assert variant["mean"]["ssim"] == summary["mean"]["ssim"]
        assert variant["mean"]["pixel_acc"] == summary["scores"]["pixel_acc"]
        row = next(line for line in table.splitlines() if line.startswith(f"| {variant['name']} |"))
        cells = [c.strip().strip("*") for c in row.strip("|").split("|")]
        assert cells[1] == f"{variant['mean']['pixel_acc']:.3f}"
        assert cells[4] == f"{variant['mean']['l1']:.3f}"
    # exactly one bold value per column with one seed: the best one
    for index, key in enumerate(results["columns"], start=1):
        rows = [line for line in table.splitlines() if line.startswith("| L1")]
        bold = [r for r in rows if r.strip("|").split("|")[index].strip().startswith("**")]
        assert len(bold) == 1, key
    assert "0.42" in table  # the paper's figure beside the measured ones
    with Image.open(out / "figure.png") as figure:
        width, height = figure.size
    assert 1.4 < width / height < 2.6  # 4 columns (input, 2 variants, target) by 2 rows
    assert (out / "metrics.png").stat().st_size > 1000
    rerun = CliRunner().invoke(main, ["study", str(study), "-o", str(out)])
    assert rerun.exit_code == 0 and "2 of 2 runs already finished" in rerun.output


def test_a_misspelled_key_in_a_variant_is_refused_naming_the_variant(tmp_path):
    study = write_study(tmp_path, extra="train.max_stpes=3")
    with pytest.raises(RecipeError) as error:
        load_study(study)
    message = str(error.value)
    assert "variant 'L1+cGAN'" in message and "'train.max_steps'" in message
    result = CliRunner().invoke(main, ["study", str(study), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_command_line_overrides_reach_every_variant_and_study_keys(tmp_path):
    plan = load_study(write_study(tmp_path), ["train.max_steps=3", "study.seeds=2"])
    assert [(v.name, v.seed) for v in plan.runs] == [
        ("L1", 0),
        ("L1", 1),
        ("L1+cGAN", 0),
        ("L1+cGAN", 1),
    ]
    assert all(v.recipe.train.max_steps == 3 for v in plan.runs)
    with pytest.raises(RecipeError, match="unknown study key 'eval.palete'"):
        load_study(tmp_path / "two.yaml", ["study.eval.palete=3"])


def test_a_study_folder_with_another_plan_is_refused(tmp_path):
    study = write_study(tmp_path)
    out = tmp_path / "out"
    from i2i.study.runner import claim_folder

    claim_folder(out, load_study(study))
    with pytest.raises(RecipeError, match="other variants"):
        claim_folder(out, load_study(study, ["train.max_steps=5"]))
    (tmp_path / "a_file").write_text("mine")
    with pytest.raises(RecipeError, match="is a file"):
        claim_folder(tmp_path / "a_file", load_study(study))
    assert (tmp_path / "a_file").read_text() == "mine"


@pytest.mark.slow
@pytest.mark.fault
def test_a_killed_study_continues_and_keeps_finished_variants_byte_identical(tmp_path):
    study = write_study(tmp_path, extra="train.max_steps=40")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "i2i", "study", str(study), "-o", str(out)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    second = out / "l1-cgan" / "seed0" / "checkpoints"
    deadline = time.monotonic() + 600  # generous: a loaded machine is slow, a fast one leaves early
    while not list(second.glob("step_*.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(second.glob("step_*.json")), "the second variant never checkpointed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 300  # the orphaned run gets SIGTERM and saves a checkpoint
    while "run --resume" in _processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    first = out / "l1" / "seed0"
    assert (first / "study.json").is_file() and not (
        out / "l1-cgan" / "seed0" / "study.json"
    ).exists()
    before = digest(first)
    resumed = i2i("study", str(study), "-o", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 of 2 runs already finished" in resumed.stderr
    assert digest(first) == before
    assert re.search(r"L1\+cGAN seed 0: continuing", resumed.stderr)

    reference = i2i("study", str(study), "-o", str(tmp_path / "uninterrupted"), cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    name = "checkpoints/step_00000040.safetensors"
    continued = load_file(out / "l1-cgan" / "seed0" / name)
    straight = load_file(tmp_path / "uninterrupted" / "l1-cgan" / "seed0" / name)
    assert continued.keys() == straight.keys()
    assert all(torch.equal(continued[k], straight[k]) for k in continued)
    left = json.loads((out / "results.json").read_text())["variants"]
    right = json.loads((tmp_path / "uninterrupted" / "results.json").read_text())["variants"]
    assert [v["mean"] for v in left] == [v["mean"] for v in right]


def _processes() -> str:
    return subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def test_results_state_the_command_line_overrides_that_ran_not_only_the_budget(tmp_path):
    from i2i.study.results import aggregate, results_markdown

    plan = load_study(write_study(tmp_path), ["train.max_steps=3", "data.crop_size=32"])
    summary = {"mean": {"l1": 0.1}, "scores": {}, "split": "val", "size": 32, "mode": "paper"}
    results = aggregate(plan, [(variant, summary) for variant in plan.runs])
    assert results["overrides"] == ["train.max_steps=3", "data.crop_size=32"]
    heading = results_markdown(results).splitlines()[2]
    assert heading.endswith("then, from the command line: `train.max_steps=3` `data.crop_size=32`.")
