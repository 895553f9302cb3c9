"""Reading a recipe: schema ⊕ YAML file ⊕ command-line overrides, then cross-key checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from i2i.config.schema import Recipe
from i2i.config.yamlfile import describe_yaml_error, load_yaml
from i2i.errors import RecipeError, closest, quoted


def schema_keys(schema: type = Recipe, prefix: str = "") -> Iterator[str]:
    """Every dotted key of the schema, sections included (``train``, ``train.max_steps``...)."""
    for item in dataclasses.fields(schema):
        key = f"{prefix}{item.name}"
        yield key
        if dataclasses.is_dataclass(
            item.default_factory if callable(item.default_factory) else None
        ):
            yield from schema_keys(item.default_factory, f"{key}.")  # type: ignore[arg-type]


def _explain(error: OmegaConfBaseException, key_hint: str | None, source: str) -> RecipeError:
    """One line naming the key, the closest valid key and where the bad value came from."""
    key = key_hint or getattr(error, "full_key", None) or "?"
    first_line = str(error).strip().splitlines()[0]
    if type(error).__name__ in ("ConfigKeyError", "ConfigAttributeError"):
        match = closest(key, schema_keys())
        hint = f" Did you mean '{match}'?" if match else " See `i2i config show` for valid keys."
        return RecipeError(f"{source}: unknown key {key!r}.{hint}")
    return RecipeError(f"{source}: bad value for {key!r}: {first_line.split('. Did you')[0]}")


def _read_yaml(path: Path) -> DictConfig:
    if not path.is_file():
        raise RecipeError(f"recipe {quoted(path)} not found; give the path of a recipe YAML file")
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as error:
        raise RecipeError(
            f"recipe {quoted(path)} is not a text file (byte {error.start} is not UTF-8); "
            "give the path of a recipe YAML file"
        ) from None
    except yaml.YAMLError as error:
        raise RecipeError(
            f"recipe {quoted(path)} is not valid YAML: {describe_yaml_error(error)}"
        ) from None
    if not isinstance(data, dict):
        raise RecipeError(
            f"recipe {quoted(path)} must be a mapping of keys, not {type(data).__name__}"
        )
    try:
        return OmegaConf.create(data)
    except OmegaConfBaseException as error:
        first = str(error).strip().splitlines()[0]
        raise RecipeError(f"recipe {quoted(path)}: {first}") from None


def _misshapen_key(schema: Any, data: Any, prefix: str = "") -> str | None:
    """The first key of ``data`` whose value is not a mapping where ``schema`` has a section."""
    if not isinstance(data, DictConfig):
        return None
    for key, value in data.items_ex(resolve=False):
        section = schema.get(key) if isinstance(schema, DictConfig) else None
        if isinstance(section, DictConfig):
            if not isinstance(value, DictConfig) and value is not None:
                return f"{prefix}{key}"
            found = _misshapen_key(section, value, f"{prefix}{key}.")
            if found:
                return found
    return None


def _parse_override(item: str) -> tuple[str, DictConfig]:
    key, sep, _ = item.partition("=")
    if not sep or not key.strip():
        raise RecipeError(
            f"override '{item}' is not of the form key=value (e.g. train.max_steps=200)"
        )
    try:
        return key.strip(), OmegaConf.from_dotlist([item])
    except OmegaConfBaseException as error:
        raise RecipeError(f"override '{item}': {str(error).splitlines()[0]}") from None


def _delete(config: DictConfig, key: str, item: str) -> None:
    """Remove a component argument (``~model.discriminator.n_layers``)."""
    parent_key, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(config, parent_key) if parent_key else config
    if not isinstance(parent, DictConfig) or leaf not in parent:
        raise RecipeError(f"override '{item}': there is no key '{key}' to remove")
    try:
        del parent[leaf]
    except OmegaConfBaseException:
        raise RecipeError(
            f"override '{item}': '{key}' is part of the recipe schema and cannot be removed; "
            "set it instead (key=value)"
        ) from None


def _replaces_component(config: DictConfig, override: DictConfig, key: str) -> bool:
    """True when a mapping is assigned to a component node: it replaces the node, not merges."""
    value = OmegaConf.select(override, key)
    current = OmegaConf.select(config, key, default=None)
    return (
        isinstance(value, DictConfig)
        and isinstance(current, DictConfig)
        and OmegaConf.get_type(current) is dict  # a free-form node, not a schema section
    )


def merge_recipe(path: str | Path | None, overrides: Sequence[str] = ()) -> DictConfig:
    """Merge the schema, the recipe file (if any) and overrides, validating each.

    An override is ``key=value``, or ``~key`` to remove a component argument. A mapping
    assigned to a component node (``model.discriminator={name: pixelgan}``) replaces it.
    """
    config = OmegaConf.structured(Recipe)
    if path is not None:
        path = Path(path)
        data = _read_yaml(path)
        try:
            config = OmegaConf.merge(config, data)
        except OmegaConfBaseException as error:
            raise _explain(error, None, f"recipe {quoted(path)}") from None
        except (TypeError, ValueError):  # omegaconf's own: a section given as a list, say
            key = _misshapen_key(config, data) or "?"
            raise RecipeError(
                f"recipe {quoted(path)}: {key!r} is a section of keys; give it as a mapping"
            ) from None
    for item in overrides:
        if item.startswith("~"):
            _delete(config, item[1:].strip(), item)
            continue
        key, override = _parse_override(item)
        try:
            if _replaces_component(config, override, key):
                OmegaConf.update(config, key, OmegaConf.select(override, key), merge=False)
            else:
                config = OmegaConf.merge(config, override)
        except OmegaConfBaseException as error:
            raise _explain(error, key, f"override '{item}'") from None
    return config  # type: ignore[return-value]


def load_recipe(path: str | Path | None, overrides: Sequence[str] = ()) -> Recipe:
    """Read a recipe into a :class:`Recipe` with interpolations resolved and checked."""
    config = merge_recipe(path, overrides)
    try:
        recipe = OmegaConf.to_object(config)
    except OmegaConfBaseException as error:
        raise _explain(error, None, f"recipe {quoted(path)}") from None
    assert isinstance(recipe, Recipe)
    check_recipe(recipe)
    return recipe


def check_recipe(recipe: Recipe) -> None:
    """Cross-key rules no single field can express."""
    data = recipe.data

    def need(condition: bool, key: str, message: str) -> None:
        if not condition:
            raise RecipeError(f"{key}: {message}")

    need(data.crop_size > 0, "data.crop_size", f"must be positive, got {data.crop_size}")
    need(
        data.load_size is None or data.load_size >= data.crop_size,
        "data.load_size",
        f"{data.load_size} is smaller than data.crop_size={data.crop_size}; "
        "raise load_size or lower crop_size",
    )
    need(data.batch_size >= 1, "data.batch_size", f"must be at least 1, got {data.batch_size}")
    need(data.num_workers >= 0, "data.num_workers", f"must be 0 or more, got {data.num_workers}")
    need(
        data.max_pixels is None or data.max_pixels >= 1,
        "data.max_pixels",
        f"must be at least 1 (or null), got {data.max_pixels}",
    )
    need(
        recipe.train.max_steps is None or recipe.train.max_steps >= 0,
        "train.max_steps",
        f"must be 0 or more (or null), got {recipe.train.max_steps}",
    )
    need(len(recipe.train.optimizer.betas) == 2, "train.optimizer.betas", "needs two numbers")
    for key in ("every", "sample_every", "val_images"):
        value = getattr(recipe.log, key)
        need(value >= 1, f"log.{key}", f"must be at least 1, got {value}")
    need(recipe.checkpoint.every >= 1, "checkpoint.every", "must be at least 1")
    need(recipe.checkpoint.keep >= 1, "checkpoint.keep", "must be at least 1")
    metric = recipe.checkpoint.best.metric
    need(
        metric is None or metric in VALIDATION_METRICS,
        "checkpoint.best.metric",
        f"must be one of {', '.join(VALIDATION_METRICS)} (or null), got {metric!r}",
    )
    need(
        metric not in VALIDATION_METRICS[3:] or recipe.log.val_palette is not None,
        "checkpoint.best.metric",
        f"{metric} needs log.val_palette (a palette.json from i2i eval --palette-colors)",
    )
    for label, node in {
        "loss.adversarial": recipe.loss.adversarial,
        **{f"loss.terms.{name}": term for name, term in recipe.loss.terms.items()},
    }.items():
        weight = node.get("weight", 1.0)
        need(
            isinstance(weight, (int, float)), f"{label}.weight", f"must be a number, got {weight!r}"
        )


VALIDATION_METRICS = (
    "val/l1",
    "val/psnr",
    "val/ssim",
    "val/pixel_acc",
    "val/class_acc",
    "val/class_iou",
)
"""The held-out metrics a run logs every log.sample_every (and checkpoint.best may pick)."""


def recipe_to_yaml(recipe: Recipe) -> str:
    """The resolved recipe as YAML, as written to a run's config.yaml."""
    return OmegaConf.to_yaml(OmegaConf.structured(recipe))


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """The resolved recipe as plain data (for JSON sidecars)."""
    return OmegaConf.to_container(OmegaConf.structured(recipe), resolve=True)  # type: ignore[return-value]
