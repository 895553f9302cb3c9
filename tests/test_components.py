"""Contracts every registered component must meet; new registrations are tested automatically."""

from __future__ import annotations

import pytest
import torch

from i2i.interfaces import (
    AdversarialLoss,
    DiscriminatorOutput,
    Generator,
    GeneratorLoss,
    LossInputs,
)
from i2i.plugins import load_plugins

REGISTRY = load_plugins().registry


@pytest.mark.parametrize("name", REGISTRY.names("generator"))
def test_generator_contract(name):
    generator = REGISTRY.build("generator", {"name": name}, in_channels=3, out_channels=2)
    assert isinstance(generator, Generator)
    # Twice the multiple: at the multiple itself an instance-norm bottleneck is 1×1, which
    # instance statistics cannot normalise (the authors' ResNet G at 4×4).
    side = 2 * generator.size_multiple
    with torch.no_grad():
        output = generator.eval()(torch.randn(1, 3, side, side))
    assert output.shape == (1, 2, side, side)


@pytest.mark.parametrize("name", REGISTRY.names("discriminator"))
def test_discriminator_contract(name):
    discriminator = REGISTRY.build("discriminator", {"name": name}, in_channels=5)
    assert discriminator.in_channels == 5
    output = discriminator(torch.randn(2, 5, 64, 64))
    assert isinstance(output, DiscriminatorOutput)
    assert output.logits and all(t.shape[:2] == (2, 1) for t in output.logits)
    assert len(output.features) == len(output.logits)


@pytest.mark.parametrize("name", REGISTRY.names("loss"))
def test_loss_contract(name):
    loss = REGISTRY.build("loss", {"name": name})
    logits = torch.randn(2, 1, 4, 4, requires_grad=True)
    verdict = DiscriminatorOutput([logits], [[torch.randn(2, 8, 4, 4, requires_grad=True)]])
    real = DiscriminatorOutput([logits.detach()], [[torch.randn(2, 8, 4, 4)]])
    if isinstance(loss, AdversarialLoss):
        values = [loss.discriminator_loss(real=verdict, fake=verdict), loss.generator_loss(verdict)]
    else:
        assert isinstance(loss, GeneratorLoss)
        image = torch.randn(2, 3, 8, 8, requires_grad=True)
        values = [
            loss(
                LossInputs(
                    input=image,
                    output=image,
                    target=torch.zeros_like(image),
                    fake=verdict,
                    real=real,
                )
            )
        ]
    for value in values:
        assert value.shape == () and torch.isfinite(value)
        value.backward(retain_graph=True)
