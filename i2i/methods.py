"""Training methods: what one iteration does, as a plugin. The core runs any of them.

A method (pix2pix, CycleGAN, your own) is registered through the ``i2i_methods`` hook as
``{name: factory(components, **recipe_args)}`` and chosen by the recipe's ``method`` key
(``method: {name: pix2pix}``, the default). The factory receives a :class:`Components`, which
builds networks and objectives from the recipe through the registries, and returns a
:class:`TrainingMethod`. A method defines:

- ``networks``: the networks it trains, by role (``{"generator": G, "discriminator": D}``);
  checkpoints store them as ``<role>.<key>``.
- ``optimizers``: its optimisers by name; the core sets their learning rate from the recipe's
  schedule every epoch, and checkpoints store their state.
- ``data``: ``"paired"`` (aligned A/B, one augmentation draw per pair): the batch the core
  hands to :meth:`TrainingMethod.train_step` is ``{"input": x, "target": y}`` on the device,
  in [-1, 1], augmented and ordered by ``data.direction``. ``"unpaired"`` (two unaligned
  sets, :mod:`i2i.data.unpaired`): ``{"A": a, "B": b}``, each side with its own draw, B
  drawn at random for each A.
- :meth:`TrainingMethod.train_step`: one iteration, in the method's own update order;
  returns the detached losses to log by name.
- :meth:`TrainingMethod.extra_state` / :meth:`TrainingMethod.load_extra_state`: tensors beyond
  weights and optimisers that must survive a resume (an image pool, say).
- :meth:`TrainingMethod.translator`: which network translates at inference, per direction.

The core owns everything else: devices, precision, torch.compile, DDP, non-finite handling,
signals, checkpoints, metrics and previews. :class:`StepTools` is the method's handle on the
part of that an iteration needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from i2i.errors import I2IError

if TYPE_CHECKING:
    from i2i.config.schema import Recipe
    from i2i.interfaces import AdversarialLoss, GeneratorLoss
    from i2i.registry import Registry
    from i2i.train.precision import Precision

Batch = Mapping[str, Tensor]


class NonFiniteLoss(I2IError):
    """A loss became NaN or infinite (and the run does not skip such batches)."""


class TrainingMethod:
    """Base class of a training method; subclasses set the attributes and define the step.

    Attributes:
        networks: trained networks by role.
        optimizers: optimisers by name.
        data: the kind of batches the method trains on ("paired" or "unpaired").
    """

    data: Literal["paired", "unpaired"] = "paired"

    def __init__(self) -> None:
        self.networks: dict[str, nn.Module] = {}
        self.optimizers: dict[str, Optimizer] = {}

    def train_step(
        self, batch: Batch, networks: Mapping[str, nn.Module], tools: StepTools
    ) -> dict[str, Tensor]:
        """One iteration on ``batch``; returns the detached losses by name.

        Call the networks through ``networks`` (the same roles, possibly wrapped by
        torch.compile or DistributedDataParallel), not through ``self.networks``.
        """
        raise NotImplementedError

    def translator(self, direction: str) -> str:
        """The role of the network that translates in ``direction`` ('AtoB' or 'BtoA')."""
        return "generator"

    preview_labels: tuple[str, ...] = ("output",)
    """Column labels of :meth:`preview`'s images in sample grids."""

    def preview(self, input: Tensor, direction: str) -> list[Tensor]:
        """What sample grids show after the input (the translation first): by default the
        translation alone. Runs under no_grad in the test-time mode."""
        return [self.networks[self.translator(direction)](input)]

    def extra_state(self) -> dict[str, Tensor]:
        """Tensors beyond weights and optimisers that a resume needs (none by default)."""
        return {}

    def load_extra_state(self, tensors: dict[str, Tensor]) -> None:
        """Restore what :meth:`extra_state` returned."""

    def to(self, device: Any) -> TrainingMethod:
        """Move the networks (and anything else with tensors) to ``device``."""
        for network in self.networks.values():
            network.to(device)
        return self


@dataclass
class StepTools:
    """What an iteration needs from the core: precision, the non-finite policy, DDP.

    Attributes:
        precision: autocast context, loss scaling and the optimiser step (train.precision).
        skip_nonfinite: train.nonfinite is 'skip'.
    """

    precision: Precision
    skip_nonfinite: bool = False

    def autocast(self) -> Any:
        """The forward passes' autocast context."""
        return self.precision.autocast()

    def update(self, loss: Tensor, optimizer: Optimizer | Sequence[Optimizer], name: str) -> None:
        """Backward ``loss``, then step ``optimizer`` unless the loss is not finite.

        ``optimizer`` may be several (CUT's G and its projection head F, each with its own
        optimiser, after one backward pass): all are zeroed first and stepped in order,
        under the same loss scaling. A non-finite loss raises :class:`NonFiniteLoss` naming
        ``name``, or with ``skip_nonfinite`` leaves every weight as it was. Under torchrun
        every process takes the same decision.
        """
        optimizers = [optimizer] if isinstance(optimizer, Optimizer) else list(optimizer)
        for each in optimizers:
            each.zero_grad(set_to_none=True)
        self.precision.backward(loss)
        if self.finite(loss, name):
            for each in optimizers:
                self.precision.step(each)

    def finite(self, loss: Tensor, name: str) -> bool:
        """True to take the optimiser step; a non-finite loss raises, or is skipped."""
        from i2i.train.distributed import all_processes

        if all_processes(bool(torch.isfinite(loss)), loss.device):
            return True
        if self.skip_nonfinite:
            return False
        if bool(torch.isfinite(loss)):
            raise NonFiniteLoss(f"loss '{name}' is not finite on another process")
        raise NonFiniteLoss(f"loss '{name}' is {loss.item()}")

    def end_step(self) -> None:
        """Call once after the iteration's last optimiser step (fp16's scale update)."""
        self.precision.update()

    @staticmethod
    def requires_grad(modules: nn.Module | Iterable[nn.Module], flag: bool) -> None:
        """Freeze (False) or unfreeze (True) the parameters of one or more networks."""
        for module in [modules] if isinstance(modules, nn.Module) else modules:
            for parameter in module.parameters():
                parameter.requires_grad_(flag)

    @staticmethod
    def unwrapped(module: nn.Module) -> nn.Module:
        """The network inside a DDP wrapper: call it where no gradient must be averaged."""
        from i2i.train.distributed import unwrapped

        return unwrapped(module)


@dataclass
class WeightedLoss:
    """A generator loss term and its weight in G's objective."""

    weight: float
    loss: GeneratorLoss


@dataclass
class Components:
    """Builds a method's parts from the recipe through the registries, with recipe-key errors.

    Attributes:
        recipe: the resolved recipe.
        registry: the component registry.
    """

    recipe: Recipe
    registry: Registry

    def generator(self, in_channels: int | None = None, out_channels: int | None = None):
        """``model.generator`` for the given channels (default: the recipe's), size-checked."""
        from i2i.train.build import build_generator

        model = self.recipe.model
        return build_generator(
            self.recipe,
            self.registry,
            model.in_channels if in_channels is None else in_channels,
            model.out_channels if out_channels is None else out_channels,
        )

    def discriminator(self, in_channels: int) -> nn.Module:
        """``model.discriminator`` seeing ``in_channels`` channels."""
        from i2i.train.build import build_discriminator

        return build_discriminator(self.recipe, self.registry, in_channels)

    def adversarial(self) -> tuple[AdversarialLoss | None, float]:
        """``loss.adversarial`` and its weight; (None, 0.0) when the weight is 0."""
        from i2i.train.build import build_adversarial

        return build_adversarial(self.recipe, self.registry)

    def terms(self) -> dict[str, WeightedLoss]:
        """``loss.terms`` with a non-zero weight, by label."""
        from i2i.train.build import build_terms

        return build_terms(self.recipe, self.registry)

    def adam(self, *networks: nn.Module) -> Optimizer:
        """Adam over the parameters of ``networks``, as ``train.optimizer`` describes."""
        optim = self.recipe.train.optimizer
        parameters = [p for network in networks for p in network.parameters()]
        return torch.optim.Adam(
            parameters,
            lr=optim.lr,
            betas=(optim.betas[0], optim.betas[1]),
            fused=optim.fused or None,
        )
