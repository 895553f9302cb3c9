"""Per-kind component tables: generators, discriminators, losses, datasets.

A component is any callable that builds it (a class or a factory function). Plugins hand
their components to the registry through hooks (see :mod:`i2i.hookspecs`); the registry
records which plugin provided each name, lists them with wildcards, and builds one from a
recipe node ``{name: ..., **kwargs}`` with errors that name the closest known match.

Every component can be named ``plugin:name`` (``pix2pix:patchgan``). When two plugins
register one name, neither silently wins: a built-in plugin (one shipped with i2i) keeps
the bare name, and between two others the bare name is refused, naming both; each stays
reachable as ``plugin:name``. The clash is reported (:attr:`Registry.clashes`).
"""

from __future__ import annotations

import fnmatch
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from i2i.errors import ComponentBuildError, UnknownComponentError, did_you_mean

KINDS: tuple[str, ...] = (
    "generator",
    "discriminator",
    "loss",
    "dataset",
    "converter",
    "method",
    "logger",
)


@dataclass(frozen=True)
class Component:
    """One registered component: its kind, name, factory and the plugin that provided it."""

    kind: str
    name: str
    factory: Callable[..., Any]
    plugin: str

    @property
    def qualified(self) -> str:
        """``plugin:name``, the name no other plugin can take."""
        return f"{self.plugin}:{self.name}"

    @property
    def summary(self) -> str:
        """First line of the factory's docstring, or an empty string."""
        doc = inspect.getdoc(self.factory) or ""
        return doc.splitlines()[0] if doc else ""

    def required_arguments(self) -> list[str]:
        """Recipe arguments without a default (those the core gives left out)."""
        shared = SHARED_ARGUMENTS.get(self.kind, ())
        return [a.name for a in self.arguments() if a.default is REQUIRED and a.name not in shared]

    def arguments(self) -> list[Argument]:
        """The recipe arguments the factory takes: name, default, and its docstring line."""
        try:
            parameters = inspect.signature(self.factory).parameters.values()
        except (TypeError, ValueError):
            return []
        described = _documented_arguments(inspect.getdoc(self.factory) or "")
        underlying = getattr(self.factory, "func", None)  # a functools.partial of a class
        if underlying is not None:
            described = {**_documented_arguments(inspect.getdoc(underlying) or ""), **described}
        return [
            Argument(
                p.name,
                p.default if p.default is not p.empty else REQUIRED,
                described.get(p.name, ""),
            )
            for p in parameters
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        ]


REQUIRED = object()
"""The default of an argument that has none."""

SHARED_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "generator": ("in_channels", "out_channels"),
    "discriminator": ("in_channels",),
    "dataset": ("root", "split"),
    "method": ("components",),
}
"""Arguments the core gives every factory of a kind itself (the rest come from the recipe)."""


@dataclass(frozen=True)
class Argument:
    """One argument of a component factory."""

    name: str
    default: Any
    doc: str

    @property
    def shown_default(self) -> str:
        """The default as a recipe would write it (``required`` when there is none)."""
        return "required" if self.default is REQUIRED else repr(self.default)


def _documented_arguments(doc: str) -> dict[str, str]:
    """``{argument: description}`` from a Google-style ``Args:`` section."""
    found: dict[str, str] = {}
    inside, current = False, None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            inside, current = True, None
            continue
        if inside and stripped and not line.startswith((" ", "\t")):
            break  # the next section
        match = re.match(r"^\s{2,}(\w+)(?: \(.*?\))?:\s*(.*)$", line) if inside else None
        if match and len(line) - len(line.lstrip()) <= 8:
            current = match[1]
            found[current] = match[2]
        elif inside and current and stripped:
            found[current] += " " + stripped
    return found


@dataclass(frozen=True)
class NameClash:
    """Plugins registering one name of one kind; ``owner`` keeps the bare name, if any."""

    kind: str
    name: str
    plugins: tuple[str, ...]
    owner: str | None

    def __str__(self) -> str:
        listed = " and ".join(f"'{p}'" for p in self.plugins)
        others = " or ".join(f"'{p}:{self.name}'" for p in self.plugins if p != self.owner)
        if self.owner:
            return (
                f"{self.kind} '{self.name}' is registered by plugins {listed}; '{self.name}' "
                f"stays the built-in plugin '{self.owner}'s, write {others} for the other"
            )
        return (
            f"{self.kind} '{self.name}' is registered by plugins {listed}; the bare name is "
            f"refused, write {others}"
        )


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


class Registry:
    """Name → component tables, one per kind in :data:`KINDS`.

    Args:
        builtin: plugins that keep a bare name another plugin also registers.
    """

    def __init__(self, builtin: set[str] | None = None) -> None:
        self.builtin = builtin if builtin is not None else set()
        self.distributions: dict[str, tuple[str, str]] = {}
        """``{plugin: (distribution, version)}``, for provenance (filled by the loader)."""
        self._tables: dict[str, dict[str, Component]] = {kind: {} for kind in KINDS}
        self._qualified: dict[str, dict[str, Component]] = {kind: {} for kind in KINDS}
        self._contenders: dict[str, dict[str, list[Component]]] = {kind: {} for kind in KINDS}

    def add(self, kind: str, name: str, factory: Callable[..., Any], plugin: str) -> Component:
        """Register ``factory`` as ``name`` (and ``plugin:name``) of ``kind``.

        A name another plugin registered too goes to the built-in plugin, or to neither
        (see :attr:`clashes`); one plugin registering a name twice is refused.
        """
        table = self._table(kind)
        if not callable(factory):
            raise TypeError(f"{kind} '{name}' from plugin '{plugin}' is not callable: {factory!r}")
        if ":" in name or not name:
            raise ValueError(
                f"{kind} name {name!r} from plugin '{plugin}' must be non-empty, without ':'"
            )
        component = Component(kind, name, factory, plugin)
        if component.qualified in self._qualified[kind]:
            raise ValueError(f"plugin '{plugin}' registers {kind} '{name}' twice")
        self._qualified[kind][component.qualified] = component
        contenders = self._contenders[kind].setdefault(name, [])
        contenders.append(component)
        owners = [c for c in contenders if c.plugin in self.builtin] or contenders
        if len(owners) == 1:
            table[name] = owners[0]
        else:
            table.pop(name, None)
        return component

    @property
    def clashes(self) -> list[NameClash]:
        """Every name two or more plugins registered, with who keeps it."""
        found = []
        for kind in KINDS:
            for name, contenders in self._contenders[kind].items():
                if len(contenders) > 1:
                    owner = self._tables[kind].get(name)
                    plugins = tuple(c.plugin for c in contenders)
                    found.append(NameClash(kind, name, plugins, owner.plugin if owner else None))
        return found

    def get(self, kind: str, name: str) -> Component:
        """Return the component ``name`` (or ``plugin:name``) of ``kind``, or fail naming
        the closest known name, or the plugins that clash on it."""
        table = self._table(kind)
        if name in table:
            return table[name]
        if name in self._qualified[kind]:
            return self._qualified[kind][name]
        contenders = self._contenders[kind].get(name)
        if contenders:
            choices = " or ".join(f"'{c.qualified}'" for c in contenders)
            raise UnknownComponentError(
                f"{kind} '{name}' is registered by {len(contenders)} plugins; name one: {choices}"
            )
        known = ", ".join(self.names(kind)) or "none (is a plugin installed?)"
        every = [*table, *self._qualified[kind]]
        raise UnknownComponentError(
            f"unknown {kind} '{name}'.{did_you_mean(name, every)} Known {kind}s: {known}"
        )

    def owner(self, kind: str, name: str) -> Component | None:
        """The component a recipe's ``name`` builds, or None when it names none."""
        try:
            return self.get(kind, name)
        except UnknownComponentError:
            return None

    def names(self, kind: str, pattern: str = "*") -> list[str]:
        """Names of ``kind`` matching the shell-style ``pattern``, in natural order."""
        return sorted(fnmatch.filter(self._table(kind), pattern), key=_natural_key)

    def components(
        self, kind: str | None = None, pattern: str = "*", every: bool = False
    ) -> Iterator[Component]:
        """The components (of one kind, or of all) whose bare name matches ``pattern``.

        With ``every``, also those reachable only as ``plugin:name`` (after a clash).
        """
        for each in (kind,) if kind else KINDS:
            if not every:
                for name in self.names(each, pattern):
                    yield self._tables[each][name]
                continue
            names = sorted(fnmatch.filter(self._contenders[each], pattern), key=_natural_key)
            for name in names:
                yield from self._contenders[each][name]

    def build(self, kind: str, node: Mapping[str, Any], where: str = "", **shared: Any) -> Any:
        """Build a component from a recipe node ``{name: ..., **kwargs}``.

        ``shared`` holds the arguments the core passes to every component of the kind (for
        example ``in_channels``); ``where`` is the recipe key named in errors.
        """
        where = where or kind
        if "name" not in node:
            raise UnknownComponentError(
                f"{where}: no 'name' given; known: {', '.join(self.names(kind))}"
            )
        kwargs = {key: value for key, value in node.items() if key != "name"}
        try:
            component = self.get(kind, str(node["name"]))
        except UnknownComponentError as error:
            raise UnknownComponentError(f"{where}.name: {error}") from None
        check_arguments(component, kwargs, shared, where)
        try:
            return component.factory(**shared, **kwargs)
        except (TypeError, ValueError) as error:
            raise ComponentBuildError(
                f"{where}: {kind} '{component.name}' (plugin '{component.plugin}') "
                f"refused its arguments: {error}"
            ) from None

    def _table(self, kind: str) -> dict[str, Component]:
        if kind not in self._tables:
            raise UnknownComponentError(
                f"unknown component kind '{kind}'; kinds: {', '.join(KINDS)}"
            )
        return self._tables[kind]


def check_arguments(
    component: Component, kwargs: Mapping[str, Any], shared: Mapping[str, Any], where: str
) -> None:
    """Refuse recipe arguments the component's factory does not take, naming the closest one."""
    try:
        signature = inspect.signature(component.factory)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [
        name
        for name, p in parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and name not in shared
    ]
    for key in kwargs:
        if key not in accepted:
            raise UnknownComponentError(
                f"{where}.{key}: {component.kind} '{component.name}' (plugin '{component.plugin}') "
                f"takes no argument '{key}'.{did_you_mean(key, accepted)} "
                f"Its arguments: {', '.join(accepted) or 'none'}. "
                f"To drop it from the command line: ~{where}.{key}"
            )
    missing = [
        name
        for name, p in parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and name not in kwargs
        and name not in shared
    ]
    if missing:
        raise UnknownComponentError(
            f"{where}: {component.kind} '{component.name}' needs argument(s) {', '.join(missing)}; "
            f"add them under {where} in the recipe"
        )


__all__ = ["KINDS", "SHARED_ARGUMENTS", "Component", "NameClash", "Registry", "check_arguments"]
