"""Experiment trackers (``log.loggers``) as subscribers that can neither stop nor slow training.

Each logger a plugin builds runs on a thread of its own behind a queue: the training loop
only enqueues. A logger that raises (no network, bad credentials, a full disk) is reported
once, on one line, and gets nothing more; the run goes on.

``loggers.json`` in the run folder keeps, per logger, what its :meth:`resume_record` returned
(a tracker's run id) and the last event it delivered. A resumed run repeats the steps after
its checkpoint with the same values (resume is exact); those a logger already has are not
sent again, and each checkpoint waits until the loggers have everything before it, so the
tracker's history has every step once.
"""

from __future__ import annotations

import json
import math
import queue
import threading
import warnings
from collections.abc import Mapping
from dataclasses import replace
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

CATCH_UP_TIMEOUT_S = 30.0
"""How long a checkpoint waits for a logger to deliver what is queued (once; a logger that
lags longer is not waited for again)."""


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
        self.failed = self.lagging = False
        self.delivered: tuple[int, float] = (-1, 0)  # the last (step, event at that step) sent
        self.position: tuple[int, int] = (-1, 0)  # the last (step, event at that step) emitted
        self.thread = threading.Thread(target=self._deliver, name=f"i2i-{name}", daemon=True)
        self.thread.start()

    def run_started(self, run: RunInfo) -> None:
        """Queued with the record of the run's last process, if there is one."""
        record = self.records.of(self.name)
        delivered = record.pop("delivered", None)
        if run.resumed and isinstance(delivered, list) and len(delivered) == 2:
            self.delivered = (int(delivered[0]), int(delivered[1]))
        info = replace(run, tags=dict(run.tags), record=record)
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
        self.queue.put((event, (step, *rest), self.position))

    def catch_up(self) -> None:
        """Wait until everything queued is delivered (before a checkpoint is written)."""
        if self.failed or self.lagging:
            return
        delivered = threading.Event()
        self.queue.put(("catch_up", (delivered,), None))
        if not delivered.wait(CATCH_UP_TIMEOUT_S):
            self.lagging = True
            warnings.warn(
                f"log.loggers: '{self.name}' is {CATCH_UP_TIMEOUT_S:.0f} s behind; training "
                "no longer waits for it at checkpoints (a resumed run sends what it missed)",
                TrackerWarning,
                stacklevel=1,
            )

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
            if event == "catch_up":
                args[0].set()
            elif self.failed or position is not None and position <= self.delivered:
                continue  # failed, or a step an earlier process delivered (resume repeats it)
            else:
                try:
                    getattr(self.logger, event)(*args)
                    if event == "run_started":
                        self._send_what_was_missed(args[0])
                    self._delivered(position)
                except Exception as error:  # noqa: BLE001 - a tracker must not stop training
                    self.failed = True
                    message = str(error).strip().splitlines()
                    self._warn(f"{type(error).__name__}: {message[0] if message else ''}")

    def _send_what_was_missed(self, run: RunInfo) -> None:
        """On resume: send the steps up to the checkpoint the tracker lacks (it failed, lagged,
        or lost them in the kill), from metrics.jsonl and the sample grids."""
        if not run.resumed:
            return
        held = self.logger.last_step_held()
        if held is not None and held < self.delivered[0]:
            self.delivered = (held, math.inf)
        for event, args in missed_events(run.run_dir, self.delivered[0], run.step):
            getattr(self.logger, event)(*args)
        self.delivered = max(self.delivered, (run.step, math.inf))

    def _delivered(self, position: tuple[int, int] | None) -> None:
        self.delivered = position or self.delivered
        record = {**self.logger.resume_record(), "delivered": list(self.delivered)}
        self.records.save(self.name, record)

    def _warn(self, why: str) -> None:
        warnings.warn(
            f"log.loggers: '{self.name}' failed ({why}); it logs nothing more, training goes on",
            TrackerWarning,
            stacklevel=1,
        )


def missed_events(run_dir: Path, after: int, through: int) -> list[tuple[str, tuple]]:
    """The events of metrics.jsonl's lines for steps ``after < step <= through``: a preview
    where a line holds held-out scores and its grid exists, else scalars."""
    events: list[tuple[str, tuple]] = []
    try:
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    except OSError:
        return events
    for line in lines:
        try:
            values = json.loads(line)
            step = int(values.pop("step"))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a line a crash cut short
        if not after < step <= through:
            continue
        values = scalar_values({k: v for k, v in values.items() if k != "time"})
        grid = run_dir / "samples" / f"step_{step:08d}.png"
        is_preview = all(key.startswith("val/") for key in values) and grid.is_file()
        events.append(
            ("preview", (step, grid, values)) if is_preview else ("scalars", (step, values))
        )
    return events


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
