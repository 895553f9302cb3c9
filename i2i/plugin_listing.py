"""What ``i2i plugins`` lists, kept in a cache so that listing does not import torch.

Loading the plugins imports every component module, and with them torch (about 2 s). The
listing (plugins, problems, components and their summaries) changes only when what is
installed or a plugin's source changes, so it is cached as JSON under the user's cache folder
with a fingerprint of exactly that: the entry points, the files of the packages they name
(size and modification time), the folders on ``sys.path`` (installing or removing a package
changes them), the i2i version and the environment variables that select plugins. Any
difference and the plugins are loaded again.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import Any

from i2i import __version__

CACHE_NAME = "plugins.json"
KEPT = 8  # listings kept, one per environment
SELECTING_VARIABLES = ("I2I_PLUGINS", "I2I_DISABLE_PLUGINS", "I2I_DISABLE_PLUGIN_AUTOLOAD")


@dataclass
class Listing:
    """The plugins section's lines, the components in listing order, and how many problems
    (broken plugins, clashes) there are."""

    plugin_lines: list[str] = field(default_factory=list)
    components: list[dict[str, str]] = field(default_factory=list)
    problems: int = 0

    def matching(self, kind: str | None, pattern: str) -> list[dict[str, str]]:
        """The components of ``kind`` (or all) whose bare name matches ``pattern``."""
        return [
            c
            for c in self.components
            if (kind is None or c["kind"] == kind) and fnmatch.fnmatch(c["name"], pattern)
        ]

    def names_exactly(self, kind: str | None, pattern: str) -> bool:
        """True when ``pattern`` is a component's name or ``plugin:name`` (details wanted)."""
        return any(
            pattern in (c["name"], c["qualified"])
            for c in self.components
            if kind is None or c["kind"] == kind
        )


def listing_of(loaded: Any) -> Listing:
    """The listing of a loaded :class:`i2i.plugins.Plugins`."""
    registry, lines = loaded.registry, []
    for info in loaded.loaded:
        version = f" {info.version}" if info.version else ""
        builtin = " (built-in)" if info.name in registry.builtin else ""
        lines.append(f"{info.name:<16} {info.distribution}{version}{builtin}")
    lines += [f"{p.plugin:<16} BROKEN: {p.message}" for p in loaded.problems]
    lines += [f"{n.plugin:<16} note: {n.message}" for n in loaded.notes]
    lines += [f"{'':<16} CLASH: {clash}" for clash in registry.clashes]
    components = []
    for component in registry.components(None, "*", every=True):
        owns = registry.owner(component.kind, component.name) is component
        components.append(
            {
                "kind": component.kind,
                "name": component.name,
                "qualified": component.qualified,
                "shown": component.name if owns else component.qualified,
                "plugin": component.plugin,
                "summary": component.summary,
            }
        )
    problems = len(loaded.problems) + len(registry.clashes)
    return Listing(lines, components, problems)


def cache_folder() -> Path:
    """``$I2I_CACHE_DIR``, else ``$XDG_CACHE_HOME/i2i``, else ``~/.cache/i2i``."""
    if os.environ.get("I2I_CACHE_DIR"):
        return Path(os.environ["I2I_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "i2i"


def fingerprint() -> str:
    """A digest of everything the listing depends on (see the module's docstring)."""
    parts: list[Any] = [__version__, sys.executable, sys.path]
    parts += [os.environ.get(name, "") for name in SELECTING_VARIABLES]
    parts += [_stamp(Path(entry or ".")) for entry in sys.path]
    packages: set[str] = set()
    for entry_point in metadata.entry_points(group="i2i.plugins"):
        dist = entry_point.dist
        parts.append([entry_point.name, entry_point.value, dist.version if dist else ""])
        packages.add(entry_point.value.split(":")[0].split(".")[0])
    for package in sorted(packages):
        parts.append([package, _source_stamps(package)])
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _stamp(path: Path) -> list[int]:
    try:
        found = path.stat()
    except OSError:
        return []
    return [found.st_mtime_ns, found.st_size]


def _source_stamps(package: str) -> list[Any]:
    try:
        spec = util.find_spec(package)  # a top-level name: found without importing it
    except (ImportError, ValueError):
        return ["missing"]
    if spec is None:
        return ["missing"]
    roots = list(spec.submodule_search_locations or []) or [spec.origin or ""]
    stamps: list[Any] = []
    for root in roots:
        for folder, folders, files in os.walk(root):
            folders[:] = sorted(f for f in folders if f != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    path = Path(folder) / name
                    stamps.append([str(path), *_stamp(path)])
        if os.path.isfile(root):
            stamps.append([root, *_stamp(Path(root))])
    return stamps


def cached_listing() -> Listing:
    """The listing from the cache when its fingerprint still holds, else from loading the
    plugins (and cached for next time; a cache that cannot be written is only not used).

    A process that has its plugins loaded already (some registered by hand, perhaps) lists
    those.
    """
    from i2i import plugins

    if plugins.loaded_plugins() is not None:
        return listing_of(plugins.loaded_plugins())
    path, key = cache_folder() / CACHE_NAME, fingerprint()
    try:
        saved = json.loads(path.read_text())["listings"]
        if key in saved:
            return Listing(**saved[key])
    except (OSError, ValueError, TypeError, KeyError):
        saved = {}  # no cache yet, or one from another i2i: load the plugins
    listing = listing_of(plugins.default_plugins())
    # one listing per environment (a venv, python -m from another folder), the latest kept
    kept = dict(list(saved.items())[-(KEPT - 1) :]) if isinstance(saved, dict) else {}
    kept.pop(key, None)
    try:
        from i2i.files import write_text_atomic

        text = json.dumps({"listings": {**kept, key: asdict(listing)}}, indent=1)
        write_text_atomic(path, text + "\n")
    except Exception:  # noqa: BLE001 - a read-only home or a full disk: list without caching
        pass
    return listing
