"""Model cards beside a run's final checkpoint and beside every export."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from i2i.cli import main
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare


def test_a_run_leaves_a_card_beside_its_final_checkpoint(tiny_recipe):
    recipe = tiny_recipe("train.max_steps=3")
    run_dir = Path(recipe.run.dir)
    fit(prepare(recipe, run_dir, default_registry()))
    card = (run_dir / "checkpoints" / "README.md").read_text()
    assert card.startswith("# run: step_00000003.safetensors")
    assert "| method | `pix2pix` |" in card and "`unet` (depth=5, ngf=8" in card
    assert "| model.generator | `unet` | pix2pix | i2i-pix2pix" in card
    assert "held-out metrics (last) | val/l1" in card and "3 iterations" in card
    (picture,) = re.findall(r"!\[samples\]\((.+)\)", card)
    assert (run_dir / "checkpoints" / picture).is_file()  # the link works from the card
    assert "i2i translate -c step_00000003.safetensors -o out/ photos/" in card
    assert 'model = i2i.load("step_00000003.safetensors")' in card
    assert "data:\n  dataset:\n    name: synthetic_shapes" in card  # the recipe


def test_an_export_gets_its_card(tiny_checkpoint, tmp_path):
    target = tmp_path / "model.onnx"
    result = CliRunner().invoke(main, ["export", "-c", str(tiny_checkpoint), "--eval", str(target)])
    assert result.exit_code == 0, result.output
    card = (tmp_path / "model.README.md").read_text()
    assert "exported from tiny.safetensors" in card and "i2i translate -c model.onnx" in card


def test_a_term_without_a_name_shows_its_label_and_a_generated_dataset_no_root(tiny_recipe):
    recipe = tiny_recipe("train.max_steps=1")
    run_dir = Path(recipe.run.dir)
    fit(prepare(recipe, run_dir, default_registry()))
    card = (run_dir / "checkpoints" / "README.md").read_text()
    assert "terms l1 `l1` (weight=100.0)" in card and "from `None`" not in card
