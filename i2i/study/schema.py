"""The study file's schema, and reading one: every variant's recipe is checked before any run.

A study file::

    title: The objective (Isola et al., Table 1)
    recipe: ../pix2pix_maps.yaml          # the base recipe, relative to this file
    budget: [data.crop_size=128, train.max_steps=2000]   # every variant
    variants:
      L1: [loss.adversarial.weight=0]
      L1+cGAN: []
    eval: {palette_colors: 6}

Command-line overrides of ``i2i study`` go to every variant's recipe, after the budget and
the variant's own; those starting ``study.`` set this file's keys (``study.seeds=2``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from i2i.config.load import load_recipe
from i2i.config.schema import Recipe
from i2i.config.yamlfile import describe_yaml_error, load_yaml
from i2i.errors import I2IError, RecipeError, closest, quoted


@dataclass
class StudyEval:
    """How every variant is scored (the same held-out images, seed and mode for all)."""

    split: str | None = None
    """Held-out split scored; null: the recipe's data.val_split."""
    mode: Literal["paper", "eval"] = "paper"
    """'paper': G as the paper tested it (dropout on, batch statistics); 'eval': eval mode."""
    size: int | None = None
    """Images are resized to size² for scoring; null: the recipe's data.crop_size."""
    seed: int = 0
    """Seeds the paper mode's dropout during scoring (the same for every variant)."""
    palette_colors: int | None = None
    """Palette accuracy with this many colours (k-means over the training targets); null: off."""
    palette_split: str | None = None
    """Split whose targets the palette is taken from; null: the recipe's data.train_split."""
    fid_features: str | None = None
    """A local feature-network file for FID and KID (Inception .pth or any .onnx); null: off."""
    figure_images: int = 4
    """Held-out images (rows) in figure.png."""


@dataclass
class Study:
    """One base recipe and named variants of it, trained and scored alike."""

    recipe: str = MISSING
    """The base recipe, a path relative to the study file."""
    title: str = ""
    """A heading for results.md and the figures."""
    budget: list[str] = field(default_factory=list)
    """Overrides every variant gets first (the reduced budget: sizes, iterations)."""
    variants: dict[str, list[str]] = MISSING
    """Variant name → its own key=value overrides, as `i2i run` takes them."""
    seeds: int = 1
    """Runs per variant, with seeds recipe.seed, recipe.seed + 1, ..."""
    eval: StudyEval = field(default_factory=StudyEval)
    """Scoring."""
    reference: dict[str, str] = field(default_factory=dict)
    """Variant name → the paper's figures for it, shown beside the measured ones."""
    reference_label: str = "Paper"
    """Column heading of the reference figures."""


def slug_of(name: str) -> str:
    """A variant's folder name: its name with anything but letters and digits as '-'."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "variant"


@dataclass
class Variant:
    """One run of the plan: a variant at one seed, and everything needed to train it."""

    name: str
    seed: int
    overrides: list[str]
    recipe: Recipe

    @property
    def slug(self) -> str:
        """The variant's folder name (:func:`slug_of` its name)."""
        return slug_of(self.name)


@dataclass
class Plan:
    """A checked study: its file, its settings and every run it makes."""

    path: Path
    study: Study
    base: Path
    runs: list[Variant]
    overrides: list[str] = field(default_factory=list)
    """The command line's recipe overrides, applied to every variant after the budget."""

    @property
    def name(self) -> str:
        """The study's name (its file's stem)."""
        return self.path.stem


def _study_keys() -> list[str]:
    from i2i.config.load import schema_keys

    return list(schema_keys(Study))


def _read(path: Path, overrides: Sequence[str]) -> Study:
    if not path.is_file():
        raise RecipeError(f"study {quoted(path)} not found; give the path of a study YAML file")
    try:
        data = load_yaml(path.read_text())
    except yaml.YAMLError as error:
        raise RecipeError(
            f"study {quoted(path)} is not valid YAML: {describe_yaml_error(error)}"
        ) from None
    except UnicodeDecodeError as error:
        raise RecipeError(
            f"study {quoted(path)} is not a text file (byte {error.start} is not UTF-8)"
        ) from None
    if not isinstance(data, dict):
        raise RecipeError(f"study {quoted(path)} must be a mapping of keys (recipe, variants, ...)")
    config = OmegaConf.structured(Study)
    for source, layer in (
        (f"study {quoted(path)}", lambda: OmegaConf.create(data)),
        *(
            (f"override 'study.{item}'", lambda item=item: OmegaConf.from_dotlist([item]))
            for item in overrides
        ),
    ):
        try:
            config = OmegaConf.merge(config, layer())
        except OmegaConfBaseException as error:
            key = getattr(error, "full_key", None) or "?"
            if type(error).__name__ in ("ConfigKeyError", "ConfigAttributeError"):
                match = closest(key, _study_keys())
                hint = f" Did you mean '{match}'?" if match else ""
                raise RecipeError(f"{source}: unknown study key '{key}'.{hint}") from None
            line = str(error).strip().splitlines()[0]
            raise RecipeError(f"{source}: bad value for '{key}': {line}") from None
    try:
        study = OmegaConf.to_object(config)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "?"
        raise RecipeError(f"study {quoted(path)}: '{key}' is required") from None
    assert isinstance(study, Study)
    return study


def load_study(path: str | Path, overrides: Sequence[str] = (), registry=None) -> Plan:
    """Read a study, apply ``overrides``, and check every variant's recipe (and, given a
    ``registry``, build its networks), so a typo fails in one line before anything runs."""
    path = Path(path)
    study_overrides = [o.removeprefix("study.") for o in overrides if o.startswith("study.")]
    recipe_overrides = [o for o in overrides if not o.startswith("study.")]
    study = _read(path, study_overrides)
    if not study.variants:
        raise RecipeError(f"study {quoted(path)}: 'variants' is empty; name at least one variant")
    if study.seeds < 1:
        raise RecipeError(f"study {quoted(path)}: seeds must be at least 1, got {study.seeds}")
    if study.eval.figure_images < 0:
        raise RecipeError(f"study {quoted(path)}: eval.figure_images must be 0 or more")
    base = (path.parent / study.recipe).resolve()
    if not base.is_file():
        raise RecipeError(
            f"study {quoted(path)}: recipe {quoted(study.recipe)} not found (looked at {base})"
        )
    runs: list[Variant] = []
    slugs: dict[str, str] = {}
    for name, own in study.variants.items():
        where = f"study {quoted(path)} variant '{name}'"
        overrides_of = [*study.budget, *own, *recipe_overrides]
        try:
            recipe = load_recipe(base, overrides_of)
            if registry is not None:
                from i2i.train.build import build_models

                build_models(recipe, registry)
        except I2IError as error:
            raise RecipeError(f"{where}: {error}") from None
        variant = Variant(name, recipe.seed, overrides_of, recipe)
        if variant.slug in slugs:
            raise RecipeError(
                f"study {quoted(path)}: variants '{slugs[variant.slug]}' and '{name}' would share "
                f"the folder '{variant.slug}'; rename one"
            )
        slugs[variant.slug] = name
        runs += [
            Variant(name, recipe.seed + offset, overrides_of, recipe)
            for offset in range(study.seeds)
        ]
    return Plan(path, study, base, runs, recipe_overrides)
