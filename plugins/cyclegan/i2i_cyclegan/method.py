"""The CycleGAN method (Zhu et al. 2017), as the authors' ``cycle_gan_model.py`` trains it.

Networks: ``generator_a`` (G_A: A → B), ``generator_b`` (G_B: B → A), ``discriminator_a``
(D_A: judges B images, real or G_A's), ``discriminator_b`` (D_B: judges A images). All are
built from the recipe's ``model.generator`` and ``model.discriminator`` nodes; D sees the
image alone. Optimisers: ``optimizer_g`` over both G, ``optimizer_d`` over both D.

One iteration (G first, then D — the reverse of pix2pix):

1. ``fake_B = G_A(A)``, ``rec_A = G_B(fake_B)``, ``fake_A = G_B(B)``, ``rec_B = G_A(fake_A)``.
2. G step, both D frozen: ``GAN(D_A(fake_B)) + GAN(D_B(fake_A)) + λ_A·|rec_A − A| +
   λ_B·|rec_B − B| + λ_idt·(λ_B·|G_A(B) − B| + λ_A·|G_B(A) − A|)``, the GAN terms times
   ``loss.adversarial.weight``; one Adam step on both G.
3. D step: D_A on real B and on a pooled fake_B, D_B on real A and a pooled fake_A, each
   with the objective's D loss (``0.5·(real + fake)``); one Adam step on both D.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch.nn.functional as F
from torch import Tensor, nn

from i2i.errors import RecipeError
from i2i.methods import Batch, Components, StepTools, TrainingMethod
from i2i_cyclegan.pool import ImagePool


class CycleGANMethod(TrainingMethod):
    """Unpaired translation in both directions with cycle consistency.

    Args:
        components: builds the recipe's networks and objective.
        lambda_a: weight of the A → B → A cycle loss.
        lambda_b: weight of the B → A → B cycle loss.
        lambda_identity: identity-loss weight, relative to the cycle weights (0 turns it off).
        pool_size: fakes kept per direction in each image pool (0: none).
    """

    data = "unpaired"

    def __init__(
        self,
        components: Components,
        lambda_a: float = 10.0,
        lambda_b: float = 10.0,
        lambda_identity: float = 0.5,
        pool_size: int = 50,
    ) -> None:
        super().__init__()
        model = components.recipe.model
        if lambda_identity and model.in_channels != model.out_channels:
            raise RecipeError(
                f"method.lambda_identity: the identity loss needs as many input as output "
                f"channels (model has {model.in_channels} and {model.out_channels}); "
                "set method.lambda_identity=0"
            )
        self.adversarial, self.adversarial_weight = components.adversarial()
        if self.adversarial is None:
            raise RecipeError("loss.adversarial.weight: CycleGAN needs its discriminators; not 0")
        if components.terms():
            raise RecipeError(
                "loss.terms: CycleGAN has no paired terms (its cycle and identity weights are "
                "method.lambda_a, lambda_b, lambda_identity); set their weights to 0"
            )
        self.lambda_a, self.lambda_b, self.lambda_identity = lambda_a, lambda_b, lambda_identity
        self.networks.update(
            generator_a=components.generator(model.in_channels, model.out_channels),
            generator_b=components.generator(model.out_channels, model.in_channels),
            discriminator_a=components.discriminator(model.out_channels),
            discriminator_b=components.discriminator(model.in_channels),
        )
        nets = self.networks
        self.optimizers["optimizer_g"] = components.adam(nets["generator_a"], nets["generator_b"])
        self.optimizers["optimizer_d"] = components.adam(
            nets["discriminator_a"], nets["discriminator_b"]
        )
        self.pool_a, self.pool_b = ImagePool(pool_size), ImagePool(pool_size)

    def translator(self, direction: str) -> str:
        """G_A translates A → B, G_B translates B → A."""
        return "generator_a" if direction == "AtoB" else "generator_b"

    preview_labels = ("output", "reconstruction")

    def preview(self, input: Tensor, direction: str) -> list[Tensor]:
        """The translation and its reconstruction: A → B → A (or B → A → B)."""
        forward = self.networks[self.translator(direction)]
        backward = self.networks[self.translator("BtoA" if direction == "AtoB" else "AtoB")]
        output = forward(input)
        return [output, backward(output)]

    def train_step(
        self, batch: Batch, networks: Mapping[str, nn.Module], tools: StepTools
    ) -> dict[str, Tensor]:
        """G step (both D frozen), then D step on pooled fakes; returns every term."""
        real_a, real_b = batch["A"], batch["B"]
        g_a, g_b = networks["generator_a"], networks["generator_b"]
        d_a, d_b = networks["discriminator_a"], networks["discriminator_b"]
        adversarial = self.adversarial
        assert adversarial is not None
        with tools.autocast():
            fake_b = g_a(real_a)
            rec_a = g_b(fake_b)
            fake_a = g_b(real_b)
            rec_b = g_a(fake_a)

        tools.requires_grad([d_a, d_b], False)
        losses: dict[str, Tensor] = {}
        with tools.autocast():
            losses["g_a"] = adversarial.generator_loss(tools.unwrapped(d_a)(fake_b))
            losses["g_b"] = adversarial.generator_loss(tools.unwrapped(d_b)(fake_a))
            losses["cycle_a"] = F.l1_loss(rec_a, real_a)
            losses["cycle_b"] = F.l1_loss(rec_b, real_b)
            loss_g = self.adversarial_weight * (losses["g_a"] + losses["g_b"])
            loss_g = loss_g + self.lambda_a * losses["cycle_a"] + self.lambda_b * losses["cycle_b"]
            if self.lambda_identity:
                losses["idt_a"] = F.l1_loss(g_a(real_b), real_b)
                losses["idt_b"] = F.l1_loss(g_b(real_a), real_a)
                loss_g = loss_g + self.lambda_identity * (
                    self.lambda_b * losses["idt_a"] + self.lambda_a * losses["idt_b"]
                )
        tools.update(loss_g, self.optimizers["optimizer_g"], "g")

        tools.requires_grad([d_a, d_b], True)
        with tools.autocast():
            pooled_b, pooled_a = self.pool_a.query(fake_b), self.pool_b.query(fake_a)
            losses["d_a"] = adversarial.discriminator_loss(real=d_a(real_b), fake=d_a(pooled_b))
            losses["d_b"] = adversarial.discriminator_loss(real=d_b(real_a), fake=d_b(pooled_a))
        tools.update(losses["d_a"] + losses["d_b"], self.optimizers["optimizer_d"], "d")
        tools.end_step()
        losses["g"] = loss_g
        losses["d"] = losses["d_a"] + losses["d_b"]
        return {name: value.detach() for name, value in losses.items()}

    def extra_state(self) -> dict[str, Tensor]:
        """Both image pools."""
        return {"pool_a": self.pool_a.state(), "pool_b": self.pool_b.state()}

    def load_extra_state(self, tensors: dict[str, Tensor]) -> None:
        """Restore both image pools."""
        for name, pool in (("pool_a", self.pool_a), ("pool_b", self.pool_b)):
            if name in tensors:
                pool.load(tensors[name])
