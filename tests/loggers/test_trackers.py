"""The loop's events as a third-party logger sees them; a failing logger; bad log.loggers."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import i2i
from i2i.errors import ComponentBuildError, RecipeError, UnknownComponentError
from i2i.plugins import default_registry, register_plugin
from i2i.train.events import Subscriber
from i2i.train.loop import fit, prepare
from i2i.train.trackers import TrackerWarning


class Recorder(Subscriber):
    """Keeps every event it gets, as (event, step or outcome)."""

    seen: list[tuple] = []

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        Recorder.seen = []

    def run_started(self, run):
        Recorder.seen.append(("run_started", run.step, run.group, run.tags.get("variant")))

    def scalars(self, step, values):
        if self.fail_at is not None and step >= self.fail_at:
            raise ConnectionError("tracker unreachable\nsecond line")
        Recorder.seen.append(("scalars", step, sorted(values)))

    def preview(self, step, grid, scores):
        Recorder.seen.append(("preview", step, grid.is_file(), sorted(scores)))

    def best_changed(self, step, path, scores):
        Recorder.seen.append(("best_changed", step, path.name))

    def checkpoint(self, step, path):
        Recorder.seen.append(("checkpoint", step, path.is_file()))

    def run_ended(self, outcome, last):
        Recorder.seen.append(("run_ended", outcome, last.name if last else None))

    def resume_record(self):
        return {"id": "run-1"}


class RecorderPlugin:
    @i2i.hookimpl
    def i2i_loggers(self):
        return {"recorder": Recorder}


def _train(recipe):
    run = prepare(recipe, Path(recipe.run.dir), default_registry())
    return run, fit(run)


def test_a_plugin_logger_sees_the_run_as_events_in_order(tiny_recipe):
    register_plugin(RecorderPlugin(), "recorder")
    recipe = tiny_recipe(
        "train.max_steps=10",
        "log.sample_every=5",
        "checkpoint.every=5",
        "checkpoint.best.metric=val/l1",
        "checkpoint.best.mode=min",
        "log.loggers=[recorder]",
        "log.group=objective",
        "log.tags={variant: l1}",
    )
    run, last = _train(recipe)
    seen = Recorder.seen
    scores = ["val/l1", "val/psnr", "val/ssim"]
    losses = ["epoch", "img_per_s", "it_per_s", "loss/d", "loss/g", "loss/g_adv", "loss/l1", "lr"]
    best = [i for i, event in enumerate(seen) if event[0] == "best_changed"]
    assert best and all(seen[i - 1][:2] == ("preview", seen[i][1]) for i in best)
    assert [event for event in seen if event[0] != "best_changed"] == [
        ("run_started", 0, "objective", "l1"),
        ("preview", 0, True, scores),
        ("scalars", 5, losses),
        ("preview", 5, True, scores),
        ("checkpoint", 5, True),
        ("scalars", 10, losses),
        ("preview", 10, True, scores),
        ("checkpoint", 10, True),
        ("scalars", 10, ["elapsed_s"]),
        ("run_ended", "finished", last.name),
    ]
    record = json.loads((run.run_dir / "loggers.json").read_text())["recorder"]
    assert record["id"] == "run-1" and record["delivered"][0] == 10


def test_a_failing_logger_warns_once_and_training_goes_on(tiny_recipe):
    class Failing(RecorderPlugin):
        @i2i.hookimpl
        def i2i_loggers(self):
            return {"recorder": lambda: Recorder(fail_at=5)}

    register_plugin(Failing(), "failing")
    recipe = tiny_recipe("train.max_steps=10", "log.loggers=[recorder]")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run, last = _train(recipe)
    tracker_warnings = [str(w.message) for w in caught if w.category is TrackerWarning]
    assert tracker_warnings == [
        "log.loggers: 'recorder' failed (ConnectionError: tracker unreachable); it logs "
        "nothing more, training goes on"
    ]
    assert last.is_file() and (run.run_dir / "checkpoints" / "README.md").is_file()
    steps = [json.loads(line)["step"] for line in (run.run_dir / "metrics.jsonl").open()]
    assert steps == [0, 5, 10, 10, 10]
    assert [event[0] for event in Recorder.seen] == ["run_started", "preview"]


@pytest.mark.parametrize(
    ("loggers", "error", "message"),
    [
        ("[nosuch]", UnknownComponentError, r"log.loggers\[0\].name: .*nosuch"),
        ("[mlflow, mlflow]", RecipeError, r"log.loggers\[1\]: 'mlflow' is named twice"),
        ("[{name: wandb, mode: sometimes}]", ComponentBuildError, "mode: 'sometimes'"),
        ("[{name: mlflow, colour: red}]", UnknownComponentError, "takes no argument .colour."),
        ("[{project: x}]", RecipeError, r"log.loggers\[0\]: give a logger's name"),
    ],
)
def test_a_bad_logger_is_refused_before_anything_is_written(tiny_recipe, loggers, error, message):
    recipe = tiny_recipe(f"log.loggers={loggers}")
    with pytest.raises(error, match=message):
        prepare(recipe, Path(recipe.run.dir), default_registry())
    assert not Path(recipe.run.dir).exists()


def test_a_logger_whose_package_is_missing_names_the_extra(tiny_recipe, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    with pytest.raises(RecipeError, match=r"pip install 'i2i\[mlflow\]'"):
        prepare(tiny_recipe("log.loggers=[mlflow]"), Path("unused"), default_registry())


def test_the_logger_check_passes_the_built_ins_and_names_a_broken_logger(tmp_path):
    from i2i.testing import ContractError, check_logger

    check_logger("tensorboard", {"dir": str(tmp_path / "tb")})
    record = check_logger("mlflow", {"tracking_uri": f"sqlite:///{tmp_path / 'm.db'}"})
    assert set(record) == {"run_id", "tracking_uri"}

    class Broken(Recorder):
        def preview(self, step, grid, scores):
            raise KeyError("samples")

    class Unsaveable(Recorder):
        def resume_record(self):
            return {"run": object()}

    class Plugin:
        @i2i.hookimpl
        def i2i_loggers(self):
            return {"broken": Broken, "unsaveable": Unsaveable}

    register_plugin(Plugin(), "broken")
    with pytest.raises(ContractError, match=r"logger 'broken': preview\(\) raised KeyError"):
        check_logger("broken")
    with pytest.raises(ContractError, match=r"resume_record\(\) is not a JSON object"):
        check_logger("unsaveable")
