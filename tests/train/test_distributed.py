"""Training under torchrun: 2 CPU processes with gloo compute what one process computes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from i2i.checkpoint import list_checkpoints, load_checkpoint
from tests.conftest import TINY_OVERRIDES

pytestmark = pytest.mark.fault
QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"
# No randomness left in the data or G (no crop, no flip, no dropout): with the global batch of
# 4 split 2 + 2 and BatchNorm over the global batch, the processes must do one process's math.
DETERMINISTIC = [
    "data.load_size=null",
    "data.flip=false",
    "model.generator.dropout=0",
    "log.every=1",
    "log.sample_every=1000",
]


def _i2i(processes: int, *arguments: str) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "i2i"]
    if processes > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        launcher += [f"--nproc-per-node={processes}", "-m", "i2i"]
    done = subprocess.run([*launcher, *arguments], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _train(processes: int, run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    return _i2i(
        processes, "run", str(QUICKSTART), *TINY_OVERRIDES, f"run.dir={run_dir}", *overrides
    )


def _networks(checkpoint: Path) -> dict[str, torch.Tensor]:
    tensors, _ = load_checkpoint(checkpoint)
    return {k: v for k, v in tensors.items() if k.startswith(("generator.", "discriminator."))}


def _last(run_dir: Path) -> Path:
    return list_checkpoints(run_dir / "checkpoints")[-1]


def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's artefacts go to ./mlruns
    _train(1, tmp_path / "one", "train.max_steps=3", *DETERMINISTIC)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    logger = f"log.loggers=[{{name: mlflow, tracking_uri: '{store}'}}]"
    two = _train(2, tmp_path / "two", "train.max_steps=3", logger, *DETERMINISTIC)
    assert "on 2 processes (cpu)" in two.stderr
    one_weights, two_weights = (
        _networks(_last(tmp_path / "one")),
        _networks(_last(tmp_path / "two")),
    )
    assert one_weights.keys() == two_weights.keys()
    worst = max((one_weights[k].float() - two_weights[k].float()).abs().max() for k in one_weights)
    assert worst < 2e-5, f"largest weight difference {worst}"
    # ...and BatchNorm was really global: without it the statistics (and weights) part ways.
    _train(2, tmp_path / "local", "train.max_steps=3", "train.sync_batchnorm=false", *DETERMINISTIC)
    local = _networks(_last(tmp_path / "local"))
    apart = max((one_weights[k].float() - local[k].float()).abs().max() for k in local)
    assert apart > 1e-4, f"local BatchNorm moved the weights by only {apart}"
    # Only rank 0 wrote the run: one metrics line per step, one set of samples.
    lines = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert sum('"loss/g"' in line for line in lines) == 3
    # ...and only rank 0 logged to the tracker: one MLflow run, each step once
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=store)
    (run,) = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss/g")] == [1, 2, 3]


def test_a_distributed_run_resumes_exactly_under_torchrun(tmp_path):
    # Dropout, crops and flips on: each process's random streams must come back.
    whole = tmp_path / "whole"
    _train(
        2,
        whole,
        "train.max_steps=4",
        "checkpoint.every=2",
        "checkpoint.keep=3",
        "checkpoint.optimizer=all",
    )
    part = tmp_path / "part"
    shutil.copytree(whole, part)
    final = _last(part)
    final.unlink()
    final.with_suffix(".json").unlink()
    _i2i(2, "resume", str(part))
    assert _last(part).name == final.name
    got, expected = _networks(_last(part)), _networks(_last(whole))
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    _, meta = load_checkpoint(_last(part))
    assert meta["processes"] == 2
