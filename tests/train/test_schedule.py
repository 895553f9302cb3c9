"""The learning-rate schedule of the official implementation."""

from __future__ import annotations

import pytest

from i2i.train.schedule import lr_multiplier


def test_constant_then_linear_to_near_zero():
    assert [lr_multiplier(e, 100, 100) for e in (1, 50, 100)] == [1.0, 1.0, 1.0]
    assert lr_multiplier(101, 100, 100) == pytest.approx(1 - 1 / 101)
    assert lr_multiplier(150, 100, 100) == pytest.approx(1 - 50 / 101)
    assert lr_multiplier(200, 100, 100) == pytest.approx(1 / 101)
    steps = [lr_multiplier(e, 100, 100) for e in range(100, 201)]
    assert all(later < earlier for earlier, later in zip(steps, steps[1:]))


@pytest.mark.parametrize(("epochs", "decay"), [(100, 100), (1, 0), (3, 4)])
def test_the_official_schedule_is_what_the_authors_scheduler_runs(epochs, decay):
    import torch

    # the authors' mechanism: LambdaLR over their rule, stepped at the start of every epoch
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    rule = lambda e: 1.0 - max(0, e + 1 - epochs) / float(decay + 1)  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=rule)
    for epoch in range(1, epochs + decay + 1):
        scheduler.step()
        authors = optimizer.param_groups[0]["lr"]
        assert lr_multiplier(epoch, epochs, decay, "official") == pytest.approx(authors, abs=1e-12)
    if decay:
        assert lr_multiplier(epochs + decay, epochs, decay, "official") == pytest.approx(0.0)
        assert lr_multiplier(epochs, epochs, decay, "official") < 1.0  # one full-rate epoch fewer
    assert lr_multiplier(epochs + decay, epochs, decay) == pytest.approx(1 / (decay + 1))


def test_a_recipe_picks_the_official_schedule(tiny_recipe):
    import json
    from pathlib import Path

    from i2i.plugins import default_registry
    from i2i.train.loop import fit, prepare

    recipe = tiny_recipe(
        "train.max_steps=5", "train.epochs=1", "train.epochs_decay=1", "train.schedule=official"
    )
    run = prepare(recipe, Path(recipe.run.dir), default_registry())
    fit(run)
    lines = [json.loads(line) for line in (run.run_dir / "metrics.jsonl").open()]
    assert [line["lr"] for line in lines if "lr" in line] == [pytest.approx(0.0002 * 0.5)]
