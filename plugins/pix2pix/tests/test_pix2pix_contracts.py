"""Every pix2pix component meets the contracts of i2i.testing, as a third party's would."""

from __future__ import annotations

from i2i.testing import check_generator, check_method, check_plugin


def test_every_component_meets_its_contract():
    checked = check_plugin("pix2pix")
    for expected in (
        "generator pix2pix:unet",
        "discriminator pix2pix:patchgan",
        "loss pix2pix:vanilla",
        "loss pix2pix:l1",
    ):
        assert expected in checked


def test_the_unet_meets_it_at_other_settings():
    check_generator("unet", {"depth": 5, "ngf": 8, "norm": "instance"}, in_channels=1)
    check_generator("resnet_6blocks", {"ngf": 8}, out_channels=3)


def test_the_method_trains_and_resumes_exactly():
    check_method("pix2pix")
