"""Model cards: a ``README.md`` beside a trained model saying what it is and how to use it.

Written beside every run's final checkpoint (``checkpoints/README.md``) and every export
(``NAME.README.md``): the recipe, the data, the last held-out metrics, the plugins (with
versions) behind each component, a sample grid, and the commands that use it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml


def _node(node: Any, default: str = "?") -> str:
    if not isinstance(node, dict):
        return "?"
    arguments = ", ".join(f"{k}={v}" for k, v in node.items() if k != "name")
    return f"`{node.get('name', default)}`" + (f" ({arguments})" if arguments else "")


def last_validation(metrics: Path | None) -> dict[str, float]:
    """The last ``val/*`` values of a metrics file (empty without one)."""
    found: dict[str, float] = {}
    if metrics is None or not metrics.is_file():
        return found
    for line in metrics.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        found.update({k: v for k, v in record.items() if k.startswith("val/")})
    return found


def model_card(
    model: Path,
    meta: dict[str, Any],
    *,
    title: str,
    metrics: dict[str, float] | None = None,
    sample: Path | None = None,
    relative_to: Path,
) -> str:
    """Markdown describing ``model`` (a checkpoint or export) from its checkpoint ``meta``;
    paths in it are relative to ``relative_to``, the folder the card is written in."""
    recipe = meta.get("recipe") or {}
    model_node, data = recipe.get("model") or {}, recipe.get("data") or {}
    loss = recipe.get("loss") or {}
    where = os.path.relpath(model, relative_to)  # links and commands from the card's folder
    lines = [
        f"# {title}",
        "",
        "An image-to-image translation model trained with i2i.",
        "",
        "| | |",
        "|---|---|",
        f"| method | {_node(recipe.get('method'))} |",
        f"| generator | {_node(model_node.get('generator'))}, "
        f"{model_node.get('in_channels', '?')} → {model_node.get('out_channels', '?')} channels |",
        f"| discriminator | {_node(model_node.get('discriminator'))} |",
        f"| objective | adversarial {_node(loss.get('adversarial'))}; terms "
        + ", ".join(f"{k} {_node(v, default=k)}" for k, v in (loss.get("terms") or {}).items())
        + " |",
        f"| data | {_node(data.get('dataset'))}"
        + (f" from `{data['root']}`" if data.get("root") else "")
        + ", "
        f"{data.get('direction', 'AtoB')}, crops of {data.get('crop_size', '?')}² |",
        f"| trained | {meta.get('step', '?')} iterations (epoch {meta.get('epoch', 0) + 1}) |",
    ]
    if meta.get("best"):
        best = meta["best"]
        lines.append(f"| best | {best['metric']} {best['value']:.4g} at step {best['step']} |")
    if metrics:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items()))
        lines.append(f"| held-out metrics (last) | {shown} |")
    provenance = recipe.get("provenance") or {}
    components = provenance.get("components") or {}
    if components:
        lines += [
            "",
            "## Built from",
            "",
            "| component | name | plugin | distribution |",
            "|---|---|---|---|",
        ]
        for key, entry in components.items():
            lines.append(
                f"| {key} | `{entry['name']}` | {entry['plugin']} | "
                f"{entry['distribution']} {entry['version']} |"
            )
        lines.append(f"\ni2i {provenance.get('i2i', '?')}.")
    if sample is not None and sample.is_file():
        picture = os.path.relpath(sample, relative_to)
        lines += [
            "",
            "## Samples",
            "",
            "Held-out pairs: input | output | target.",
            "",
            f"![samples]({picture})",
        ]
    lines += [
        "",
        "## Use it",
        "",
        "From this folder:",
        "",
        "```bash",
        f"i2i translate -c {where} -o out/ photos/",
        f"i2i eval -c {where} --data DATASET_ROOT -o eval/",
        "```",
        "",
        "```python",
        "import i2i",
        "from PIL import Image",
        "",
        f'model = i2i.load("{where}")',
        'output = model(Image.open("photo.png"))  # a PIL image of the same size',
        "```",
        "",
        "## Recipe",
        "",
        "```yaml",
        yaml.safe_dump(
            {k: v for k, v in recipe.items() if k != "provenance"}, sort_keys=False
        ).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)
