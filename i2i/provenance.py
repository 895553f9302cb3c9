"""Which plugin (distribution and version) built each component of a recipe.

Written into a run's recipe (``provenance``, so config.yaml and every checkpoint sidecar
carry it) and into eval summaries; compared on resume and on load, so a run continued or a
model used under another plugin version says so.
"""

from __future__ import annotations

from typing import Any

from i2i import __version__
from i2i.registry import Registry


def recipe_components(recipe: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The components a recipe names: ``{recipe key: (kind, name)}``."""
    found: dict[str, tuple[str, str]] = {}

    def note(key: str, kind: str, node: Any, default: str | None = None) -> None:
        if isinstance(node, dict) and isinstance(node.get("name", default), str):
            found[key] = (kind, node.get("name", default))

    note("method", "method", recipe.get("method"))
    model = recipe.get("model") or {}
    note("model.generator", "generator", model.get("generator"))
    note("model.discriminator", "discriminator", model.get("discriminator"))
    loss = recipe.get("loss") or {}
    note("loss.adversarial", "loss", loss.get("adversarial"))
    for label, node in (loss.get("terms") or {}).items():
        note(f"loss.terms.{label}", "loss", node, default=label)
    note("data.dataset", "dataset", (recipe.get("data") or {}).get("dataset"))
    return found


def provenance(recipe: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """i2i's version and, per component the recipe names, the plugin behind it."""
    components = {}
    for key, (kind, name) in recipe_components(recipe).items():
        component = registry.owner(kind, name)
        if component is None:
            continue
        distribution, version = registry.distributions.get(component.plugin, ("?", "?"))
        components[key] = {
            "name": name,
            "plugin": component.plugin,
            "distribution": distribution,
            "version": version,
        }
    return {"i2i": __version__, "components": components}


def differences(saved: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """What changed between two provenances, a line per plugin version that differs.

    For example ``i2i-pix2pix 0.1.0 then, 0.2.0 now (method pix2pix, model.generator unet)``.
    """
    if not isinstance(saved, dict) or not saved:
        return []
    changes = []
    if saved.get("i2i") not in (None, current.get("i2i")):
        changes.append(f"i2i {saved['i2i']} then, {current.get('i2i')} now")
    before = saved.get("components") or {}
    grouped: dict[tuple[str, str], list[str]] = {}
    for key, now in (current.get("components") or {}).items():
        then = before.get(key)
        if not isinstance(then, dict):
            continue
        was = f"{then.get('distribution')} {then.get('version')}"
        is_now = f"{now['distribution']} {now['version']}"
        if was != is_now:
            grouped.setdefault((was, is_now), []).append(f"{key} {now['name']}")
    for (was, is_now), keys in grouped.items():
        changes.append(f"{was} then, {is_now} now ({', '.join(keys)})")
    return changes
