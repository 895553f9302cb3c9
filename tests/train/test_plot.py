"""losses.png: every loss and held-out series becomes a panel."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from i2i.train.plot import DPI, PANEL_INCHES, plot_losses, read_series


def test_series_and_panels(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    lines = [{"step": 0, "val/l1": 0.5}]
    lines += [{"step": s, "loss/d": 1.0 / s, "loss/l1": 0.1, "lr": 2e-4} for s in (10, 20, 30)]
    lines += [{"step": 30, "val/l1": float("nan")}, {"step": 30, "elapsed_s": 3.0}]
    metrics.write_text("\n".join(json.dumps(line) for line in lines))
    series = read_series(metrics)
    assert set(series) == {"loss/d", "loss/l1", "val/l1"}  # lr and elapsed are not losses
    assert series["val/l1"] == [(0, 0.5)]  # the NaN is left out, not drawn
    output = plot_losses(metrics, tmp_path / "losses.png")
    with Image.open(output) as image:
        assert image.size == (3 * PANEL_INCHES[0] * DPI, PANEL_INCHES[1] * DPI)
        pixels = np.asarray(image.convert("RGB"))
    assert (pixels != 255).any(axis=2).mean() > 0.01  # something was drawn


def test_a_single_point_is_drawn_on_a_readable_step_axis(tmp_path):
    from matplotlib.figure import Figure

    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(json.dumps({"step": 0, "val/l1": 0.5}))
    drawn = []
    real = Figure.savefig

    def keep(figure, *args, **kwargs):
        drawn.append([label.get_text() for label in figure.axes[0].get_xticklabels()])
        return real(figure, *args, **kwargs)

    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Figure, "savefig", keep)
        plot_losses(metrics, tmp_path / "losses.png")
    assert (
        drawn and len(set(drawn[0]) - {""}) >= 2
    )  # an axis with several steps, not "step0 … step0"


def test_nothing_to_draw(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(json.dumps({"step": 0, "elapsed_s": 1.0}))
    assert plot_losses(metrics, tmp_path / "losses.png") is None


def test_sample_grids_label_their_columns(tmp_path):
    import torch

    from i2i.train.records import LABEL_HEIGHT, save_grid

    rows = [tuple(torch.zeros(3, 8, 8) for _ in range(3)) for _ in range(2)]
    save_grid(tmp_path / "grid.png", rows)
    pixels = np.asarray(Image.open(tmp_path / "grid.png"))
    assert pixels.shape == (2 * 8 + LABEL_HEIGHT, 3 * 8, 3)
    assert (pixels[:LABEL_HEIGHT] < 128).any()  # the labels' ink


@pytest.mark.fault
def test_a_label_longer_than_its_column_stays_inside_it(tmp_path):
    import torch

    from i2i.train.records import LABEL_HEIGHT, save_grid

    rows = [tuple(torch.zeros(3, 32, 32) for _ in range(3))]
    save_grid(tmp_path / "grid.png", rows, ("input", "reconstruction G_B(G_A(A))", "target"))
    header = np.asarray(Image.open(tmp_path / "grid.png"))[:LABEL_HEIGHT]
    ink = (header < 128).any(axis=(0, 2))
    # the third column's label starts at its own edge: the second's ends before it
    assert ink[32:64].any() and not ink[64 - 3 : 64 + 3].any()


def test_the_progress_bar_shows_losses_before_the_first_log_line(tiny_recipe, monkeypatch):
    from pathlib import Path

    from tqdm import tqdm

    from i2i.plugins import default_registry
    from i2i.train.loop import fit, prepare

    shown = []
    real = tqdm.set_postfix
    monkeypatch.setattr(
        tqdm, "set_postfix", lambda bar, *a, **k: (shown.append(bar.n), real(bar, *a, **k))
    )
    recipe = tiny_recipe("train.max_steps=25", "log.every=50", "log.progress=true")
    fit(prepare(recipe, Path(recipe.run.dir), default_registry()))
    assert [n for n in shown if n < 24]  # before the only metrics line (at step 25)
