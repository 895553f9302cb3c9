"""MLflow: parameters, metric histories, sample grids and the model card in a tracking store.

The store is ``tracking_uri``, else ``MLFLOW_TRACKING_URI``, else MLflow's default; the
experiment is ``experiment``, else ``log.group`` (a study's name), else
``MLFLOW_EXPERIMENT_NAME``, else MLflow's ``Default``. Open it with ``mlflow ui
--backend-store-uri URI``.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from i2i.loggers.common import card_of, require, weights_to_upload
from i2i.train.events import Outcome, RunInfo, Subscriber


def metric_name(key: str) -> str:
    """``key`` with what MLflow refuses in a name (``+``, for one) as ``_``: L1+cGAN → L1_cGAN."""
    return re.sub(r"[^\w\-. :/]", "_", key)


STATUS = {"finished": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}
BATCH = 100  # MLflow's limit on parameters or tags per log_batch call
LONGEST_VALUE = 6000  # MLflow's limit on a parameter's length


class MlflowLogger(Subscriber):
    """The run as an MLflow run: recipe as parameters, losses and val/* by step, grids.

    Args:
        tracking_uri: The tracking store (a folder, sqlite:///file.db, http://host:port).
        experiment: Experiment name; default: log.group, else MLFLOW_EXPERIMENT_NAME.
        tags: Extra run tags.
        images: Log each sample grid as a step image.
        artifacts: Also store the best (else the last) checkpoint as an artefact.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        tags: dict[str, str] | None = None,
        images: bool = True,
        artifacts: bool = False,
    ) -> None:
        require("mlflow", "mlflow")
        self.tracking_uri, self.experiment = tracking_uri, experiment
        self.tags, self.images, self.artifacts = dict(tags or {}), images, artifacts
        self.client: Any = None
        self.run_id: str | None = None
        self.run_dir = Path()
        self.held: dict[str, int] = {}  # a continued run's metrics: the last step of each

    def run_started(self, run: RunInfo) -> None:
        """Create the MLflow run, or continue the one the record names."""
        from mlflow import MlflowClient

        uri = run.record.get("tracking_uri") or self.tracking_uri
        # MLflow's SQL store trips a SQLAlchemy deprecation the user can do nothing about
        warnings.filterwarnings("ignore", message=".*``noload`` loader strategy")
        self.client, self.run_dir = MlflowClient(tracking_uri=uri), run.run_dir
        self.run_id = run.record.get("run_id")
        if self.run_id:
            self.client.update_run(self.run_id, status="RUNNING")
            self.held = self._held_steps()
            return
        experiment = self._experiment_id(run.group)
        tags = {**run.tags, **self.tags}
        self.run_id = self.client.create_run(experiment, run_name=run.name, tags=tags).info.run_id
        self._log_params(run.params())

    def _experiment_id(self, group: str | None) -> str:
        name = self.experiment or group or os.environ.get("MLFLOW_EXPERIMENT_NAME") or "Default"
        found = self.client.get_experiment_by_name(name)
        return found.experiment_id if found else self.client.create_experiment(name)

    def _log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(key, str(value)[:LONGEST_VALUE]) for key, value in params.items()]
        for start in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, params=items[start : start + BATCH])

    def _held_steps(self) -> dict[str, int]:
        """Each metric of the continued run and the last step the store has of it."""
        names = self.client.get_run(self.run_id).data.metrics
        history = self.client.get_metric_history
        return {key: max(m.step for m in history(self.run_id, key)) for key in names}

    def _is_held(self, key: str, step: int) -> bool:
        # a process killed after MLflow stored a step, before loggers.json said so, is
        # followed by one that sends the step again: MLflow would keep both
        return step <= self.held.get(key, -1)

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """One batch of metrics at ``step`` (less those the store already has)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [
            Metric(metric_name(k), float(v), now, step)
            for k, v in values.items()
            if not self._is_held(metric_name(k), step)
        ]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

    def preview(self, step: int, grid: Path, scores: Mapping[str, float]) -> None:
        """The grid as the step's ``samples`` image, and the held-out scores (the image first:
        scores in the store mean its image is there)."""
        already = bool(scores) and all(self._is_held(metric_name(k), step) for k in scores)
        if self.images and not already:
            with Image.open(grid) as image:
                self.client.log_image(self.run_id, image.convert("RGB"), key="samples", step=step)
        self.scalars(step, scores)

    def best_changed(self, step: int, path: Path, scores: Mapping[str, float]) -> None:
        """Tag the step the best checkpoint holds."""
        self.client.set_tag(self.run_id, "best_step", str(step))

    def run_ended(self, outcome: Outcome, last: Path | None) -> None:
        """Store the model card (and, on request, the weights); close the MLflow run."""
        card = card_of(self.run_dir)
        if outcome == "finished" and card is not None:
            self.client.log_artifact(self.run_id, str(card))
        weights = weights_to_upload(self.run_dir, last)
        if outcome == "finished" and self.artifacts and weights is not None:
            self.client.log_artifact(self.run_id, str(weights), artifact_path="checkpoints")
        self.client.set_terminated(self.run_id, status=STATUS[outcome])

    def study_results(self, study: str, folder: Path, results: Mapping[str, Any]) -> None:
        """A run ``<study> results`` in the study's experiment: each variant's mean metrics
        (``<variant>/<metric>``) and the results files as artefacts."""
        from mlflow import MlflowClient

        self.client = MlflowClient(tracking_uri=self.tracking_uri)
        experiment = self._experiment_id(study)
        tags = {**self.tags, "i2i.study": study}
        self.run_id = self.client.create_run(
            experiment, run_name=f"{study} results", tags=tags
        ).info.run_id
        means = {
            f"{variant['name']}/{key}": value
            for variant in results.get("variants", [])
            for key, value in (variant.get("mean") or {}).items()
        }
        self.scalars(0, means)
        for name in ("results.md", "results.json", "figure.png", "metrics.png"):
            if (folder / name).is_file():
                self.client.log_artifact(self.run_id, str(folder / name))
        self.client.set_terminated(self.run_id, status="FINISHED")

    def last_step_held(self) -> int | None:
        """The last step of any metric the continued run holds (None for a new run)."""
        return max(self.held.values(), default=None)

    def resume_record(self) -> dict[str, Any]:
        """The MLflow run and its store, for a resumed run to continue it."""
        return {"run_id": self.run_id, "tracking_uri": self.client.tracking_uri}
