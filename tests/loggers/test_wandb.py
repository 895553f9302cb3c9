"""The W&B logger in offline mode, checked from the files wandb writes (what `wandb sync`
uploads): config, history, summary, and one run continued across a SIGKILL."""

from __future__ import annotations

from pathlib import Path

import pytest

from i2i.loggers.wandb_files import offline_run
from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare
from tests.loggers.killed import (
    STEPS,
    kill_then_resume,
    losses_by_step,
    replay_past_a_lagging_record,
)

pytest.importorskip("wandb")  # in the test extra; a bare install lacks it


@pytest.fixture
def offline(monkeypatch):
    """wandb's own switch, as a user sets it: no network, files only."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    return {"WANDB_MODE": "offline"}


def _folders(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "wandb").glob("offline-run-*"), key=lambda f: f.stat().st_mtime)


def test_an_offline_wandb_run_holds_config_history_grids_and_card(tiny_recipe, offline):
    recipe = tiny_recipe(
        "train.max_steps=10",
        "log.sample_every=5",
        "log.loggers=[{name: wandb, project: maps}]",
        "log.group=objective",
        "log.tags={variant: l1}",
    )
    run = prepare(recipe, Path(recipe.run.dir), default_registry())
    fit(run)
    (folder,) = _folders(run.run_dir)
    found = offline_run(folder)
    assert found["run"].project == "maps" and found["run"].run_group == "objective"
    assert found["run"].display_name == "run" and "variant:l1" in found["run"].tags
    assert found["config"]["train.optimizer.lr"] == 0.0002
    assert found["config"]["model.generator.name"] == "unet"
    rows = {row["_step"]: row for row in found["history"]}
    assert sorted(rows) == [0, 5, 10]
    expected = losses_by_step(run.run_dir, "loss/l1")
    assert {step: rows[step]["loss/l1"] for step in expected} == pytest.approx(expected, rel=1e-5)
    assert all(rows[step]["samples/_type"] == "image-file" for step in rows)
    assert "val/psnr" in rows[0] and found["summary"]["elapsed_s"] > 0
    assert (folder / "files" / "README.md").read_text().startswith("# run: step_00000010")
    images = sorted((folder / "files" / "media" / "images").glob("samples_*.png"))
    assert len(images) == 3


def test_a_killed_run_resumed_continues_the_same_wandb_run_with_every_step_once(tmp_path, offline):
    run_dir = tmp_path / "run"
    killed_at = kill_then_resume(run_dir, "wandb", offline, "log.loggers=[wandb]")
    folders = _folders(run_dir)
    first, second = (offline_run(folder) for folder in folders)
    # the killed process may have left its file before wandb wrote even the run record
    run_id = second["run"].run_id
    assert len(folders) == 2 and all(f"-{run_id}" in folder.name for folder in folders)
    steps = [row["_step"] for part in (first, second) for row in part["history"]]
    assert steps == list(range(STEPS + 1)), f"killed at {killed_at}"
    expected = losses_by_step(run_dir, "loss/g")
    got = {
        row["_step"]: row["loss/g"] for p in (first, second) for row in p["history"] if row["_step"]
    }
    assert got == pytest.approx(expected, rel=1e-5)


def test_the_logger_check_passes_wandb_offline(tmp_path, offline):
    from i2i.testing import check_logger

    record = check_logger("wandb", {"mode": "offline", "dir": str(tmp_path)})
    assert set(record) == {"id", "project"}


def test_steps_the_files_hold_past_the_record_are_not_sent_twice(tmp_path, offline):
    """A SIGKILL after wandb wrote a step's row but before loggers.json said so: the resumed
    process must not log that step again."""
    from i2i.loggers.wandb import WandbLogger

    run_dir, first = tmp_path / "run", WandbLogger()
    finish = lambda: first.run.finish()  # noqa: E731 - its rows reach the file
    replay_past_a_lagging_record(run_dir, "wandb", first, WandbLogger(), finish)
    rows = [row for folder in _folders(run_dir) for row in offline_run(folder)["history"]]
    assert [row["_step"] for row in rows] == list(range(1, 17))
    assert [row["_step"] for row in rows if "val/l1" in row] == [12, 16]
