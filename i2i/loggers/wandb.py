"""Weights & Biases: the run, online or offline, with the recipe as its config.

wandb's own settings apply where the recipe is silent (``WANDB_MODE``, ``WANDB_PROJECT``,
``WANDB_ENTITY``, ``WANDB_DIR``, ...). Offline runs are written into the run folder's
``wandb/`` (unless ``dir`` or ``WANDB_DIR`` says otherwise); ``wandb sync`` uploads them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from i2i.loggers.common import card_of, require, weights_to_upload
from i2i.train.events import Outcome, RunInfo, Subscriber


class WandbLogger(Subscriber):
    """The run as a W&B run: recipe as config, losses and val/* by step, sample grids.

    Args:
        project: W&B project; default: WANDB_PROJECT, else wandb's.
        entity: W&B team or user; default: WANDB_ENTITY, else yours.
        mode: online, offline or disabled; default: WANDB_MODE, else online.
        dir: Where wandb writes its files; default: WANDB_DIR, else the run folder.
        tags: Extra run tags.
        images: Log each sample grid as an image.
        artifacts: Also store the best (else the last) checkpoint as a model artefact.
    """

    def __init__(
        self,
        project: str | None = None,
        entity: str | None = None,
        mode: str | None = None,
        dir: str | None = None,  # noqa: A002
        tags: list[str] | None = None,
        images: bool = True,
        artifacts: bool = False,
    ) -> None:
        require("wandb", "wandb")
        if mode not in (None, "online", "offline", "disabled"):
            raise ValueError(f"mode: '{mode}' is not one of online, offline, disabled")
        self.project, self.entity, self.mode, self.dir = project, entity, mode, dir
        self.tags, self.images, self.artifacts = list(tags or []), images, artifacts
        self.run: Any = None
        self.run_dir = Path()
        self.held: int | None = None  # a continued offline run: the last step its files hold

    def run_started(self, run: RunInfo) -> None:
        """Start the W&B run, or continue the one the record names."""
        self.run_dir = run.run_dir
        resumed = run.record.get("id")
        self.run = self._init(
            run.run_dir,
            self.project or run.record.get("project"),
            id=resumed,
            resume="allow" if resumed else None,
            name=run.name,
            group=run.group,
            tags=[*(f"{key}:{value}"[:64] for key, value in run.tags.items()), *self.tags],
            config=run.params(),
        )
        if resumed:
            self.held = self._steps_in_files()

    def _init(self, folder: Path, project: str | None, **run: Any) -> Any:
        """``wandb.init`` with this logger's settings (files in ``dir``, else WANDB_DIR, else
        ``folder``); ``run`` names and describes the W&B run."""
        import wandb

        return wandb.init(
            project=project,
            entity=self.entity,
            mode=self.mode,
            dir=self.dir or os.environ.get("WANDB_DIR") or str(folder),
            settings=wandb.Settings(console="off", silent=True),
            **run,
        )

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """The values at ``step`` (unless the earlier files hold that step)."""
        # wandb writes a step's row once a later step begins, so a row in the files holds
        # all of that step: a process killed after that, before loggers.json said so, is
        # followed by one that sends the step again
        if not self._is_held(step):
            self.run.log(dict(values), step=step)

    def preview(self, step: int, grid: Path, scores: Mapping[str, float]) -> None:
        """The held-out scores, and the grid as ``samples`` (unless the files hold the step)."""
        import wandb

        if self._is_held(step):
            return

        logged: dict[str, Any] = dict(scores)
        if self.images:
            logged["samples"] = wandb.Image(str(grid), caption="input | output | target")
        self.run.log(logged, step=step)

    def best_changed(self, step: int, path: Path, scores: Mapping[str, float]) -> None:
        """Note the best step in the summary."""
        self.run.summary["best_step"] = step

    def run_ended(self, outcome: Outcome, last: Path | None) -> None:
        """Store the model card (and, on request, the weights); finish the W&B run."""
        import wandb

        card = card_of(self.run_dir)
        if outcome == "finished" and card is not None:
            shutil.copyfile(card, Path(self.run.dir) / card.name)  # uploaded with the run
        weights = weights_to_upload(self.run_dir, last)
        if outcome == "finished" and self.artifacts and weights is not None:
            artifact = wandb.Artifact(f"{self.run_dir.name}-model", type="model")
            artifact.add_file(str(weights))
            self.run.log_artifact(artifact)
        self.run.finish(exit_code=0 if outcome == "finished" else 1)

    def study_results(self, study: str, folder: Path, results: Mapping[str, Any]) -> None:
        """A run ``<study>-results`` in the study's group: the table (a W&B Table of each
        variant's mean metrics), the figures, and results.md."""
        import wandb

        columns = list(results.get("columns", []))
        rows = [
            [variant["name"], *((variant.get("mean") or {}).get(key) for key in columns)]
            for variant in results.get("variants", [])
        ]
        run = self._init(
            folder,
            self.project,
            name=f"{study}-results",
            group=study,
            job_type="study-results",
            tags=self.tags,
            config={"study": study, "seeds": results.get("seeds")},
        )
        logged: dict[str, Any] = {"results": wandb.Table(columns=["variant", *columns], data=rows)}
        for name in ("figure", "metrics"):
            if (folder / f"{name}.png").is_file():
                logged[name] = wandb.Image(str(folder / f"{name}.png"))
        run.log(logged)
        if (folder / "results.md").is_file():
            shutil.copyfile(folder / "results.md", Path(run.dir) / "results.md")
        run.finish()

    def _is_held(self, step: int) -> bool:
        return self.held is not None and step <= self.held

    def last_step_held(self) -> int | None:
        """Offline: the last step the earlier processes' files hold (wandb flushes them every
        15 s, so a kill loses the rest); online, or files it cannot read: None (what was
        sent is trusted). Read once, when the run continues."""
        return self.held

    def _steps_in_files(self) -> int | None:
        from i2i.loggers.wandb_files import last_step

        try:
            offline = self.run.settings.mode == "offline"
            return last_step(Path(self.run.settings.wandb_dir), self.run.id) if offline else None
        except (OSError, ValueError, AttributeError):  # another wandb's files
            return None

    def resume_record(self) -> dict[str, Any]:
        """The W&B run id and project, for a resumed run to continue it."""
        return {"id": self.run.id, "project": self.run.project}
