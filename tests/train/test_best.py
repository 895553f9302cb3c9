"""checkpoint.best: held-out metrics every log.sample_every, and the best checkpoint kept."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from i2i.checkpoint import load_checkpoint
from i2i.inference.load import resolve_checkpoint
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare
from tests.helpers import resume_in_subprocess
from tests.train.test_resume import _launch, _wait_for_step

BEST = ["checkpoint.best.metric=val/l1", "checkpoint.best.mode=min", "log.sample_every=2"]


def _validation(run_dir: Path) -> dict[int, dict]:
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
    return {line["step"]: line for line in lines if "val/l1" in line}


def test_validation_metrics_are_logged_and_the_best_checkpoint_kept(tiny_recipe):
    recipe = tiny_recipe("train.max_steps=8", *BEST)
    run_dir = Path(recipe.run.dir)
    fit(prepare(recipe, run_dir, default_registry()))
    validation = _validation(run_dir)
    assert sorted(validation) == [0, 2, 4, 6, 8]
    assert all({"val/l1", "val/psnr", "val/ssim"} <= set(v) for v in validation.values())
    best_step = min((s for s in validation if s > 0), key=lambda s: validation[s]["val/l1"])
    tensors, meta = load_checkpoint(run_dir / "checkpoints" / "best.safetensors")
    assert (meta["best"]["metric"], meta["best"]["step"]) == ("val/l1", best_step)
    assert meta["best"]["value"] == pytest.approx(validation[best_step]["val/l1"], rel=1e-5)
    assert meta["step"] == best_step and not any(".state." in k for k in tensors)
    assert resolve_checkpoint(run_dir).name == "best.safetensors"  # what -c RUN_DIR picks


def test_an_unknown_best_metric_is_refused(tiny_recipe):
    from i2i.errors import RecipeError

    with pytest.raises(RecipeError, match="checkpoint.best.metric: must be one of val/l1"):
        tiny_recipe("checkpoint.best.metric=val/fid")


@pytest.mark.fault
def test_the_best_survives_a_sigkill_and_resume(tmp_path):
    arguments = [*BEST, "train.max_steps=16", "checkpoint.every=4"]
    reference = _launch(tmp_path / "reference", *arguments)
    assert reference.wait(timeout=300) == 0, reference.stderr.read()
    victim = _launch(tmp_path / "victim", *arguments)
    _wait_for_step(tmp_path / "victim", 11, victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    resumed = resume_in_subprocess(tmp_path / "victim")
    assert resumed.returncode == 0, resumed.stderr
    expected = load_checkpoint(tmp_path / "reference" / "checkpoints" / "best.safetensors")[1]
    got = load_checkpoint(tmp_path / "victim" / "checkpoints" / "best.safetensors")[1]
    assert got["best"] == expected["best"]
    seen = _validation(tmp_path / "victim")
    lowest = min(v["val/l1"] for s, v in seen.items() if s > 0)
    assert got["best"]["value"] == pytest.approx(lowest, rel=1e-5)


def test_a_palette_adds_palette_accuracy_to_the_validation(tiny_recipe, tmp_path):
    from i2i.errors import RecipeError

    palette = tmp_path / "palette.json"
    palette.write_text(json.dumps({"colors": [[0, 0, 0], [255, 255, 255], [200, 30, 30]]}))
    with pytest.raises(RecipeError, match="val/pixel_acc needs log.val_palette"):
        tiny_recipe("checkpoint.best.metric=val/pixel_acc")
    recipe = tiny_recipe(
        "train.max_steps=2",
        "log.sample_every=2",
        f"log.val_palette={palette}",
        "checkpoint.best.metric=val/pixel_acc",
    )
    run_dir = Path(recipe.run.dir)
    fit(prepare(recipe, run_dir, default_registry()))
    last = _validation(run_dir)[2]
    assert 0 <= last["val/pixel_acc"] <= 1 and {"val/class_acc", "val/class_iou"} <= set(last)
    _, meta = load_checkpoint(run_dir / "checkpoints" / "best.safetensors")
    assert meta["best"]["metric"] == "val/pixel_acc"
