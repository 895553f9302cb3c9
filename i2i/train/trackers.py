"""Experiment trackers (``log.loggers``) as subscribers that can neither stop nor slow training.

Each logger a plugin builds runs on a thread of its own behind a queue: the training loop
only enqueues. A logger that raises (no network, bad credentials, a full disk) is reported
once, on one line, and gets nothing more; the run goes on.

``loggers.json`` in the run folder keeps, per logger, what its :meth:`resume_record` returned
(a tracker's run id) and the last event it delivered. A resumed run repeats the steps after
its checkpoint with the same values (resume is exact); those a logger already has are not
sent again, so the tracker's history has every step once.
"""

from __future__ import annotations

import json
import queue
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from i2i.config.schema import Recipe
from i2i.errors import RecipeError
from i2i.files import write_text_atomic
from i2i.registry import Registry
from i2i.train.events import Outcome, RunInfo, Subscriber

RECORD_NAME = "loggers.json"

FLUSH_TIMEOUT_S = 60.0
"""How long the end of a run waits for a logger to deliver what is queued."""


class TrackerWarning(UserWarning):
    """A logger failed; training went on without it."""


def build_loggers(recipe: Recipe, registry: Registry) -> list[tuple[str, Subscriber]]:
    """The loggers ``log.loggers`` names (and TensorBoard for ``log.tensorboard``), built."""
    nodes: list[Any] = list(recipe.log.loggers)
    if recipe.log.tensorboard and "tensorboard" not in [_name_of(n) for n in nodes]:
        nodes.append("tensorboard")
    built, names = [], set()
    for index, node in enumerate(nodes):
        node = {"name": node} if isinstance(node, str) else dict(node)
        if not isinstance(node.get("name"), str):
            raise RecipeError(f"log.loggers[{index}]: give a logger's name, e.g. [mlflow]")
        if node["name"] in names:
            raise RecipeError(f"log.loggers[{index}]: '{node['name']}' is named twice")
        names.add(node["name"])
        built.append((node["name"], registry.build("logger", node, f"log.loggers[{index}]")))
    return built


def _name_of(node: Any) -> Any:
    return node if isinstance(node, str) else dict(node).get("name")


class Records:
    """``loggers.json``: each logger's resume record and the last event it delivered."""

    def __init__(self, path: Path) -> None:
        self.path, self.lock = path, threading.Lock()
        try:
            self.saved = json.loads(path.read_text())
        except (OSError, ValueError):
            self.saved = {}
        if not isinstance(self.saved, dict):
            self.saved = {}

    def of(self, name: str) -> dict[str, Any]:
        """What was saved for ``name`` ({} when nothing was)."""
        saved = self.saved.get(name)
        return dict(saved) if isinstance(saved, dict) else {}

    def save(self, name: str, record: dict[str, Any]) -> None:
        """Replace ``name``'s record (atomically; loggers on other threads save too)."""
        with self.lock:
            self.saved[name] = record
            write_text_atomic(self.path, json.dumps(self.saved, indent=1) + "\n")


class Tracker(Subscriber):
    """One logger, fed from a queue by a thread of its own; see the module's docstring."""

    def __init__(self, name: str, logger: Subscriber, records: Records) -> None:
        self.name, self.logger, self.records = name, logger, records
        self.queue: queue.Queue[tuple[str, tuple, tuple[int, int] | None] | None] = queue.Queue()
        self.failed = False
        self.delivered: tuple[int, int] = (-1, 0)
        self.position: tuple[int, int] = (-1, 0)  # (step, events at that step) emitted so far
        self.thread = threading.Thread(target=self._deliver, name=f"i2i-{name}", daemon=True)
        self.thread.start()

    def run_started(self, run: RunInfo) -> None:
        """Continue from the record of the run's last process, if there is one."""
        record = self.records.of(self.name)
        delivered = record.pop("delivered", None)
        if run.resumed and isinstance(delivered, list) and len(delivered) == 2:
            self.delivered = (int(delivered[0]), int(delivered[1]))
        info = RunInfo(run.run_dir, run.recipe, run.step, run.group, dict(run.tags), record)
        self.queue.put(("run_started", (info,), None))

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Queued."""
        self._enqueue("scalars", step, scalar_values(values))

    def preview(self, step: int, grid: Path, scores: Mapping[str, float]) -> None:
        """Queued."""
        self._enqueue("preview", step, grid, scalar_values(scores))

    def best_changed(self, step: int, path: Path, scores: Mapping[str, float]) -> None:
        """Queued."""
        self._enqueue("best_changed", step, path, scalar_values(scores))

    def checkpoint(self, step: int, path: Path) -> None:
        """Queued."""
        self._enqueue("checkpoint", step, path)

    def _enqueue(self, event: str, step: int, *rest: Any) -> None:
        step_, count = self.position
        self.position = (step, count + 1 if step == step_ else 1)
        if self.position > self.delivered:  # not what an earlier process already delivered
            self.queue.put((event, (step, *rest), self.position))

    def run_ended(self, outcome: Outcome, last: Path | None) -> None:
        """Deliver the end, then wait (bounded) for everything queued to arrive."""
        self.queue.put(("run_ended", (outcome, last), None))
        self.queue.put(None)
        self.thread.join(FLUSH_TIMEOUT_S)
        if self.thread.is_alive():
            self._warn(f"it had not delivered everything after {FLUSH_TIMEOUT_S:.0f} s")

    def _deliver(self) -> None:
        while (item := self.queue.get()) is not None:
            event, args, position = item
            if self.failed:
                continue
            try:
                getattr(self.logger, event)(*args)
                if event == "run_started" or position is not None:
                    self.delivered = position or self.delivered
                    record = {**self.logger.resume_record(), "delivered": list(self.delivered)}
                    self.records.save(self.name, record)
            except Exception as error:  # noqa: BLE001 - any tracker failure must not stop training
                self.failed = True
                message = str(error).strip().splitlines()
                self._warn(f"{type(error).__name__}: {message[0] if message else ''}")

    def _warn(self, why: str) -> None:
        warnings.warn(
            f"log.loggers: '{self.name}' failed ({why}); it logs nothing more, training goes on",
            TrackerWarning,
            stacklevel=1,
        )


def trackers(loggers: list[tuple[str, Subscriber]], run_dir: Path) -> list[Tracker]:
    """Each built logger behind its queue, sharing the run's ``loggers.json``."""
    records = Records(run_dir / RECORD_NAME)
    return [Tracker(name, logger, records) for name, logger in loggers]


def scalar_values(values: Mapping[str, Any]) -> dict[str, float]:
    """The numeric values of ``values`` as floats (what trackers plot)."""
    return {
        key: float(value)
        for key, value in values.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
