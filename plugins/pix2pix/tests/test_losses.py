"""The GAN objectives and L1, checked against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from i2i.interfaces import DiscriminatorOutput, LossInputs
from i2i_pix2pix import HingeGANLoss, L1Loss, LSGANLoss, VanillaGANLoss


def _out(*values: float) -> DiscriminatorOutput:
    return DiscriminatorOutput([torch.tensor(v).view(1, 1, 1, 1) for v in values], [])


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_vanilla_is_halved_bce_for_d_and_non_saturating_for_g():
    loss = VanillaGANLoss()
    # BCE(logit, 1) = softplus(-logit); BCE(logit, 0) = softplus(logit)
    d = loss.discriminator_loss(real=_out(2.0), fake=_out(-1.0))
    assert d.item() == pytest.approx(0.5 * (_softplus(-2.0) + _softplus(-1.0)))
    assert loss.generator_loss(_out(-1.0)).item() == pytest.approx(_softplus(1.0))


def test_lsgan_is_squared_distance_to_labels():
    loss = LSGANLoss()
    assert loss.discriminator_loss(real=_out(0.5), fake=_out(0.25)).item() == pytest.approx(
        0.5 * (0.25 + 0.0625)
    )
    assert loss.generator_loss(_out(0.25)).item() == pytest.approx(0.5625)


def test_scales_are_summed():
    loss = VanillaGANLoss()
    assert loss.generator_loss(_out(0.0, 0.0)).item() == pytest.approx(2 * math.log(2))


def test_l1_is_the_mean_absolute_difference():
    output, target = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    assert L1Loss()(LossInputs(input=output, output=output, target=target)).item() == 0.5


def test_hinge_penalises_only_inside_the_margin():
    loss = HingeGANLoss()
    # real 0.5 → relu(1 - 0.5) = 0.5; fake -2 → relu(1 - 2) = 0: halved sum 0.25
    assert loss.discriminator_loss(real=_out(0.5), fake=_out(-2.0)).item() == pytest.approx(0.25)
    assert loss.discriminator_loss(real=_out(3.0), fake=_out(-3.0)).item() == 0.0
    assert loss.generator_loss(_out(0.75, -0.25)).item() == pytest.approx(-0.5)
