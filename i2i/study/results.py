"""A study's table: one row per variant, mean ± spread over seeds, the best of each column bold."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from i2i.study.schema import Plan, Variant


@dataclass(frozen=True)
class Column:
    """A metric as the table shows it."""

    key: str
    label: str
    better: str  # "high", "low", or "one" (closest to 1 is best)

    def rank(self, value: float) -> float:
        """Smaller is better."""
        if self.better == "high":
            return -value
        if self.better == "low":
            return value
        return abs(value - 1.0)


COLUMNS = (
    Column("pixel_acc", "Per-pixel acc.", "high"),
    Column("class_acc", "Per-class acc.", "high"),
    Column("class_iou", "Class IoU", "high"),
    Column("l1", "L1", "low"),
    Column("psnr", "PSNR (dB)", "high"),
    Column("ssim", "SSIM", "high"),
    Column("sharpness", "Sharpness", "one"),
    Column("fid", "FID", "low"),
    Column("kid", "KID", "low"),
)
"""Every column a study can show, in the table's order (absent metrics are left out)."""


def run_values(summary: dict[str, Any]) -> dict[str, float]:
    """The metrics of one run's eval summary, flat."""
    return {**summary.get("mean", {}), **summary.get("scores", {})}


def aggregate(plan: Plan, runs: list[tuple[Variant, dict[str, Any]]]) -> dict[str, Any]:
    """results.json's content: per variant, its runs and each metric's mean and spread.

    The spread is the sample standard deviation over seeds (null with one seed).
    """
    variants: dict[str, dict[str, Any]] = {}
    for variant, summary in runs:
        entry = variants.setdefault(
            variant.name,
            {"name": variant.name, "overrides": plan.study.variants[variant.name], "runs": []},
        )
        entry["runs"].append({"seed": variant.seed, "metrics": run_values(summary)})
    keys = [c.key for c in COLUMNS if all(c.key in run_values(s) for _, s in runs)]
    for entry in variants.values():
        for key in keys:
            values = [run["metrics"][key] for run in entry["runs"]]
            entry.setdefault("mean", {})[key] = statistics.fmean(values)
            entry.setdefault("std", {})[key] = statistics.stdev(values) if len(values) > 1 else None
        entry["reference"] = plan.study.reference.get(entry["name"])
    first = runs[0][1] if runs else {}
    return {
        "study": plan.name,
        "title": plan.study.title,
        "recipe": str(plan.base),
        "budget": plan.study.budget,
        "overrides": plan.overrides,
        "seeds": plan.study.seeds,
        "eval": {k: first.get(k) for k in ("split", "size", "mode", "seed", "palette_colors")},
        "images": first.get("images"),
        "columns": keys,
        "reference_label": plan.study.reference_label,
        "variants": list(variants.values()),
    }


def best_variants(results: dict[str, Any], key: str) -> set[str]:
    """The best variant of a column, and any whose mean is within the seed spread of it.

    With spreads, "within" means ``|Δ| ≤ σ_best + σ_other``: a difference that seed-to-seed
    noise alone could make. With one seed only the best is returned.
    """
    column = next(c for c in COLUMNS if c.key == key)
    entries = [v for v in results["variants"] if not math.isnan(v["mean"][key])]
    if not entries:
        return set()
    best = min(entries, key=lambda v: column.rank(v["mean"][key]))
    chosen = {best["name"]}
    spread_best = best["std"][key]
    if spread_best is None:
        return chosen
    for entry in entries:
        spread = entry["std"][key] or 0.0
        if abs(entry["mean"][key] - best["mean"][key]) <= spread_best + spread:
            chosen.add(entry["name"])
    return chosen


def _cell(mean: float, std: float | None, key: str) -> str:
    digits = 2 if key in ("psnr", "fid") else 3
    text = f"{mean:.{digits}f}"
    return f"{text} ± {std:.{digits}f}" if std is not None else text


def results_markdown(results: dict[str, Any]) -> str:
    """results.md: the heading, the settings, the table, and how to read it."""
    keys = results["columns"]
    labels = {c.key: c.label for c in COLUMNS}
    has_reference = any(v["reference"] for v in results["variants"])
    header = ["Variant", *(labels[k] for k in keys)]
    if has_reference:
        header.append(results.get("reference_label") or "Paper")
    bold = {key: best_variants(results, key) for key in keys}
    lines = [
        f"# {results['title'] or results['study']}",
        "",
        f"Base recipe `{results['recipe']}`; budget: "
        + (" ".join(f"`{o}`" for o in results["budget"]) or "the recipe's own")
        + (
            "; then, from the command line: " + " ".join(f"`{o}`" for o in overrides)
            if (overrides := results.get("overrides"))
            else ""
        )
        + ".",
        f"Scored on {results['images']} held-out images ({results['eval']['split']}, "
        f"{results['eval']['size']}², {results['eval']['mode']} mode, seed "
        f"{results['eval']['seed']}); {results['seeds']} seed(s) per variant.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for entry in results["variants"]:
        cells = [entry["name"]]
        for key in keys:
            text = _cell(entry["mean"][key], entry["std"][key], key)
            cells.append(f"**{text}**" if entry["name"] in bold[key] else text)
        if has_reference:
            cells.append(entry["reference"] or "")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _legend(results)]
    return "\n".join(lines) + "\n"


def _legend(results: dict[str, Any]) -> str:
    parts = [
        "Higher is better except L1, FID and KID (lower) and sharpness (closest to 1: the "
        "output's high-frequency energy over the target's)."
    ]
    if results["seeds"] > 1:
        parts.append(
            "Values are mean ± sample standard deviation over seeds. **Bold**: the best "
            "variant and any within the seed spread of it (|Δ| ≤ σ_best + σ); a plain value "
            "differs from the best by more than seed noise."
        )
    else:
        parts.append("**Bold**: the best variant (one seed: no spread is known).")
    if "pixel_acc" in results["columns"]:
        parts.append(
            f"Palette accuracy: every pixel labelled with the nearest of "
            f"{results['eval']['palette_colors']} colours clustered from the training targets."
        )
    return " ".join(parts)
