"""The pix2pix method: one G, one (conditional) D, paired batches, D step then G step.

Objective (Isola et al. 2017, eq. 4): ``G* = arg min_G max_D L_cGAN(G, D) + λ·L_L1(G)``,
with ``loss.adversarial`` as L_cGAN (its weight 0 trains no D: the L1-only ablation) and
``loss.terms`` as the weighted terms (λ = 100 for L1).

One iteration, in the official implementation's order:

1. ``fake = G(x)``.
2. D step: D on (x, fake) detached and on (x, y), in two separate passes (BatchNorm
   statistics are per pass); D's loss (the objective's, ``0.5·(real + fake)`` for vanilla);
   Adam step on D.
3. G step with D frozen: D on (x, fake); adversarial loss plus the weighted terms; Adam step
   on G.

Under torchrun G and D arrive wrapped in DistributedDataParallel; G's step calls the bare D,
which has no gradient to average.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from i2i.errors import RecipeError
from i2i.interfaces import DiscriminatorOutput, LossInputs
from i2i.methods import Batch, Components, StepTools, TrainingMethod


def _detached(output: DiscriminatorOutput) -> DiscriminatorOutput:
    return DiscriminatorOutput(
        [t.detach() for t in output.logits], [[f.detach() for f in fs] for fs in output.features]
    )


class Pix2PixMethod(TrainingMethod):
    """The paper's conditional GAN with weighted reconstruction terms.

    Networks ``generator`` and (when the adversarial weight is not 0) ``discriminator``,
    optimisers ``optimizer_g`` and ``optimizer_d``. ``model.conditional: false`` shows D the
    output alone (the paper's unconditional GAN ablation).

    Attributes:
        generator, discriminator: the networks (discriminator None for L1 alone).
        adversarial, adversarial_weight: the GAN objective and its weight.
        terms: G's weighted loss terms by label.
        conditional: D sees the input concatenated with the image.
    """

    data = "paired"

    def __init__(self, components: Components) -> None:
        super().__init__()
        model = components.recipe.model
        self.generator = components.generator()
        self.conditional = model.conditional
        self.adversarial, self.adversarial_weight = components.adversarial()
        self.discriminator: nn.Module | None = None
        self.networks["generator"] = self.generator
        if self.adversarial is not None:
            seen = model.out_channels + (model.in_channels if model.conditional else 0)
            self.discriminator = components.discriminator(seen)
            self.networks["discriminator"] = self.discriminator
        self.terms = components.terms()
        if not self.terms and self.adversarial is None:
            raise RecipeError("loss: every weight is 0, so nothing would be trained")
        self.optimizers["optimizer_g"] = components.adam(self.generator)
        if self.discriminator is not None:
            self.optimizers["optimizer_d"] = components.adam(self.discriminator)

    def to(self, device: object) -> Pix2PixMethod:
        """Move the networks and any loss term with parameters."""
        super().to(device)
        for term in self.terms.values():
            if isinstance(term.loss, nn.Module):
                term.loss.to(device)
        return self

    def train_step(
        self, batch: Batch, networks: Mapping[str, nn.Module], tools: StepTools
    ) -> dict[str, Tensor]:
        """D step, then G step with D frozen; returns d, g_adv, each term, and g."""
        input, target = batch["input"], batch["target"]
        generator, discriminator = networks["generator"], networks.get("discriminator")
        with tools.autocast():
            output = generator(input)
        losses: dict[str, Tensor] = {}

        def judged(image: Tensor) -> Tensor:
            return torch.cat([input, image], dim=1) if self.conditional else image

        fake_judged: DiscriminatorOutput | None = None
        real_judged: DiscriminatorOutput | None = None
        if discriminator is not None and self.adversarial is not None:
            tools.requires_grad(discriminator, True)
            with tools.autocast():
                fake_for_d = discriminator(judged(output.detach()))
                real_judged = discriminator(judged(target))
                loss_d = self.adversarial.discriminator_loss(real=real_judged, fake=fake_for_d)
            tools.update(loss_d, self.optimizers["optimizer_d"], "d")
            losses["d"] = loss_d.detach()
            real_judged = _detached(real_judged)

            tools.requires_grad(discriminator, False)  # G's step must not accumulate D grads
            with tools.autocast():
                fake_judged = tools.unwrapped(discriminator)(judged(output))
                loss_g_adv = self.adversarial.generator_loss(fake_judged)
            losses["g_adv"] = loss_g_adv.detach()
            loss_g = self.adversarial_weight * loss_g_adv
        else:
            loss_g = output.new_zeros(())

        inputs = LossInputs(
            input=input, output=output, target=target, fake=fake_judged, real=real_judged
        )
        with tools.autocast():
            for label, term in self.terms.items():
                value = term.loss(inputs)
                losses[label] = value.detach()
                loss_g = loss_g + term.weight * value
        tools.update(loss_g, self.optimizers["optimizer_g"], _culprit(losses))
        tools.end_step()
        losses["g"] = loss_g.detach()
        return losses


def _culprit(losses: dict[str, Tensor]) -> str:
    """The first non-finite term of G's loss, else 'g' itself."""
    bad = [name for name, value in losses.items() if name != "d" and not torch.isfinite(value)]
    return bad[0] if bad else "g"
