"""The multi-scale discriminator and feature matching, through i2i's public API only."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import i2i
from i2i.interfaces import DiscriminatorOutput, LossInputs
from i2i_multiscale import FeatureMatchingLoss, MultiScaleDiscriminator


def test_registered_through_the_entry_point():
    assert "multiscale" in i2i.list_components("discriminator")
    assert "feature_matching" in i2i.list_components("loss")
    listing = subprocess.run(
        [sys.executable, "-m", "i2i", "plugins"], capture_output=True, text=True, check=True
    ).stdout
    assert any(
        line.split()[:3] == ["discriminator", "multiscale", "multiscale"]
        for line in listing.splitlines()
    )
    assert "i2i-multiscale 0.1.0" in listing


def test_one_logit_map_and_feature_list_per_scale():
    discriminator = i2i.create("discriminator", {"name": "multiscale", "ndf": 8}, in_channels=6)
    output = discriminator(torch.randn(2, 6, 128, 128))
    assert isinstance(output, DiscriminatorOutput)
    sides = [logits.shape[-1] for logits in output.logits]
    assert len(sides) == 3 and sides[0] > sides[1] > sides[2]
    assert [len(features) for features in output.features] == [4, 4, 4]


def test_scales_see_downsampled_images():
    discriminator = MultiScaleDiscriminator(in_channels=3, num_scales=2, ndf=4, norm="none")
    image = torch.randn(1, 3, 64, 64, requires_grad=True)
    discriminator(image).logits[1].sum().backward()
    coarse_only = image.grad.clone()
    # The coarse scale sees a 3x3 average-pooled image, so its gradient is spread smoothly.
    assert coarse_only.abs().sum() > 0
    with pytest.raises(ValueError, match="num_scales"):
        MultiScaleDiscriminator(in_channels=3, num_scales=0)


def test_feature_matching_is_zero_for_identical_features_and_trains_only_g():
    loss = FeatureMatchingLoss()
    real_features = [[torch.ones(1, 2, 4, 4), torch.ones(1, 2, 2, 2)]]
    fake_feature = torch.zeros(1, 2, 4, 4, requires_grad=True)
    image = torch.zeros(1, 3, 8, 8)
    same = LossInputs(
        image,
        image,
        image,
        fake=DiscriminatorOutput([], real_features),
        real=DiscriminatorOutput([], real_features),
    )
    assert loss(same).item() == 0
    differing = LossInputs(
        image,
        image,
        image,
        fake=DiscriminatorOutput([], [[fake_feature, torch.ones(1, 2, 2, 2)]]),
        real=DiscriminatorOutput([], real_features),
    )
    value = loss(differing)
    assert value.item() == pytest.approx(4.0 / 2 * 1.0)  # layer weight 4/2, L1 of 1 on one layer
    value.backward()
    assert fake_feature.grad is not None
    with pytest.raises(ValueError, match="needs a discriminator"):
        loss(LossInputs(image, image, image))


def test_trains_two_steps_from_the_command_line(tmp_path):
    recipe = tmp_path / "multiscale.yaml"
    recipe.write_text(
        """
data:
  dataset: {name: synthetic_shapes, size: 32, length: 8}
  load_size: 32
  crop_size: 32
  num_workers: 0
  val_split: null
model:
  generator: {name: unet, depth: 5, ngf: 8}
  discriminator: {name: multiscale, ndf: 8, num_scales: 2}
loss:
  terms:
    l1: {weight: 100.0}
    feature_matching: {weight: 10.0}
train: {max_steps: 2, device: cpu}
log: {every: 1, val_images: 2, progress: false}
"""
    )
    run = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "i2i", "run", str(recipe), f"run.dir={run}"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [line for line in lines if "loss/d" in line]
    assert len(steps) == 2 and all(line["loss/feature_matching"] > 0 for line in steps)
