"""The command line: one-line errors with non-zero exit, listings, a real run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from i2i import __version__
from i2i.cli import main
from tests.conftest import TINY_OVERRIDES

ROOT = Path(__file__).parents[1]


def _i2i(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "i2i", *args], capture_output=True, text=True, cwd=cwd
    )


def test_misspelled_key_is_one_line_and_exit_2():
    result = _i2i("run", str(ROOT / "recipes" / "pix2pix_maps.yaml"), "trian.max_steps=5")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "i2i: error: override 'trian.max_steps=5': unknown key 'trian.max_steps'. "
        "Did you mean 'train.max_steps'?"
    ]


def test_unknown_component_is_one_line(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(ROOT / "recipes" / "quickstart.yaml"),
            "model.generator.name=unett",
            f"run.dir={tmp_path / 'r'}",
        ],
    )
    assert result.exit_code == 2
    assert "Did you mean 'unet'?" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()  # nothing written for a recipe that failed its checks


@pytest.mark.fault
def test_missing_data_is_one_line(tmp_path):
    result = CliRunner().invoke(
        main,
        ["run", str(ROOT / "recipes" / "pix2pix_maps.yaml"), f"data.root={tmp_path / 'nowhere'}"],
    )
    assert result.exit_code == 2
    assert "nowhere/train' does not exist" in result.output


@pytest.mark.fault
def test_corrupt_image_in_a_worker_is_one_line(tmp_path):
    (tmp_path / "data" / "train").mkdir(parents=True)
    (tmp_path / "data" / "train" / "1.jpg").write_bytes(b"garbage")
    overrides = [
        o for o in TINY_OVERRIDES if not o.startswith(("data.dataset", "data.num_workers"))
    ]
    result = _i2i(
        "run",
        str(ROOT / "recipes" / "quickstart.yaml"),
        *overrides,
        "data.dataset.name=aligned",
        "~data.dataset.size",
        "~data.dataset.length",
        f"data.root={tmp_path / 'data'}",
        "data.val_split=null",
        "data.num_workers=1",
        f"run.dir={tmp_path / 'run'}",
        "data.batch_size=1",
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot decode image" in lines[0] and "1.jpg" in lines[0]


def test_the_command_line_loads_without_torch():
    # `i2i --help` and a mistyped command answer at once: torch (about 2 s to import) is
    # imported by the commands that need it, never by loading the command line itself.
    code = (
        "import sys, i2i.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout[:300]


def test_plugins_lists_components_with_their_plugin():
    output = CliRunner().invoke(main, ["plugins"]).output
    rows = {tuple(line.split()[:3]) for line in output.splitlines()}
    assert ("generator", "unet", "pix2pix") in rows
    assert ("generator", "encoder_decoder", "pix2pix") in rows
    assert ("discriminator", "patchgan", "pix2pix") in rows
    assert ("dataset", "aligned", "i2i-data") in rows
    filtered = CliRunner().invoke(main, ["plugins", "--kind", "loss"]).output
    assert "vanilla" in filtered and "patchgan" not in filtered


def test_version_and_config_show():
    assert __version__ in CliRunner().invoke(main, ["--version"]).output
    shown = CliRunner().invoke(
        main, ["config", "show", str(ROOT / "recipes" / "pix2pix_maps.yaml"), "data.direction=BtoA"]
    )
    assert shown.exit_code == 0 and "direction: BtoA" in shown.output


@pytest.mark.slow
def test_run_writes_a_run_directory(tmp_path):
    result = _i2i(
        "run",
        str(ROOT / "recipes" / "quickstart.yaml"),
        *TINY_OVERRIDES,
        "train.max_steps=3",
        f"run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    run = tmp_path / "run"
    assert (run / "config.yaml").is_file() and (run / "metrics.jsonl").is_file()
    assert list((run / "checkpoints").glob("*.safetensors"))
    assert list((run / "samples").glob("*.png"))


@pytest.mark.fault
def test_warnings_print_as_one_line(tmp_path):
    split = tmp_path / "pairs" / "train"
    split.mkdir(parents=True)
    (split / "readme.md").write_text("not an image")
    Image.new("RGB", (64, 32)).save(split / "1.png")
    result = _i2i(
        "run",
        str(ROOT / "recipes" / "quickstart.yaml"),
        *TINY_OVERRIDES,
        "data.dataset={name: aligned}",
        f"data.root={tmp_path / 'pairs'}",
        "data.val_split=null",
        "train.max_steps=0",
        f"run.dir={tmp_path / 'run'}",
    )
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("i2i: warning")]
    assert len(warning) == 1 and warning[0].startswith("i2i: warning: data folder")
    assert "readme.md" in warning[0]


@pytest.mark.fault
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["translate", "--load-size", "-5"], "'--load-size': -5 is not in the range x>=0"),
        (["translate", "--tile", "0"], "'--tile'"),
        (["translate", "--device", "nonsense"], "'nonsense' is not a device"),
        (["translate", "--device", "cuda:99"], "'cuda:99'"),
        (["eval", "--size", "-1", "--data", "."], "'--size': -1 is not in the range x>=1"),
    ],
)
def test_command_line_values_are_checked_before_any_work(
    tiny_checkpoint, tmp_path, arguments, expected
):
    from tests.helpers import one_line_error

    command, *options = arguments
    full = [command, "-c", str(tiny_checkpoint), "-o", str(tmp_path / "out"), *options]
    if command == "translate":
        full.append(str(tmp_path))
    line = one_line_error(CliRunner().invoke(main, full))
    assert expected in line and f"see i2i {command} --help" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.fault
def test_bad_recipes_and_run_dirs_are_one_line(tmp_path):
    from tests.helpers import one_line_error

    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(bytes(range(256)) * 4)
    assert "is not a text file" in one_line_error(CliRunner().invoke(main, ["run", str(garbage)]))
    quickstart = str(ROOT / "recipes" / "quickstart.yaml")
    zero = CliRunner().invoke(main, ["run", quickstart, "log.val_images=0"])
    assert "log.val_images: must be at least 1, got 0" in one_line_error(zero)
    occupied = tmp_path / "a_file"
    occupied.write_text("mine")
    for command in (["run", quickstart, f"run.dir={occupied}"], ["resume", str(occupied)]):
        assert "is a file" in one_line_error(CliRunner().invoke(main, command))
    assert occupied.read_text() == "mine"


def test_plugins_name_lists_the_arguments_with_defaults_and_meaning():
    result = CliRunner().invoke(main, ["plugins", "patchgan"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["n_layers", "3"] and "stride-2" in line for line in lines)
    assert any(line.split()[:3] == ["in_channels", "(given", "by"] for line in lines)
