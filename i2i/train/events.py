"""What the training loop announces, and who listens.

The loop does the paper's iteration; everything it leaves behind (metrics.jsonl, the losses
plot, the model card, TensorBoard, experiment trackers) is a :class:`Subscriber` that reacts
to its events, in this order for a run::

    run_started
    (scalars | preview | best_changed | checkpoint)*   each with its step
    run_ended("finished" | "interrupted" | "failed")

and, apart from any run, ``study_results`` when a study is collected.

A subscriber overrides the events it needs; the others do nothing. Loggers from plugins are
subscribers too (see :func:`i2i.hookspecs.i2i_loggers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["finished", "interrupted", "failed"]


@dataclass
class RunInfo:
    """What a subscriber learns when a run starts (or continues)."""

    run_dir: Path
    recipe: dict[str, Any]
    """The resolved recipe, as ``config.yaml`` holds it."""
    step: int = 0
    """The step training starts from: 0, or the checkpoint's step when resumed."""
    group: str | None = None
    """``log.group``: the study's name for its runs, else None."""
    tags: dict[str, str] = field(default_factory=dict)
    """``log.tags`` (a study adds ``variant`` and ``seed``) and the run's provenance."""
    record: dict[str, Any] = field(default_factory=dict)
    """What this subscriber's :meth:`Subscriber.resume_record` returned in the run's last
    process (a tracker's run id), so a resumed run continues the same tracker run."""
    title: str | None = None
    """``log.name``; None: the folder's name."""

    @property
    def name(self) -> str:
        """The run's name in trackers: ``log.name``, else its folder's."""
        return self.title or self.run_dir.name

    @property
    def resumed(self) -> bool:
        """True when this process continues an earlier one."""
        return self.step > 0

    def params(self) -> dict[str, Any]:
        """The recipe flattened to dotted keys (``train.optimizer.lr``), for trackers; its
        provenance is in :attr:`tags`."""
        return flatten({k: v for k, v in self.recipe.items() if k != "provenance"})


class Subscriber:
    """Reacts to the training loop's events; each method is optional."""

    def run_started(self, run: RunInfo) -> None:
        """The run starts, or continues from ``run.step``."""

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Window means of the losses, ``lr``, ``epoch``, throughput (every ``log.every``)."""

    def preview(self, step: int, grid: Path, scores: Mapping[str, float]) -> None:
        """A sample grid was saved at ``grid``; ``scores`` are its held-out metrics (val/*)."""

    def best_changed(self, step: int, path: Path, scores: Mapping[str, float]) -> None:
        """``path`` (checkpoints/best.safetensors) now holds the weights of ``step``."""

    def checkpoint(self, step: int, path: Path) -> None:
        """A checkpoint was written."""

    def run_ended(self, outcome: Outcome, last: Path | None) -> None:
        """The run ended; ``last`` is its last checkpoint (None if none was written)."""

    def study_results(self, study: str, folder: Path, results: Mapping[str, Any]) -> None:
        """A study was collected (not part of a run): ``folder`` holds its results.md,
        results.json (``results``), figure.png and metrics.png."""

    def resume_record(self) -> dict[str, Any]:
        """What a later process needs to continue this subscriber's run (JSON values)."""
        return {}

    def last_step_held(self) -> int | None:
        """After a resumed :meth:`run_started`: the last step the tracker kept, when it can
        tell (a killed process loses what a tracker buffered); None: all that was sent."""
        return None


class Events:
    """Subscribers, called in order; an exception propagates (core writers must not fail
    silently; trackers are wrapped so that theirs never reach here)."""

    def __init__(self, subscribers: Iterable[Subscriber] = ()) -> None:
        self.subscribers = list(subscribers)

    def emit(self, event: str, *args: Any) -> None:
        """Call ``event`` on every subscriber."""
        for subscriber in self.subscribers:
            getattr(subscriber, event)(*args)

    def catch_up(self) -> None:
        """Let subscribers that work behind a queue deliver it (before a checkpoint)."""
        for subscriber in self.subscribers:
            catch_up = getattr(subscriber, "catch_up", None)
            if catch_up is not None:
                catch_up()

    def close(self) -> None:
        """Let subscribers that hold resources release them."""
        for subscriber in self.subscribers:
            close = getattr(subscriber, "close", None)
            if close is not None:
                close()


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to one level of dotted keys; lists stay values."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
