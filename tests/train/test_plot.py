"""losses.png: every loss and held-out series becomes a panel."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from i2i.train.plot import PANEL_H, PANEL_W, plot_losses, read_series


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
        assert image.size == (3 * PANEL_W, PANEL_H)
        pixels = np.asarray(image)
    assert (pixels != 255).any(axis=2).mean() > 0.01  # something was drawn


def test_nothing_to_draw(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(json.dumps({"step": 0, "elapsed_s": 1.0}))
    assert plot_losses(metrics, tmp_path / "losses.png") is None
