"""The run folder's own subscribers: metrics.jsonl, losses.png and the model card.

They are called first, in this order, and their failures (a full disk) stop the run: what
they write is what ``i2i resume`` and the model card rely on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from pathlib import Path

from i2i.files import write_text_atomic
from i2i.train.events import Outcome, RunInfo, Subscriber
from i2i.train.records import MetricsLog


class MetricsWriter(Subscriber):
    """One ``metrics.jsonl`` line per logged step and per preview."""

    def __init__(self, path: Path) -> None:
        self.log = MetricsLog(path)

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """A line of the values."""
        self.log.write(step, **values)

    def preview(self, step: int, grid: Path, scores: Mapping[str, float]) -> None:
        """A line of the held-out scores."""
        self.log.write(step, **scores)

    def close(self) -> None:
        """Close the file."""
        self.log.close()


class LossPlot(Subscriber):
    """``losses.png``, redrawn from metrics.jsonl at each preview after the first step.

    Drawing takes about a second (importing matplotlib, the first time), so it runs on a
    thread of its own: the end of a run writes its checkpoint meanwhile. The next checkpoint
    waits for the drawing, and raises what it raised (a full disk), as a writer's failure
    stops the run.
    """

    def __init__(self, metrics: Path, output: Path) -> None:
        self.metrics, self.output = metrics, output
        self.drawing: threading.Thread | None = None
        self.failure: BaseException | None = None

    def preview(self, step: int, grid: Path, scores: Mapping[str, float]) -> None:
        """Start redrawing, except before training: a plot of one held-out point per panel
        shows nothing."""
        if step > 0:
            self.wait()  # previews are far apart: the last drawing is long done
            self.drawing = threading.Thread(target=self._draw, name="i2i-plot", daemon=True)
            self.drawing.start()

    def _draw(self) -> None:
        try:
            from i2i.train.plot import plot_losses  # matplotlib: imported here, off the way

            plot_losses(self.metrics, self.output)
        except BaseException as error:  # noqa: BLE001 - raised on the training thread
            self.failure = error

    def wait(self) -> None:
        """Wait for the drawing under way; raise what it raised."""
        if self.drawing is not None:
            self.drawing.join()
            self.drawing = None
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure

    def checkpoint(self, step: int, path: Path) -> None:
        """A checkpoint's run folder holds the plot of its steps."""
        self.wait()

    def close(self) -> None:
        """Let a drawing under way finish (a run that failed reported its own error)."""
        with contextlib.suppress(Exception):
            self.wait()


class ModelCardWriter(Subscriber):
    """``checkpoints/README.md``: the model card of a finished run's final checkpoint."""

    def __init__(self, metrics: Path) -> None:
        self.metrics, self.run_dir = metrics, Path()

    def run_started(self, run: RunInfo) -> None:
        """Note the run folder."""
        self.run_dir = run.run_dir

    def run_ended(self, outcome: Outcome, last: Path | None) -> None:
        """Write the card when the run finished with a checkpoint."""
        if outcome == "finished" and last is not None:
            write_card(self.run_dir, last, self.metrics)


def write_card(run_dir: Path, checkpoint: Path, metrics: Path | None) -> Path:
    """``checkpoints/README.md``: the model card of ``checkpoint``, the run's final one."""
    from i2i.card import last_validation, model_card
    from i2i.checkpoint import load_checkpoint

    _, meta = load_checkpoint(checkpoint, prefix="\0")
    step = int(meta.get("step", 0))
    card = model_card(
        checkpoint,
        meta,
        title=f"{run_dir.name}: {checkpoint.name}",
        metrics=last_validation(metrics),
        sample=run_dir / "samples" / f"step_{step:08d}.png",
        relative_to=checkpoint.parent,
    )
    path = run_dir / "checkpoints" / "README.md"
    write_text_atomic(path, card)
    return path
