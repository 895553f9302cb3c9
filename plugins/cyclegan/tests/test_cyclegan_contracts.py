"""CycleGAN meets the method contract of i2i.testing: it trains and resumes exactly."""

from __future__ import annotations

from i2i.testing import check_method


def test_the_method_trains_and_resumes_exactly():
    check_method(
        "cyclegan",
        overrides=(
            "data.dataset={name: unpaired, of: {name: synthetic_shapes, size: 32, length: 8}}",
            "model.generator={name: resnet_6blocks, ngf: 4}",
            "model.conditional=false",
            "loss.adversarial={name: lsgan, weight: 1.0}",
            "loss.terms.l1.weight=0",
        ),
    )
