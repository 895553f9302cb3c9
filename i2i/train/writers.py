"""The run folder's own subscribers: metrics.jsonl, losses.png and the model card.

They run on the training thread, first, in this order, and their failures (a full disk)
stop the run: what they write is what ``i2i resume`` and the model card rely on.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from i2i.files import write_text_atomic
from i2i.train.events import Outcome, RunInfo, Subscriber
from i2i.train.plot import plot_losses
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
    """``losses.png``, redrawn from metrics.jsonl at each preview after the first step."""

    def __init__(self, metrics: Path, output: Path) -> None:
        self.metrics, self.output = metrics, output

    def preview(self, step: int, grid: Path, scores: Mapping[str, float]) -> None:
        """Redraw, except before training: a plot of one held-out point per panel shows
        nothing, and drawing it costs a short run almost a second."""
        if step > 0:
            plot_losses(self.metrics, self.output)


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
