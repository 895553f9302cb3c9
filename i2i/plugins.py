"""Finding plugins and filling the registry from their hooks.

Plugins are found through the ``i2i.plugins`` entry-point group. One plugin that fails to
import, or whose hook fails, is recorded as a :class:`PluginProblem` and skipped; the
others still load. A hook this i2i does not know (a plugin written for a newer one) is
noted and ignored; the plugin's other hooks load. Names two plugins register are settled by
the registry (:class:`~i2i.registry.NameClash`): the built-in plugin keeps the name.

Environment switches:

- ``I2I_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points (register plugins by hand).
- ``I2I_PLUGINS=a,b``: load only the named entry points.
- ``I2I_DISABLE_PLUGINS=a,b``: load every entry point except these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from i2i import __version__, hookspecs
from i2i.registry import Registry

ENTRY_POINT_GROUP = "i2i.plugins"

BUILTIN_DISTRIBUTIONS = frozenset(
    {"i2i", "i2i-pix2pix", "i2i-cyclegan", "i2i-cut", "i2i-multiscale", "i2i-timm-unet"}
)
"""Distributions shipped with i2i; their plugins keep a name another plugin also takes."""


@dataclass(frozen=True)
class PluginProblem:
    """A plugin, or one of its contributions, that could not be used."""

    plugin: str
    message: str

    def __str__(self) -> str:
        return f"plugin '{self.plugin}': {self.message}"


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, the distribution that installed it, and that version."""

    name: str
    distribution: str
    version: str


@dataclass
class Plugins:
    """The plugin manager, the registry it filled, and what went wrong on the way."""

    manager: pluggy.PluginManager
    registry: Registry
    loaded: list[PluginInfo] = field(default_factory=list)
    problems: list[PluginProblem] = field(default_factory=list)
    notes: list[PluginProblem] = field(default_factory=list)

    def info(self, plugin: str) -> PluginInfo | None:
        """The loaded plugin called ``plugin`` (its distribution and version)."""
        return next((info for info in self.loaded if info.name == plugin), None)

    @property
    def healthy(self) -> bool:
        """No plugin broke and no two plugins registered one name."""
        return not self.problems and not self.registry.clashes


def _env_names(variable: str) -> set[str] | None:
    value = os.environ.get(variable, "").strip()
    return {name.strip() for name in value.split(",") if name.strip()} if value else None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def load_plugins(extra: dict[str, Any] | None = None, autoload: bool | None = None) -> Plugins:
    """Load the entry-point plugins (and ``extra`` {name: plugin object}) into a new registry."""
    manager = pluggy.PluginManager("i2i")
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager, Registry())
    if autoload is None:
        autoload = os.environ.get("I2I_DISABLE_PLUGIN_AUTOLOAD", "") in ("", "0")
    if autoload:
        _load_entry_points(plugins)
    for name, plugin in (extra or {}).items():
        _register(plugins, name, plugin, PluginInfo(name, "(registered in code)", ""))
    _fill_registry(plugins)
    return plugins


def _load_entry_points(plugins: Plugins) -> None:
    only, disabled = _env_names("I2I_PLUGINS"), _env_names("I2I_DISABLE_PLUGINS") or set()
    seen: set[str] = set()
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        name = entry_point.name
        if name in seen or name in disabled or (only is not None and name not in only):
            continue  # the same distribution can be visible twice on sys.path
        seen.add(name)
        dist = entry_point.dist
        info = PluginInfo(name, dist.name if dist else "?", dist.version if dist else "?")
        try:
            plugin = entry_point.load()
        except Exception as error:  # a broken plugin must not take the others down
            plugins.problems.append(PluginProblem(name, f"failed to import: {_one_line(error)}"))
            continue
        _register(plugins, name, plugin, info)


def _register(plugins: Plugins, name: str, plugin: Any, info: PluginInfo) -> None:
    try:
        plugins.manager.register(plugin, name=name)
    except pluggy.PluginValidationError as error:  # a known hook with the wrong arguments
        if plugins.manager.get_plugin(name) is not None:
            plugins.manager.unregister(name=name)
        plugins.problems.append(PluginProblem(name, f"invalid hook: {_one_line(error)}"))
        return
    except ValueError as error:  # the same name or object registered twice
        plugins.problems.append(PluginProblem(name, _one_line(error)))
        return
    for caller in plugins.manager.get_hookcallers(plugin) or []:
        if caller.spec is None:  # pluggy keeps it uncalled; check_pending() would reject all
            message = (
                f"implements hook '{caller.name}', which this i2i ({__version__}) does not "
                "know (written for a newer i2i?); that hook is ignored, the others load"
            )
            plugins.notes.append(PluginProblem(name, message))
    if info.distribution in BUILTIN_DISTRIBUTIONS:
        plugins.registry.builtin.add(name)
    plugins.registry.distributions[name] = (info.distribution, info.version)
    plugins.loaded.append(info)


def _fill_registry(plugins: Plugins) -> None:
    """Call each contributing hook plugin by plugin, so every name keeps its owner."""
    for hook_name, kind in hookspecs.HOOK_KINDS.items():
        caller = getattr(plugins.manager.hook, hook_name)
        for impl in caller.get_hookimpls():  # in registration order: the first name wins
            try:
                contributed = dict(impl.function() or {})
            except Exception as error:
                message = f"{hook_name}() failed: {_one_line(error)}"
                plugins.problems.append(PluginProblem(impl.plugin_name, message))
                continue
            for name, factory in contributed.items():
                try:
                    plugins.registry.add(kind, str(name), factory, impl.plugin_name)
                except (TypeError, ValueError) as error:  # a clash skips that name only
                    plugins.problems.append(PluginProblem(impl.plugin_name, str(error)))


_DEFAULT: Plugins | None = None


def default_plugins() -> Plugins:
    """The plugins of this process, loaded from entry points on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_plugins()
    return _DEFAULT


def loaded_plugins() -> Plugins | None:
    """This process's plugins if they are loaded already (None before first use)."""
    return _DEFAULT


def default_registry() -> Registry:
    """The registry filled by :func:`default_plugins`."""
    return default_plugins().registry


def register_plugin(plugin: Any, name: str) -> Plugins:
    """Add a plugin object by hand (a notebook, a test) and refill the default registry."""
    global _DEFAULT
    _EXTRA[name] = plugin
    _DEFAULT = load_plugins(extra=_EXTRA)
    return _DEFAULT


def reset_plugins() -> None:
    """Forget hand-registered plugins; the next use reloads from entry points."""
    global _DEFAULT
    _EXTRA.clear()
    _DEFAULT = None


_EXTRA: dict[str, Any] = {}
