"""A single ``i2i run`` as a launcher's task: train until the run's budget is reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from i2i.launch.process import Stage
from i2i.train.rundir import is_trained


@dataclass
class SingleRun:
    """``i2i run --resume RECIPE ... run.dir=FOLDER``, again after every requeue."""

    recipe: Path
    overrides: list[str]
    folder: Path
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"run {self.folder}"

    def next_stage(self) -> Stage | None:
        """Training, until the run has ended."""
        if is_trained(self.folder):
            return None
        arguments = ["run", "--resume", str(self.recipe), *self.overrides]
        arguments += [f"run.dir={self.folder}", "log.progress=false"]
        return Stage("train", arguments, distributed=True)

    def finished(self, stage: Stage) -> None:
        """Nothing follows training."""
