"""``losses.png``: the loss curves of a run, one small panel per series, with matplotlib."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or opened

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from i2i.files import write_bytes_atomic  # noqa: E402

PANEL_INCHES = (3.6, 2.4)
DPI = 100


def read_series(metrics: Path) -> dict[str, list[tuple[int, float]]]:
    """``{name: [(step, value), ...]}`` for every ``loss/*`` and ``val/*`` key of a metrics file."""
    series: dict[str, list[tuple[int, float]]] = {}
    for line in metrics.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        for key, value in record.items():
            numeric = isinstance(value, (int, float)) and math.isfinite(value)
            if key.startswith(("loss/", "val/")) and numeric:
                series.setdefault(key, []).append((record["step"], float(value)))
    return series


def plot_losses(metrics: Path, output: Path, columns: int = 3) -> Path | None:
    """Draw every series of ``metrics`` into ``output``; None when there is nothing to draw."""
    series = read_series(metrics)
    if not series:
        return None
    names = sorted(series, key=lambda n: (n.startswith("val/"), n))
    rows = math.ceil(len(names) / columns)
    width = min(columns, len(names))
    figure = Figure(figsize=(PANEL_INCHES[0] * width, PANEL_INCHES[1] * rows), dpi=DPI)
    for index, name in enumerate(names):
        axis = figure.add_subplot(rows, width, index + 1)
        steps, values = zip(*series[name])
        axis.plot(steps, values, marker="o" if len(steps) == 1 else None, linewidth=1.2)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("step", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        axis.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_bytes_atomic(output, buffer.getvalue())  # rewritten at every sample
    return output
