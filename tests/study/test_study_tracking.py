"""A study logged to MLflow: its runs in one experiment, tagged, and its results table."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from i2i.cli import main
from tests.study.test_study import write_study

pytest.importorskip("mlflow")


@pytest.mark.slow
def test_a_study_groups_its_runs_in_one_experiment_and_logs_its_results(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)  # MLflow's artefacts go to ./mlruns

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    study, out = write_study(tmp_path), tmp_path / "out"
    logger = f"log.loggers=[{{name: mlflow, tracking_uri: '{store}'}}]"
    result = CliRunner().invoke(main, ["study", str(study), "-o", str(out), logger])
    assert result.exit_code == 0, result.output
    assert "results sent to mlflow" in result.output
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("two")  # the study's name
    runs = {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}
    assert sorted(runs) == ["L1 seed 0", "L1+cGAN seed 0", "two results"]
    for variant in ("L1", "L1+cGAN"):
        run = runs[f"{variant} seed 0"]
        assert run.data.tags["variant"] == variant and run.data.tags["seed"] == "0"
        assert run.info.status == "FINISHED" and "loss/l1" in run.data.metrics
    assert runs["L1 seed 0"].data.params["loss.adversarial.weight"] == "0"
    summary = runs["two results"]
    assert summary.data.tags["i2i.study"] == "two"
    results = json.loads((out / "results.json").read_text())
    for variant in results["variants"]:
        logged = summary.data.metrics[f"{variant['name'].replace('+', '_')}/ssim"]
        assert logged == pytest.approx(variant["mean"]["ssim"])
    files = [item.path for item in client.list_artifacts(summary.info.run_id)]
    assert {"results.md", "results.json", "figure.png", "metrics.png"} <= set(files)
