"""Turning a recipe into components: the method, its networks and objectives, the datasets.

Everything is built and checked before step 0. A method (:mod:`i2i.methods`) assembles its
networks through :class:`~i2i.methods.Components`, which calls the builders here.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from i2i.config.schema import Recipe
from i2i.errors import DataError, RecipeError
from i2i.interfaces import AdversarialLoss, Discriminator, Generator, PairedDataset
from i2i.methods import Components, TrainingMethod, WeightedLoss
from i2i.registry import Registry


def _split_weight(node: dict[str, Any], where: str) -> tuple[float, dict[str, Any]]:
    rest = dict(node)
    weight = rest.pop("weight", 1.0)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool):
        raise RecipeError(f"{where}.weight: must be a number, got {weight!r}")
    return float(weight), rest


def build_models(recipe: Recipe, registry: Registry) -> TrainingMethod:
    """Build the recipe's training method (``method``, default pix2pix) and all it trains."""
    method = registry.build(
        "method", recipe.method, "method", components=Components(recipe, registry)
    )
    _require(method, TrainingMethod, "method", "networks, optimizers and train_step")
    if not method.networks:
        raise RecipeError(f"method: '{recipe.method['name']}' built no network to train")
    return method


def build_generator(
    recipe: Recipe, registry: Registry, in_channels: int, out_channels: int
) -> nn.Module:
    """``model.generator``, checked against ``data.crop_size``."""
    node = recipe.model.generator
    generator = registry.build(
        "generator", node, "model.generator", in_channels=in_channels, out_channels=out_channels
    )
    _require(generator, Generator, "model.generator", "in_channels, out_channels, size_multiple")
    crop = recipe.data.crop_size
    if crop % generator.size_multiple:
        raise RecipeError(
            f"model.generator: '{node['name']}' needs image sides divisible by "
            f"{generator.size_multiple}, but data.crop_size is {crop}; use a multiple of "
            f"{generator.size_multiple} or a shallower generator"
        )
    smallest = getattr(generator, "min_size", generator.size_multiple)
    if crop < smallest:
        raise RecipeError(
            f"model.generator: '{node['name']}' takes images of at least {smallest}² but "
            f"data.crop_size is {crop}; raise data.crop_size"
        )
    return generator


def build_discriminator(recipe: Recipe, registry: Registry, in_channels: int) -> nn.Module:
    """``model.discriminator`` seeing ``in_channels`` channels."""
    discriminator = registry.build(
        "discriminator", recipe.model.discriminator, "model.discriminator", in_channels=in_channels
    )
    _require(discriminator, Discriminator, "model.discriminator", "in_channels")
    return discriminator


def build_adversarial(recipe: Recipe, registry: Registry) -> tuple[AdversarialLoss | None, float]:
    """``loss.adversarial`` and its weight, or (None, 0.0) when the weight is 0."""
    weight, node = _split_weight(recipe.loss.adversarial, "loss.adversarial")
    if not weight:
        return None, 0.0
    adversarial = registry.build("loss", node, "loss.adversarial")
    _require(
        adversarial,
        AdversarialLoss,
        "loss.adversarial",
        "discriminator_loss(real, fake) and generator_loss(fake)",
    )
    return adversarial, weight


def build_terms(recipe: Recipe, registry: Registry) -> dict[str, WeightedLoss]:
    """``loss.terms`` with a non-zero weight, by label."""
    terms: dict[str, WeightedLoss] = {}
    for label, node in recipe.loss.terms.items():
        where = f"loss.terms.{label}"
        weight, rest = _split_weight(node, where)
        rest.setdefault("name", label)
        if weight:
            term = registry.build("loss", rest, where)
            if isinstance(term, AdversarialLoss) or not callable(term):
                raise RecipeError(
                    f"{where}: '{rest['name']}' is not a generator loss term; "
                    "adversarial objectives belong under loss.adversarial"
                )
            terms[label] = WeightedLoss(weight, term)
    return terms


def build_dataset(recipe: Recipe, registry: Registry, split: str) -> PairedDataset:
    """The recipe's dataset for ``split``."""
    dataset = registry.build(
        "dataset", recipe.data.dataset, "data.dataset", root=recipe.data.root, split=split
    )
    _require(dataset, PairedDataset, "data.dataset", "__len__ and __getitem__")
    return dataset


def check_channels(dataset: PairedDataset, recipe: Recipe, kind: str) -> dict[str, int]:
    """Refuse data whose channels the model cannot take (grey ↔ RGB is converted); returns
    the bits per value of A and B (8, or 16 for uint16 and float data).

    Looks at the first pair; a dataset that cannot read it fails later, naming the file.
    """
    try:
        sample = dataset[0] if len(dataset) else None
    except DataError:
        return {}
    if sample is None:
        return {}
    first, second = (
        ("A", "B") if kind == "unpaired" or recipe.data.direction == "AtoB" else ("B", "A")
    )
    model = recipe.model
    for side, key, channels in (
        (first, "in_channels", model.in_channels),
        (second, "out_channels", model.out_channels),
    ):
        have = int(sample[side].shape[0])
        if have != channels and {have, channels} != {1, 3}:
            raise RecipeError(
                f"model.{key}: the dataset's {side} images have {have} channel(s) but "
                f"model.{key} is {channels}; set model.{key}={have}"
            )
    return {side: 8 if sample[side].dtype == torch.uint8 else 16 for side in ("A", "B")}


def _require(component: Any, interface: type, where: str, what: str) -> None:
    if not isinstance(component, interface):
        raise RecipeError(
            f"{where}: {type(component).__name__} is not a {interface.__name__} "
            f"(it must provide {what})"
        )
