"""The conditional GAN objectives (vanilla as in the paper, least squares) and L1."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from i2i.interfaces import DiscriminatorOutput, LossInputs


class _PatchwiseGANLoss(nn.Module):
    """A GAN loss comparing every patch logit with a real (1) or fake (0) label.

    With several discriminator scales the per-scale losses are summed (as pix2pixHD does).
    """

    def criterion(self, logits: Tensor, target: float) -> Tensor:
        raise NotImplementedError

    def _against(self, output: DiscriminatorOutput, target: float) -> Tensor:
        return sum(self.criterion(logits, target) for logits in output.logits)  # type: ignore[return-value]

    def discriminator_loss(self, real: DiscriminatorOutput, fake: DiscriminatorOutput) -> Tensor:
        """Halved, as in the paper: slows D relative to G."""
        return 0.5 * (self._against(real, 1.0) + self._against(fake, 0.0))

    def generator_loss(self, fake: DiscriminatorOutput) -> Tensor:
        """Non-saturating: G pushes D's verdict on its output towards 'real'."""
        return self._against(fake, 1.0)


class VanillaGANLoss(_PatchwiseGANLoss):
    """The paper's objective: binary cross-entropy on logits, averaged over patches."""

    def criterion(self, logits: Tensor, target: float) -> Tensor:
        """BCE-with-logits against a constant label."""
        labels = logits.new_full((), target).expand_as(logits)
        return F.binary_cross_entropy_with_logits(logits, labels)


class LSGANLoss(_PatchwiseGANLoss):
    """Least-squares GAN (Mao et al.): mean squared error of logits against the label."""

    def criterion(self, logits: Tensor, target: float) -> Tensor:
        """MSE against a constant label."""
        return F.mse_loss(logits, logits.new_full((), target).expand_as(logits))


class L1Loss(nn.Module):
    """Mean absolute error between G's output and the target (the paper's λ·L1 term)."""

    def forward(self, inputs: LossInputs) -> Tensor:
        """|G(x) − y|₁, averaged over pixels and channels."""
        return F.l1_loss(inputs.output, inputs.target)


class HingeGANLoss(nn.Module):
    """Hinge GAN (Lim & Ye; as in SAGAN/BigGAN): D on ``relu(1 − real) + relu(1 + fake)``.

    D's loss is halved like the paper's (``0.5·(real + fake)``), and summed over scales; G's
    is ``−mean(D(fake))``.
    """

    def discriminator_loss(self, real: DiscriminatorOutput, fake: DiscriminatorOutput) -> Tensor:
        """Patch logits pushed above 1 for real, below −1 for fake."""
        real_term = sum(F.relu(1.0 - logits).mean() for logits in real.logits)
        fake_term = sum(F.relu(1.0 + logits).mean() for logits in fake.logits)
        return 0.5 * (real_term + fake_term)  # type: ignore[return-value]

    def generator_loss(self, fake: DiscriminatorOutput) -> Tensor:
        """G raises D's logits on its output."""
        return sum(-logits.mean() for logits in fake.logits)  # type: ignore[return-value]
