"""Per-kind component tables: generators, discriminators, losses, datasets.

A component is any callable that builds it (a class or a factory function). Plugins hand
their components to the registry through hooks (see :mod:`i2i.hookspecs`); the registry
records which plugin provided each name, lists them with wildcards, and builds one from a
recipe node ``{name: ..., **kwargs}`` with errors that name the closest known match.
"""

from __future__ import annotations

import fnmatch
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from i2i.errors import ComponentBuildError, UnknownComponentError, did_you_mean

KINDS: tuple[str, ...] = ("generator", "discriminator", "loss", "dataset", "converter", "method")


@dataclass(frozen=True)
class Component:
    """One registered component: its kind, name, factory and the plugin that provided it."""

    kind: str
    name: str
    factory: Callable[..., Any]
    plugin: str

    @property
    def summary(self) -> str:
        """First line of the factory's docstring, or an empty string."""
        doc = inspect.getdoc(self.factory) or ""
        return doc.splitlines()[0] if doc else ""


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


class Registry:
    """Name → component tables, one per kind in :data:`KINDS`."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Component]] = {kind: {} for kind in KINDS}

    def add(self, kind: str, name: str, factory: Callable[..., Any], plugin: str) -> Component:
        """Register ``factory`` as ``name`` of ``kind``; a name another plugin took is refused."""
        table = self._table(kind)
        if not callable(factory):
            raise TypeError(f"{kind} '{name}' from plugin '{plugin}' is not callable: {factory!r}")
        if name in table:
            other = table[name].plugin
            raise ValueError(
                f"{kind} '{name}' is provided by both plugin '{other}' and plugin '{plugin}'; "
                "uninstall or disable one of them"
            )
        table[name] = Component(kind, name, factory, plugin)
        return table[name]

    def get(self, kind: str, name: str) -> Component:
        """Return the component ``name`` of ``kind``, or fail naming the closest known name."""
        table = self._table(kind)
        if name not in table:
            known = ", ".join(self.names(kind)) or "none (is a plugin installed?)"
            raise UnknownComponentError(
                f"unknown {kind} '{name}'.{did_you_mean(name, table)} Known {kind}s: {known}"
            )
        return table[name]

    def names(self, kind: str, pattern: str = "*") -> list[str]:
        """Names of ``kind`` matching the shell-style ``pattern``, in natural order."""
        return sorted(fnmatch.filter(self._table(kind), pattern), key=_natural_key)

    def components(self, kind: str | None = None, pattern: str = "*") -> Iterator[Component]:
        """Every component (of one kind, or of all kinds) whose name matches ``pattern``."""
        for each in (kind,) if kind else KINDS:
            for name in self.names(each, pattern):
                yield self._tables[each][name]

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


__all__ = ["KINDS", "Component", "Registry", "check_arguments"]
