"""Turning a recipe into components: networks, objectives and datasets, checked before step 0."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from i2i.config.schema import OptimizerConfig, Recipe
from i2i.errors import RecipeError
from i2i.interfaces import AdversarialLoss, Discriminator, Generator, GeneratorLoss, PairedDataset
from i2i.registry import Registry


@dataclass
class WeightedLoss:
    """A generator loss term and its weight in G's objective."""

    weight: float
    loss: GeneratorLoss


@dataclass
class Models:
    """Everything a training step computes with."""

    generator: nn.Module
    discriminator: nn.Module | None = None
    adversarial: AdversarialLoss | None = None
    adversarial_weight: float = 0.0
    terms: dict[str, WeightedLoss] = field(default_factory=dict)
    conditional: bool = True

    def to(self, device: Any) -> Models:
        """Move the networks (and any loss with parameters) to ``device``."""
        self.generator.to(device)
        if self.discriminator is not None:
            self.discriminator.to(device)
        for term in self.terms.values():
            if isinstance(term.loss, nn.Module):
                term.loss.to(device)
        return self


def _split_weight(node: dict[str, Any], where: str) -> tuple[float, dict[str, Any]]:
    rest = dict(node)
    weight = rest.pop("weight", 1.0)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool):
        raise RecipeError(f"{where}.weight: must be a number, got {weight!r}")
    return float(weight), rest


def build_models(recipe: Recipe, registry: Registry) -> Models:
    """Build G, D (when the adversarial weight is not 0) and the losses named by the recipe."""
    model = recipe.model
    generator = registry.build(
        "generator",
        model.generator,
        "model.generator",
        in_channels=model.in_channels,
        out_channels=model.out_channels,
    )
    _require(generator, Generator, "model.generator", "in_channels, out_channels, size_multiple")
    crop = recipe.data.crop_size
    if crop % generator.size_multiple:
        raise RecipeError(
            f"model.generator: '{model.generator['name']}' needs image sides divisible by "
            f"{generator.size_multiple}, but data.crop_size is {crop}; use a multiple of "
            f"{generator.size_multiple} or a shallower generator"
        )
    models = Models(generator=generator, conditional=model.conditional)

    adversarial_weight, adversarial_node = _split_weight(
        recipe.loss.adversarial, "loss.adversarial"
    )
    if adversarial_weight:
        models.adversarial = registry.build("loss", adversarial_node, "loss.adversarial")
        _require(
            models.adversarial,
            AdversarialLoss,
            "loss.adversarial",
            "discriminator_loss(real, fake) and generator_loss(fake)",
        )
        d_channels = model.out_channels + (model.in_channels if model.conditional else 0)
        models.discriminator = registry.build(
            "discriminator", model.discriminator, "model.discriminator", in_channels=d_channels
        )
        _require(models.discriminator, Discriminator, "model.discriminator", "in_channels")
        models.adversarial_weight = adversarial_weight

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
            models.terms[label] = WeightedLoss(weight, term)
    if not models.terms and models.adversarial is None:
        raise RecipeError("loss: every weight is 0, so nothing would be trained")
    return models


def build_dataset(recipe: Recipe, registry: Registry, split: str) -> PairedDataset:
    """The recipe's dataset for ``split``."""
    dataset = registry.build(
        "dataset", recipe.data.dataset, "data.dataset", root=recipe.data.root, split=split
    )
    _require(dataset, PairedDataset, "data.dataset", "__len__ and __getitem__")
    return dataset


def _require(component: Any, interface: type, where: str, what: str) -> None:
    if not isinstance(component, interface):
        raise RecipeError(
            f"{where}: {type(component).__name__} is not a {interface.__name__} "
            f"(it must provide {what})"
        )


def build_optimizers(models: Models, optim: OptimizerConfig) -> tuple[Optimizer, Optimizer | None]:
    """Adam for G and, when there is one, for D, as ``train.optimizer`` describes."""
    adam = {"lr": optim.lr, "betas": (optim.betas[0], optim.betas[1]), "fused": optim.fused or None}
    optimizer_g = torch.optim.Adam(models.generator.parameters(), **adam)
    discriminator = models.discriminator
    optimizer_d = (
        None if discriminator is None else torch.optim.Adam(discriminator.parameters(), **adam)
    )
    return optimizer_g, optimizer_d
