"""The timm-backed U-Net meets the generator contract of i2i.testing."""

from __future__ import annotations

from i2i.testing import check_generator, check_plugin


def test_every_component_meets_its_contract():
    assert check_plugin("timm-unet")


def test_other_settings_meet_it_too():
    check_generator(
        "timm_unet", {"decoder_channels": [64, 32, 16, 8, 8], "norm": "none"}, in_channels=1
    )
