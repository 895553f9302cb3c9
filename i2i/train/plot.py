"""``losses.png``: the loss curves of a run, one small panel per series, drawn with PIL."""

from __future__ import annotations

import json
import math
from pathlib import Path

from PIL import Image, ImageDraw

from i2i.files import write_atomic

PANEL_W, PANEL_H, MARGIN = 360, 200, 36
INK, GRID, LINE = (30, 30, 30), (225, 225, 225), (31, 119, 180)


def read_series(metrics: Path) -> dict[str, list[tuple[int, float]]]:
    """``{name: [(step, value), ...]}`` for every ``loss/*`` and ``val/*`` key of a metrics file."""
    series: dict[str, list[tuple[int, float]]] = {}
    for line in metrics.read_text().splitlines():
        record = json.loads(line)
        for key, value in record.items():
            numeric = isinstance(value, (int, float)) and math.isfinite(value)
            if key.startswith(("loss/", "val/")) and numeric:
                series.setdefault(key, []).append((record["step"], float(value)))
    return series


def _panel(name: str, points: list[tuple[int, float]]) -> Image.Image:
    panel = Image.new("RGB", (PANEL_W, PANEL_H), "white")
    draw = ImageDraw.Draw(panel)
    left, top, right, bottom = MARGIN + 14, 22, PANEL_W - 10, PANEL_H - MARGIN + 8
    steps, values = [p[0] for p in points], [p[1] for p in points]
    low, high = min(values), max(values)
    high = high if high > low else low + 1.0
    first, last = min(steps), max(steps)
    last = last if last > first else first + 1

    def to_xy(step: int, value: float) -> tuple[float, float]:
        x = left + (right - left) * (step - first) / (last - first)
        y = bottom - (bottom - top) * (value - low) / (high - low)
        return x, y

    for fraction in (0.0, 0.5, 1.0):
        y = bottom - (bottom - top) * fraction
        draw.line([(left, y), (right, y)], fill=GRID)
        draw.text((4, y - 6), f"{low + (high - low) * fraction:.3g}", fill=INK)
    draw.rectangle([left, top, right, bottom], outline=INK)
    if len(points) > 1:
        draw.line([to_xy(s, v) for s, v in points], fill=LINE, width=2)
    else:
        x, y = to_xy(*points[0])
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=LINE)
    draw.text((left, 4), name, fill=INK)
    draw.text((left, bottom + 6), f"step {first}", fill=INK)
    draw.text((right - 70, bottom + 6), f"step {max(steps)}", fill=INK)
    return panel


def plot_losses(metrics: Path, output: Path, columns: int = 3) -> Path | None:
    """Draw every series of ``metrics`` into ``output``; None when there is nothing to draw."""
    series = read_series(metrics)
    if not series:
        return None
    names = sorted(series, key=lambda n: (n.startswith("val/"), n))
    rows = math.ceil(len(names) / columns)
    canvas = Image.new("RGB", (PANEL_W * min(columns, len(names)), PANEL_H * rows), "white")
    for index, name in enumerate(names):
        canvas.paste(
            _panel(name, series[name]), (PANEL_W * (index % columns), PANEL_H * (index // columns))
        )
    write_atomic(output, lambda name: canvas.save(name, format="PNG"))  # rewritten each time
    return output
