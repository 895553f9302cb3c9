"""The multi-scale discriminator and feature matching meet the contracts of i2i.testing."""

from __future__ import annotations

from i2i.testing import check_plugin


def test_every_component_meets_its_contract():
    checked = check_plugin("multiscale")
    assert any(c.startswith("discriminator") for c in checked)
    assert any(c.startswith("loss") for c in checked)
