"""No command's output replaces an input, or a file i2i did not write as that output."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from i2i.cli import main
from i2i.outputs import LEDGER_NAME
from tests.helpers import one_line_error

pytestmark = pytest.mark.fault


def _photos(folder: Path, count: int = 2) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index}.png")
    return _digests(folder)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != LEDGER_NAME
    }


def _i2i(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_translate_into_its_own_input_folder_is_refused_and_touches_nothing(
    tiny_checkpoint, tmp_path
):
    _photos(tmp_path / "photos")
    Image.open(tmp_path / "photos" / "0.png").save(tmp_path / "photos" / "2.jpg")
    before = _digests(tmp_path / "photos")
    for flags in ([], ["--overwrite"], ["--format", "keep"]):
        result = _i2i(
            "translate",
            "-c",
            tiny_checkpoint,
            "-o",
            tmp_path / "photos",
            *flags,
            tmp_path / "photos",
            "--no-progress",
        )
        assert "is the input folder" in one_line_error(result)
        assert _digests(tmp_path / "photos") == before  # not even a new 2.png beside 2.jpg
    assert not (tmp_path / "photos" / LEDGER_NAME).exists()
    single = _i2i(
        "translate",
        "-c",
        tiny_checkpoint,
        "-o",
        tmp_path / "photos",
        tmp_path / "photos" / "0.png",
        "--no-progress",
    )
    assert "is the input" in one_line_error(single)  # a file input: its output is itself


def test_translate_replaces_only_its_own_unchanged_outputs(tiny_checkpoint, tmp_path):
    _photos(tmp_path / "photos")
    out = tmp_path / "out"
    out.mkdir()
    (out / "1.png").write_bytes(b"the user's own picture")
    command = ["translate", "-c", tiny_checkpoint, "-o", out, "--no-progress", tmp_path / "photos"]

    refused = _i2i(*command)
    assert "would replace existing files" in one_line_error(refused)
    assert "--overwrite" in refused.stderr
    assert (out / "1.png").read_bytes() == b"the user's own picture"
    assert not (out / "0.png").exists()  # checked before anything was written

    assert _i2i(*command, "--overwrite").exit_code == 0
    assert Image.open(out / "1.png").size == (32, 32)
    assert _i2i(*command).exit_code == 0  # its own outputs of the same inputs: rerun freely

    (out / "0.png").write_bytes(b"edited by hand since")
    assert "would replace" in one_line_error(_i2i(*command))
    assert (out / "0.png").read_bytes() == b"edited by hand since"


def test_export_and_convert_never_replace_their_source_or_a_checkpoint(tiny_checkpoint, tmp_path):
    checkpoint = Path(tiny_checkpoint)
    original = checkpoint.read_bytes()
    for flags in ([], ["--overwrite"]):
        assert "is the input" in one_line_error(
            _i2i("export", "-c", checkpoint, checkpoint, *flags)
        )
        assert "is the input" in one_line_error(_i2i("convert", checkpoint, checkpoint, *flags))
    run_checkpoint = tmp_path / "run" / "checkpoints" / "step_00000004.safetensors"
    run_checkpoint.parent.mkdir(parents=True)
    run_checkpoint.write_bytes(b"a run's checkpoint")
    refused = _i2i("export", "-c", checkpoint, run_checkpoint)
    assert "would replace existing files" in one_line_error(refused)
    assert run_checkpoint.read_bytes() == b"a run's checkpoint"
    assert checkpoint.read_bytes() == original


def test_convert_checks_the_sidecar_too(tmp_path):
    import torch

    from tests.fixtures.official_unet import OfficialSpecUNet

    source = tmp_path / "5_net_G.pth"
    torch.save(OfficialSpecUNet(num_downs=6, ngf=8).state_dict(), source)
    target = tmp_path / "converted.safetensors"
    (tmp_path / "converted.json").write_text("my notes")
    assert "converted.json" in one_line_error(_i2i("convert", source, target))
    assert not target.exists() and (tmp_path / "converted.json").read_text() == "my notes"
    assert _i2i("convert", source, target, "--overwrite").exit_code == 0
    assert _i2i("convert", source, target).exit_code == 0  # its own output: rerun freely


def test_eval_keeps_a_report_it_did_not_write(tiny_checkpoint, tmp_path):
    data = tmp_path / "data" / "val"
    data.mkdir(parents=True)
    pair = np.random.default_rng(1).integers(0, 256, (64, 128, 3), dtype=np.uint8)
    Image.fromarray(pair).save(data / "1.png")
    out = tmp_path / "eval"
    out.mkdir()
    (out / "index.html").write_text("<p>my page</p>")
    command = [
        "eval",
        "-c",
        tiny_checkpoint,
        "--data",
        tmp_path / "data",
        "-o",
        out,
        "--size",
        "64",
        "--no-progress",
    ]
    assert "index.html" in one_line_error(_i2i(*command))
    assert (out / "index.html").read_text() == "<p>my page</p>"
    assert not (out / "images").exists()
    assert _i2i(*command, "--overwrite").exit_code == 0
    assert _i2i(*command).exit_code == 0
    assert (out / "images" / "1_output.png").is_file()
