"""Writing an evaluation: ``metrics.csv``, ``summary.json`` and a static ``index.html``."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from i2i.outputs import OutputFolder

METRICS = ("l1", "psnr", "ssim", "sharpness")
"""Per-image metrics every evaluation has."""


def write_report(
    outputs: OutputFolder,
    rows: list[dict[str, Any]],
    info: dict[str, Any],
    split_scores: dict[str, float] | None = None,
) -> dict:
    """Write the CSV, the JSON summary and the gallery page; returns the summary.

    ``split_scores`` are metrics of the whole split (palette accuracy, FID, KID), stored in
    the summary's ``split`` mapping; per-image columns beyond :data:`METRICS` (the palette's
    per-image ``pixel_acc``) go to the CSV.
    """
    columns = [*METRICS, *(k for k in (rows[0] if rows else {}) if k == "pixel_acc")]
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=["name", *columns])
    writer.writeheader()
    for row in rows:
        writer.writerow({"name": row["name"], **{m: f"{row[m]:.6f}" for m in columns}})
    summary = {
        **info,
        "images": len(rows),
        "mean": {m: sum(row[m] for row in rows) / len(rows) for m in METRICS} if rows else {},
        "scores": dict(split_scores or {}),
    }
    for name, text in (
        ("metrics.csv", table.getvalue()),
        ("summary.json", json.dumps(summary, indent=2) + "\n"),
        ("index.html", _page(rows, summary, columns)),
    ):
        outputs.write(outputs.folder / name, text_writer(text))
    return summary


REPORT_FILES = ("metrics.csv", "summary.json", "index.html")
"""The files of a report beside its ``images/`` folder."""


def text_writer(text: str) -> Callable[[str], None]:
    """A writer of ``text`` into the file it is given (for :meth:`OutputFolder.write`)."""
    return lambda name: Path(name).write_text(text, newline="")


def _page(rows: list[dict[str, Any]], summary: dict[str, Any], columns: list[str]) -> str:
    means = " · ".join(f"{m} {v:.4g}" for m, v in {**summary["mean"], **summary["scores"]}.items())
    lines = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>i2i eval: {html.escape(str(summary.get('checkpoint', '')))}</title>",
        "<style>body{font-family:sans-serif;margin:1em}td,th{padding:4px 8px;text-align:left}"
        "img{width:192px;image-rendering:auto}tr:nth-child(even){background:#f4f4f4}</style>",
        "</head><body>",
        f"<h1>{html.escape(str(summary.get('checkpoint', '')))}</h1>",
        f"<p>{len(rows)} images · {html.escape(str(summary.get('split', '')))} · {means}</p>",
        "<table><tr><th>name</th><th>input</th><th>output</th><th>target</th>"
        + "".join(f"<th>{m}</th>" for m in columns)
        + "</tr>",
    ]
    for row in rows:
        cells = "".join(
            f"<td><img src='{html.escape(row[k])}' alt='{k}'></td>"
            for k in ("input_image", "output_image", "target_image")
        )
        values = "".join(f"<td>{row[m]:.4g}</td>" for m in columns)
        lines.append(f"<tr><td>{html.escape(row['name'])}</td>{cells}{values}</tr>")
    lines.append("</table></body></html>")
    return "\n".join(lines) + "\n"
