"""Writing a study's results: results.json, results.md, figure.png and metrics.png."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from i2i.files import write_text_atomic
from i2i.study.figures import metric_bars, qualitative_figure
from i2i.study.results import aggregate, results_markdown
from i2i.study.runner import run_dir_of
from i2i.study.schema import Plan, Variant


def write_results(
    plan: Plan, folder: Path, runs: list[tuple[Variant, dict[str, Any]]]
) -> dict[str, Any]:
    """Tabulate and draw the finished runs; returns what results.json holds."""
    results = aggregate(plan, runs)
    write_text_atomic(folder / "results.json", json.dumps(results, indent=2) + "\n")
    write_text_atomic(folder / "results.md", results_markdown(results))
    metric_bars(results, folder / "metrics.png")
    first_of = {}
    for variant, _ in runs:
        first_of.setdefault(variant.name, run_dir_of(folder, variant) / "eval")
    evals = list(first_of.values())
    with (evals[0] / "metrics.csv").open() as stream:
        names = [row["name"] for row in csv.DictReader(stream)]
    stems = [Path(name).stem for name in names[: plan.study.eval.figure_images]]

    def images(eval_dir: Path, label: str) -> list[Path]:
        return [eval_dir / "images" / f"{stem}_{label}.png" for stem in stems]

    columns = [
        ("Input", images(evals[0], "input")),
        *((name, images(path, "output")) for name, path in first_of.items()),
        ("Ground truth", images(evals[0], "target")),
    ]
    qualitative_figure(stems, columns, folder / "figure.png", plan.study.title)
    return results
