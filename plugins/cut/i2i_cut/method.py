"""The CUT method (Park et al. 2020): one G, one D, and PatchNCE between input and output.

Networks: ``generator`` (A → B), ``discriminator`` (judges B images alone), and ``head``
(the PatchNCE projection MLPs, one per encoder level used). Optimisers: ``optimizer_g``,
``optimizer_d`` and ``optimizer_head``.

One iteration, in the authors' order:

1. ``fake = G(A)`` (and ``G(B)`` for the identity term).
2. D step: the objective's D loss on ``D(fake)`` detached and ``D(B)``; Adam step on D.
3. G step, D frozen: ``adversarial weight · GAN(D(fake))`` plus ``λ_NCE`` times the mean over
   encoder levels of PatchNCE(queries from G's encoder on ``fake``, keys from it on ``A``),
   averaged with the same term for ``G(B)`` against ``B`` when ``nce_idt``; one backward
   pass, then Adam steps on G and on the head.

FastCUT is the preset ``lambda_nce=10, nce_idt=False``.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from i2i.interfaces import encoder_features
from i2i.methods import TrainingMethod
from i2i_cut.nce import PatchSampler, patch_nce_loss


class CUTMethod(TrainingMethod):
    """Contrastive unpaired translation: adversarial loss plus patchwise contrastive loss.

    Args:
        components: builds the recipe's networks and objective.
        lambda_nce: weight of the PatchNCE loss (1 for CUT, 10 for FastCUT).
        nce_idt: also apply PatchNCE to G(B) against B (CUT's identity term).
        nce_layers: encoder levels of the generator whose features are contrasted.
        patches: patch positions sampled per image and level (256 in the paper).
        head_width: output size of the projection MLPs (256 in the paper).
        tau: temperature of the contrastive loss (0.07).
    """

    data = "unpaired"

    def __init__(
        self,
        components,
        lambda_nce: float = 1.0,
        nce_idt: bool = True,
        nce_layers: tuple[int, ...] = (0, 2, 3, 5, 9),
        patches: int = 256,
        head_width: int = 256,
        tau: float = 0.07,
    ) -> None:
        super().__init__()
        if lambda_nce <= 0 or patches < 1 or tau <= 0:
            raise ValueError("lambda_nce and tau must be above 0, patches at least 1")
        recipe = components.recipe
        if any(term.weight for term in components.terms().values()):
            raise ValueError(
                "CUT has no paired loss terms (its objective is GAN + PatchNCE); set "
                "loss.terms.l1.weight=0 (and any other term's weight)"
            )
        self.adversarial, self.adversarial_weight = components.adversarial()
        if self.adversarial is None:
            raise ValueError("CUT needs loss.adversarial with a weight above 0")
        self.lambda_nce, self.nce_idt, self.tau = lambda_nce, nce_idt, tau
        self.layers, self.patches = [int(level) for level in nce_layers], patches
        generator = components.generator()
        self.networks["generator"] = generator
        self.networks["discriminator"] = components.discriminator(recipe.model.out_channels)
        self.networks["head"] = PatchSampler(self._channels(generator), head_width)
        for role, name in (("generator", "g"), ("discriminator", "d"), ("head", "head")):
            self.optimizers[f"optimizer_{name}"] = components.adam(self.networks[role])

    def _channels(self, generator) -> list[int]:
        """The channels of the chosen encoder levels, from one pass on a small blank image."""
        side = getattr(generator, "min_size", generator.size_multiple)
        blank = torch.zeros(1, generator.in_channels, side, side)
        was_training = generator.training
        generator.eval()  # no running statistics touched by this look
        with torch.no_grad():
            found = encoder_features(generator, blank, self.layers)
        generator.train(was_training)
        return [int(feature.shape[1]) for feature in found]

    def nce(self, networks, source: Tensor, translated: Tensor) -> Tensor:
        """λ_NCE · mean over levels of PatchNCE(translated's patches, source's patches)."""
        encoder = networks["generator"]
        head = networks["head"]
        keys, positions = head(encoder_features(encoder, source, self.layers), self.patches)
        queries, _ = head(encoder_features(encoder, translated, self.layers), 0, positions)
        levels = [patch_nce_loss(q, k, len(source), self.tau) for q, k in zip(queries, keys)]
        return self.lambda_nce * torch.stack(levels).mean()

    def train_step(self, batch, networks, tools) -> dict[str, Tensor]:
        """D step, then G and head together with D frozen."""
        real_a, real_b = batch["A"], batch["B"]
        generator, discriminator = networks["generator"], networks["discriminator"]
        with tools.autocast():
            fake = generator(real_a)
            same = generator(real_b) if self.nce_idt else None
        tools.requires_grad(discriminator, True)
        with tools.autocast():
            loss_d = self.adversarial.discriminator_loss(
                real=discriminator(real_b), fake=discriminator(fake.detach())
            )
        tools.update(loss_d, self.optimizers["optimizer_d"], "d")
        tools.requires_grad(discriminator, False)
        with tools.autocast():
            loss_gan = self.adversarial.generator_loss(tools.unwrapped(discriminator)(fake))
            loss_nce = self.nce(networks, real_a, fake)
            losses = {"d": loss_d.detach(), "g_adv": loss_gan.detach(), "nce": loss_nce.detach()}
            if same is not None:
                loss_idt = self.nce(networks, real_b, same)
                losses["nce_idt"] = loss_idt.detach()
                loss_nce = (loss_nce + loss_idt) * 0.5
            loss_g = self.adversarial_weight * loss_gan + loss_nce
        optimizers = [self.optimizers["optimizer_g"], self.optimizers["optimizer_head"]]
        tools.update(loss_g, optimizers, "g")
        tools.end_step()
        losses["g"] = loss_g.detach()
        return losses


fastcut = functools.partial(CUTMethod, lambda_nce=10.0, nce_idt=False)
fastcut.__doc__ = "FastCUT: CUT with λ_NCE = 10 and no identity PatchNCE term (faster, lighter)."
