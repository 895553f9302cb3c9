"""Full disks and refused writes: one line naming the file, nothing partial, resumable after."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from i2i.cli import main
from tests.conftest import TINY_OVERRIDES
from tests.helpers import one_line_error

pytestmark = pytest.mark.fault
QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"


def _fail_fsync_of(monkeypatch, name: str, code: int = errno.ENOSPC) -> None:
    """Make fsync fail, as a full disk does, for the temporaries of files called ``name``."""
    real = os.fsync

    def fsync(descriptor: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{descriptor}")).name.startswith(f".{name}."):
            raise OSError(code, os.strerror(code))
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)


def _run(run_dir: Path, *extra: str):
    arguments = ["run", str(QUICKSTART), *TINY_OVERRIDES, f"run.dir={run_dir}", *extra]
    return CliRunner().invoke(main, arguments)


def _leftovers(run_dir: Path) -> list[str]:
    return [p.name for p in run_dir.rglob("*") if "tmp" in p.name]


def test_a_full_disk_at_the_start_leaves_nothing_half_written(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    _fail_fsync_of(monkeypatch, "config.yaml")
    line = one_line_error(_run(run_dir, "train.max_steps=2"))
    assert f"cannot write '{run_dir / 'config.yaml'}': No space left on device" in line
    assert not (run_dir / "config.yaml").exists() and not _leftovers(run_dir)
    monkeypatch.undo()
    assert _run(run_dir, "train.max_steps=2").exit_code == 0  # the same command, once freed


def test_a_full_disk_at_a_checkpoint_says_how_to_continue(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    _fail_fsync_of(monkeypatch, "step_00000004.safetensors")
    line = one_line_error(_run(run_dir, "train.max_steps=6", "checkpoint.every=2"))
    assert "step_00000004.safetensors': No space left on device; free disk space" in line
    assert f"continue with i2i resume {run_dir}" in line
    assert not _leftovers(run_dir)
    monkeypatch.undo()
    resumed = CliRunner().invoke(main, ["resume", str(run_dir)])
    assert resumed.exit_code == 0 and "resuming at step 2 of 6" in resumed.stderr


def test_a_full_disk_while_logging_metrics_is_one_line(tmp_path, monkeypatch):
    from i2i.train import records

    run_dir = tmp_path / "run"
    real_open = records.open_for_appending

    def open_full(path, binary=False):  # metrics.jsonl on a full disk
        if Path(path).name == "metrics.jsonl":
            return open("/dev/full", "a", buffering=1)  # noqa: SIM115
        return real_open(path, binary)

    monkeypatch.setattr(records, "open_for_appending", open_full)
    line = one_line_error(_run(run_dir, "train.max_steps=2"))
    assert f"cannot write '{run_dir / 'metrics.jsonl'}': No space left on device" in line


def test_a_full_disk_at_resume_keeps_the_metrics_and_the_config(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    assert _run(run_dir, "train.max_steps=4", "checkpoint.every=2", "log.every=1").exit_code == 0
    (run_dir / "checkpoints" / "step_00000004.safetensors").unlink()  # as if killed at step 3
    for name in ("metrics.jsonl", "config.yaml"):  # rewritten (atomically) at every resume
        before = (run_dir / name).read_text()
        _fail_fsync_of(monkeypatch, name)
        line = one_line_error(CliRunner().invoke(main, ["resume", str(run_dir)]))
        assert f"{name}': No space left on device" in line
        assert (run_dir / name).read_text() == before
        assert not _leftovers(run_dir)
        monkeypatch.undo()
    assert CliRunner().invoke(main, ["resume", str(run_dir)]).exit_code == 0
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").open()]
    assert [s for s in steps if s > 0] == sorted(s for s in steps if s > 0)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.EIO])
def test_other_refused_writes_name_the_file_and_the_cause(
    tiny_checkpoint, tmp_path, monkeypatch, code
):
    from PIL import Image

    Image.new("RGB", (32, 32)).save(tmp_path / "in.png")
    _fail_fsync_of(monkeypatch, "in.png", code)
    result = CliRunner().invoke(
        main,
        [
            "translate",
            "-c",
            str(tiny_checkpoint),
            "-o",
            str(tmp_path / "out"),
            str(tmp_path / "in.png"),
            "--no-progress",
        ],
    )
    line = one_line_error(result)
    assert f"cannot write '{tmp_path / 'out' / 'in.png'}': {os.strerror(code)}" in line
    assert not (tmp_path / "out" / "in.png").exists() and not _leftovers(tmp_path / "out")


SIZE_CAPPED = """
import resource, signal, sys
from pathlib import Path
import torch
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
from i2i.checkpoint import write_checkpoint
from i2i.errors import WriteError
try:
    write_checkpoint(Path(sys.argv[1]) / "big.safetensors", {"w": torch.zeros(1_000_000)}, {})
except WriteError as error:
    print(error)
"""


def test_safetensors_failing_to_write_is_a_write_error_naming_the_file(tmp_path):
    import subprocess
    import sys

    # a real failure of the real writer: the file-size limit cuts the write short (EFBIG)
    result = subprocess.run(
        [sys.executable, "-c", SIZE_CAPPED, str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.strip() == (
        f"cannot write '{tmp_path / 'big.safetensors'}': File too large; the file system "
        "(or a ulimit) caps file sizes; write elsewhere"
    )
    assert list(tmp_path.iterdir()) == []  # no partial file, no temporary


def test_a_full_disk_while_drawing_the_loss_plot_is_one_line(tmp_path, monkeypatch):
    """The plot is drawn on a thread of its own; its failure still stops the run on one line."""
    run_dir = tmp_path / "run"
    _fail_fsync_of(monkeypatch, "losses.png")
    arguments = ("train.max_steps=4", "log.sample_every=2", "checkpoint.every=2")
    line = one_line_error(_run(run_dir, *arguments))
    assert f"cannot write '{run_dir / 'losses.png'}': No space left on device" in line
    assert f"continue with i2i resume {run_dir}" in line
    assert not (run_dir / "losses.png").exists() and not _leftovers(run_dir)
    monkeypatch.undo()
    resumed = CliRunner().invoke(main, ["resume", str(run_dir)])
    assert resumed.exit_code == 0, resumed.stderr
    assert (run_dir / "losses.png").is_file()
