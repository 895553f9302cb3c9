"""The MLflow logger against a real local tracking store (SQLite), read back by MlflowClient."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from i2i.plugins import default_registry
from i2i.train.loop import fit, prepare
from i2i.train.trackers import TrackerWarning
from tests.conftest import TINY_OVERRIDES
from tests.loggers.killed import (
    QUICKSTART,
    STEPS,
    kill_then_resume,
    losses_by_step,
    replay_past_a_lagging_record,
)

pytest.importorskip("mlflow")  # in the test extra; a bare install lacks it


def _client(store: Path):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{store}")


def _runs(store: Path, experiment: str) -> list:
    client = _client(store)
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


def _artifacts(client, run_id: str, path: str | None = None) -> list[str]:
    files = []
    for item in client.list_artifacts(run_id, path):
        files += _artifacts(client, run_id, item.path) if item.is_dir else [item.path]
    return files


def test_an_mlflow_run_holds_the_recipe_losses_grids_tags_and_card(tiny_recipe, tmp_path):
    store = tmp_path / "mlflow.db"
    recipe = tiny_recipe(
        "train.max_steps=10",
        "log.sample_every=5",
        f"log.loggers=[{{name: mlflow, tracking_uri: 'sqlite:///{store}', artifacts: true}}]",
        "log.group=objective",
        "log.tags={variant: l1, seed: '1'}",
    )
    run = prepare(recipe, Path(recipe.run.dir), default_registry())
    last = fit(run)
    (found,) = _runs(store, "objective")
    client = _client(store)
    assert found.info.run_name == "run" and found.info.status == "FINISHED"
    params = found.data.params
    assert params["train.optimizer.lr"] == "0.0002" and params["model.generator.depth"] == "5"
    assert params["data.dataset.name"] == "synthetic_shapes"
    assert not any(key.startswith("provenance") for key in params)
    tags = found.data.tags
    assert tags["variant"] == "l1" and tags["seed"] == "1"
    assert tags["i2i.model.generator"].startswith("unet (i2i-pix2pix")
    history = client.get_metric_history(found.info.run_id, "loss/l1")
    expected = losses_by_step(run.run_dir, "loss/l1")
    assert [(m.step, round(m.value, 6)) for m in history] == [
        (step, pytest.approx(value, rel=1e-5)) for step, value in expected.items()
    ]
    val = client.get_metric_history(found.info.run_id, "val/l1")
    assert [m.step for m in val] == [0, 5, 10]
    files = _artifacts(client, found.info.run_id)
    assert "README.md" in files and f"checkpoints/{last.name}" in files
    grids = [f for f in files if f.startswith("images/samples+step+") and f.endswith(".png")]
    assert sorted(int(f.split("+")[2]) for f in grids) == [0, 5, 10]


def test_a_killed_run_resumed_continues_the_same_mlflow_run_with_every_step_once(tmp_path):
    store, run_dir = tmp_path / "mlflow.db", tmp_path / "run"
    logger = f"log.loggers=[{{name: mlflow, tracking_uri: 'sqlite:///{store}'}}]"
    killed_at = kill_then_resume(run_dir, "mlflow", {}, logger)
    assert killed_at >= 10
    (found,) = _runs(store, "Default")
    assert found.info.status == "FINISHED"
    history = _client(store).get_metric_history(found.info.run_id, "loss/g")
    assert [m.step for m in history] == list(range(1, STEPS + 1)), f"killed at {killed_at}"
    expected = losses_by_step(run_dir, "loss/g")
    assert [m.value for m in history] == [pytest.approx(expected[s], rel=1e-5) for s in expected]


def test_ctrl_c_ends_the_mlflow_run_as_killed_and_resume_finishes_the_same_run(tmp_path):
    store, run_dir = tmp_path / "mlflow.db", tmp_path / "run"
    logger = f"log.loggers=[{{name: mlflow, tracking_uri: 'sqlite:///{store}'}}]"
    statuses = []

    def status() -> None:
        statuses.extend(run.info.status for run in _runs(store, "Default"))

    kill_then_resume(run_dir, "mlflow", {}, logger, signal_=signal.SIGINT, between=status)
    (found,) = _runs(store, "Default")
    assert statuses == ["KILLED"] and found.info.status == "FINISHED"
    history = _client(store).get_metric_history(found.info.run_id, "loss/g")
    assert [m.step for m in history] == list(range(1, STEPS + 1))


def test_an_unreachable_tracking_server_costs_one_warning_and_no_training(tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "i2i", "run", str(QUICKSTART), *TINY_OVERRIDES]
    command += ["train.max_steps=6", f"run.dir={run_dir}"]
    command += ["log.loggers=[{name: mlflow, tracking_uri: 'http://127.0.0.1:9'}]"]
    # MLflow's own settings: fail fast instead of retrying for minutes, as a user may set them
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warned = [line for line in result.stderr.splitlines() if "log.loggers: 'mlflow'" in line]
    assert len(warned) == 1 and warned[0].startswith("i2i: warning: log.loggers: 'mlflow' failed")
    assert warned[0].endswith("it logs nothing more, training goes on")
    assert (run_dir / "checkpoints" / "step_00000006.safetensors").is_file()
    assert sorted(losses_by_step(run_dir, "loss/g")) == [5, 6]


def test_a_store_that_cannot_be_written_leaves_the_run_intact(tiny_recipe, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    recipe = tiny_recipe(
        "train.max_steps=5", f"log.loggers=[{{name: mlflow, tracking_uri: '{blocker}/store'}}]"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        last = fit(prepare(recipe, Path(recipe.run.dir), default_registry()))
    assert [w for w in caught if w.category is TrackerWarning]
    assert last.is_file() and blocker.read_text().startswith("a file")


def test_steps_the_store_has_past_the_record_are_not_sent_twice(tmp_path):
    """A SIGKILL between MLflow storing a step and loggers.json saying so: the record is one
    step behind the store, and the resumed process must not log that step again."""
    from i2i.loggers.mlflow import MlflowLogger

    store, run_dir = tmp_path / "mlflow.db", tmp_path / "run"
    first = MlflowLogger(tracking_uri=f"sqlite:///{store}")
    replay_past_a_lagging_record(run_dir, "mlflow", first, MlflowLogger())
    client = _client(store)
    history = client.get_metric_history(first.run_id, "loss/g")
    assert [m.step for m in history] == list(range(1, 17))
    assert [m.step for m in client.get_metric_history(first.run_id, "val/l1")] == [12, 16]
    images = [f for f in _artifacts(client, first.run_id) if f.endswith(".png")]
    assert sorted(int(f.split("+")[2]) for f in images) == [12, 16]
