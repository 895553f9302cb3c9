"""Reading recipe and study YAML: safe loading that refuses a key defined twice.

PyYAML keeps the last of two equal keys in a mapping without a word, so a study that names a
variant twice would silently lose one. Every YAML file i2i reads goes through here.
"""

from __future__ import annotations

from typing import Any

import yaml

MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKey(yaml.YAMLError):
    """A mapping defines the same key twice."""

    def __init__(self, key: Any, first: int, second: int) -> None:
        super().__init__(f"key {key!r} is defined twice (lines {first} and {second}); keep one")
        self.line = second


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys (merge keys ``<<`` may be overridden)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """Check the mapping's own keys for duplicates, then build it as the safe loader does."""
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the safe loader reports it
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                raise DuplicateKey(key, first, line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse ``text`` safely; a duplicate key raises :class:`DuplicateKey` (a YAMLError)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  (a SafeLoader subclass)


_OPENED = {
    "while parsing a flow mapping": "a '{' opened on line {line} is not closed",
    "while parsing a flow sequence": "a '[' opened on line {line} is not closed",
    "while scanning a quoted scalar": "a quote opened on line {line} is not closed",
    "while scanning a double-quoted scalar": "a quote opened on line {line} is not closed",
    "while scanning a single-quoted scalar": "a quote opened on line {line} is not closed",
}


def describe_yaml_error(error: yaml.YAMLError) -> str:
    """What is wrong in a YAML text and where, in a phrase: ``line 3: a tab ...``."""
    if isinstance(error, DuplicateKey):
        return f"line {error.line}: {error}"
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).strip().splitlines()[0]
    context, opened = getattr(error, "context", None), getattr(error, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
    if "'\\t'" in problem:
        return f"{where}: a tab; YAML indents with spaces, never tabs"
    if context in _OPENED and opened is not None:
        opening = _OPENED[context].replace("{line}", str(opened.line + 1))
        return f"{where}: {opening} ({problem})"
    if problem == "mapping values are not allowed here":
        return f"{where}: a second ':' on one line; quote the value, or put the key on its own line"
    return f"{where}: {problem}"
