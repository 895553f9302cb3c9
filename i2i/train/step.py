"""One training iteration, in the paper's order.

1. ``fake = G(x)``.
2. D step: D on (x, fake) detached and on (x, y), in two separate passes (BatchNorm
   statistics are per pass); D's loss; Adam step on D.
3. G step with D frozen: D on (x, fake); adversarial loss plus the weighted terms (λ·L1);
   Adam step on G.

Under torchrun G and D arrive wrapped in DistributedDataParallel; G's step calls the bare D,
which has no gradient to average, and every process agrees on whether an update is taken.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from i2i.errors import I2IError
from i2i.interfaces import DiscriminatorOutput, LossInputs
from i2i.train.build import Models
from i2i.train.distributed import all_processes, unwrapped
from i2i.train.precision import FP32, Precision


def _requires_grad(module: nn.Module, flag: bool) -> None:
    for parameter in module.parameters():
        parameter.requires_grad_(flag)


def _detached(output: DiscriminatorOutput) -> DiscriminatorOutput:
    return DiscriminatorOutput(
        [t.detach() for t in output.logits], [[f.detach() for f in fs] for fs in output.features]
    )


def train_step(
    models: Models,
    optimizer_g: Optimizer,
    optimizer_d: Optimizer | None,
    input: Tensor,
    target: Tensor,
    skip_nonfinite: bool = False,
    precision: Precision = FP32,
) -> dict[str, Tensor]:
    """Run one iteration on a batch; returns the detached loss values by name.

    A NaN or infinite loss raises :class:`NonFiniteLoss` before its optimiser step, or, with
    ``skip_nonfinite``, leaves that network's weights untouched for this batch. ``precision``
    autocasts the passes (and scales the losses for fp16).
    """
    generator, discriminator = models.generator, models.discriminator
    with precision.autocast():
        output = generator(input)
    losses: dict[str, Tensor] = {}

    def judged(image: Tensor) -> Tensor:
        return torch.cat([input, image], dim=1) if models.conditional else image

    fake_judged: DiscriminatorOutput | None = None
    real_judged: DiscriminatorOutput | None = None
    if discriminator is not None and models.adversarial is not None and optimizer_d is not None:
        _requires_grad(discriminator, True)
        optimizer_d.zero_grad(set_to_none=True)
        with precision.autocast():
            fake_for_d = discriminator(judged(output.detach()))
            real_judged = discriminator(judged(target))
            loss_d = models.adversarial.discriminator_loss(real=real_judged, fake=fake_for_d)
        precision.backward(loss_d)
        if _finite(loss_d, "d", skip_nonfinite):
            precision.step(optimizer_d)
        losses["d"] = loss_d.detach()
        real_judged = _detached(real_judged)

        _requires_grad(discriminator, False)  # G's step must not accumulate grads in D
        with precision.autocast():
            fake_judged = unwrapped(discriminator)(judged(output))
            loss_g_adv = models.adversarial.generator_loss(fake_judged)
        losses["g_adv"] = loss_g_adv.detach()
        loss_g = models.adversarial_weight * loss_g_adv
    else:
        loss_g = output.new_zeros(())

    inputs = LossInputs(
        input=input, output=output, target=target, fake=fake_judged, real=real_judged
    )
    with precision.autocast():
        for label, term in models.terms.items():
            value = term.loss(inputs)
            losses[label] = value.detach()
            loss_g = loss_g + term.weight * value
    optimizer_g.zero_grad(set_to_none=True)
    precision.backward(loss_g)
    if _finite(loss_g, _culprit(losses), skip_nonfinite):
        precision.step(optimizer_g)
    precision.update()
    losses["g"] = loss_g.detach()
    return losses


class NonFiniteLoss(I2IError):
    """A loss became NaN or infinite (and the run does not skip such batches)."""


def _finite(loss: Tensor, name: str, skip: bool) -> bool:
    """True to take the optimiser step; a non-finite loss raises, or is skipped when asked.

    Under torchrun, a non-finite loss on any process counts for all: their averaged
    gradients are not finite either.
    """
    if all_processes(bool(torch.isfinite(loss)), loss.device):
        return True
    if skip:
        return False
    if bool(torch.isfinite(loss)):
        raise NonFiniteLoss(f"loss '{name}' is not finite on another process")
    raise NonFiniteLoss(f"loss '{name}' is {loss.item()}")


def _culprit(losses: dict[str, Tensor]) -> str:
    """The first non-finite term of G's loss, else 'g' itself."""
    bad = [name for name, value in losses.items() if name != "d" and not torch.isfinite(value)]
    return bad[0] if bad else "g"
