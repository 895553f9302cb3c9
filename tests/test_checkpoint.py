"""Checkpoints: safetensors round trip of the whole run state, atomic writes, pruning."""

from __future__ import annotations

import json
import os

import pytest
import torch
from safetensors import safe_open
from torch import nn

from i2i.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from i2i.errors import CheckpointError, WriteError
from i2i.train.state import RunState

pytestmark = pytest.mark.fault


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _state(seed: int) -> RunState:
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    discriminator = nn.Conv2d(6, 1, 3)
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for _ in range(2):  # give Adam some moments
        for module, optimizer, channels in ((generator, opt_g, 3), (discriminator, opt_d, 6)):
            optimizer.zero_grad()
            module(torch.randn(2, channels, 8, 8)).square().mean().backward()
            optimizer.step()
    parts = {"generator": generator, "discriminator": discriminator}
    parts.update(optimizer_g=opt_g, optimizer_d=opt_d)
    return RunState(parts, step=2, epoch=1, position=5)


def test_run_state_round_trips_through_a_checkpoint(tmp_path):
    saved = _state(0)
    tensors, meta = saved.to_tensors()
    path = save_checkpoint(tmp_path, tensors, {**meta, "recipe": {"seed": 0}}, keep=3)
    assert path.name == "step_00000002.safetensors"
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["step"] == 2 and sidecar["recipe"] == {"seed": 0} and "i2i_version" in sidecar
    with safe_open(str(path), "pt") as handle:
        assert json.loads(handle.metadata()["i2i"])["step"] == 2

    restored = _state(1)
    restored.load_tensors(*load_checkpoint(path))
    assert (restored.step, restored.epoch, restored.position) == (2, 1, 5)
    for a, b in zip(
        saved.generator.state_dict().values(), restored.generator.state_dict().values()
    ):
        assert torch.equal(a, b)
    moments = restored.optimizer_g.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(moments, saved.optimizer_g.state_dict()["state"][0]["exp_avg"])


def test_keeps_only_the_newest(tmp_path):
    state = _state(0)
    for step in (10, 20, 30):
        state.step = step
        save_checkpoint(tmp_path, *state.to_tensors(), keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "step_00000020.safetensors",
        "step_00000030.safetensors",
    ]
    assert not list(tmp_path.glob("*.tmp")) and not (tmp_path / "step_00000010.json").exists()


def test_unusable_folder_fails_clearly(tmp_path):
    blocked = tmp_path / "checkpoints"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(WriteError, match="cannot write .*checkpoints"):
        save_checkpoint(blocked, *_state(0).to_tensors(), keep=3)
    assert blocked.read_text() == "a file where the folder should be"


def test_write_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    state = _state(0)
    previous = save_checkpoint(tmp_path, *state.to_tensors(), keep=3)

    def full_disk(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    state.step = 3
    with pytest.raises(WriteError, match="No space left on device; free disk space"):
        save_checkpoint(tmp_path, *state.to_tensors(), keep=3)
    assert list_checkpoints(tmp_path) == [previous]
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_loading_garbage_or_a_mismatched_model_fails_clearly(tmp_path):
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="not a readable i2i checkpoint"):
        load_checkpoint(bogus)
    path = save_checkpoint(tmp_path, *_state(0).to_tensors(), keep=1)
    other = _state(0)
    other.generator = nn.Sequential(nn.Conv2d(3, 8, 3))
    with pytest.raises(CheckpointError, match="does not fit this recipe's generator"):
        other.load_tensors(*load_checkpoint(path))


def _with_header(path, metadata: dict, tensors=None) -> None:
    from safetensors.torch import save_file

    save_file(tensors or {"generator.w": torch.zeros(1)}, str(path), metadata=metadata)


def test_header_metadata_of_the_wrong_kind_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "odd.safetensors"
    _with_header(path, {"i2i": json.dumps([1, 2, 3])})
    with pytest.raises(
        CheckpointError, match="'i2i' header metadata must be a JSON object, not list"
    ):
        load_checkpoint(path)
    _with_header(path, {"i2i": json.dumps({"step": "ten", "recipe": {}})})
    with pytest.raises(CheckpointError, match="header key 'step' must be an integer, not a string"):
        load_checkpoint(path)
    _with_header(path, {"i2i": json.dumps({"step": 1, "recipe": []})})
    with pytest.raises(CheckpointError, match="header key 'recipe' must be an object, not a list"):
        load_checkpoint(path)


def test_a_header_longer_than_the_limit_is_refused_before_it_is_read(tmp_path):
    from i2i.checkpoint import MAX_HEADER_BYTES

    path = tmp_path / "huge.safetensors"
    path.write_bytes((MAX_HEADER_BYTES + 1).to_bytes(8, "little") + b"{}")
    with pytest.raises(CheckpointError, match="header claims 16777217 bytes"):
        load_checkpoint(path)


def test_an_absurd_width_in_the_header_is_refused_before_allocating(tiny_checkpoint, tmp_path):
    import resource

    from i2i.inference.load import load_generator
    from i2i.plugins import default_registry

    tensors, meta = load_checkpoint(tiny_checkpoint)
    meta["recipe"]["model"]["generator"]["ngf"] = 200_000  # a U-Net of ~10^13 parameters
    hostile = tmp_path / "hostile.safetensors"
    _with_header(hostile, {"i2i": json.dumps(meta)}, tensors)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=r"do not fit the generator its recipe describes"):
        load_generator(hostile, default_registry())
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 200_000  # KiB
    meta["recipe"]["model"]["generator"] = {"name": "resnet_9blocks", "n_blocks": 10**7}
    _with_header(hostile, {"i2i": json.dumps(meta)}, tensors)
    with pytest.raises(CheckpointError, match=r"far larger than the \d+ tensors the file holds"):
        load_generator(hostile, default_registry())
    meta["recipe"]["model"]["in_channels"] = "three"
    _with_header(hostile, {"i2i": json.dumps(meta)}, tensors)
    with pytest.raises(CheckpointError, match="header key 'recipe.model.in_channels' must be"):
        load_generator(hostile, default_registry())


def test_only_the_latest_checkpoint_keeps_the_optimiser_state(tiny_recipe):
    from pathlib import Path

    from i2i.plugins import default_registry
    from i2i.train.loop import fit, prepare
    from i2i.train.resume import resume

    recipe = tiny_recipe("train.max_steps=6", "checkpoint.every=2", "checkpoint.keep=3")
    fit(prepare(recipe, Path(recipe.run.dir), default_registry()))
    older, previous, latest = list_checkpoints(Path(recipe.run.dir) / "checkpoints")
    for path in (older, previous):
        tensors, meta = load_checkpoint(path)
        assert meta["optimizer_state"] is False and not any(".state." in k for k in tensors)
    assert any(k.startswith("optimizer_g.state.") for k in load_checkpoint(latest)[0])
    assert latest.stat().st_size > 1.5 * previous.stat().st_size  # Adam's two moments
    latest.unlink()
    with pytest.warns(UserWarning, match="holds no optimiser state .* start afresh"):
        resumed = resume(Path(recipe.run.dir), [], default_registry())
    assert resumed.state.step == 4
