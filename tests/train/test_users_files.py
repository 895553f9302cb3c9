"""Files a user owns are never written through a planted link nor removed as a run's own."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY_OVERRIDES
from tests.helpers import one_line_error

pytestmark = pytest.mark.fault

QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"


def i2i(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "i2i", *arguments], capture_output=True, text=True, timeout=300
    )


def digest(folder: Path) -> dict[str, str]:
    """Every entry below ``folder``: file hashes, and where each link points."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    trained = i2i("run", str(QUICKSTART), *TINY_OVERRIDES, "train.max_steps=2", f"run.dir={run}")
    assert trained.returncode == 0, trained.stderr
    return run


@pytest.mark.slow
def test_a_lock_planted_as_a_link_is_refused_and_its_target_kept(finished_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    precious = tmp_path / "precious.txt"
    precious.write_text("the user's own file\n")
    (run / ".i2i.lock").unlink(missing_ok=True)
    (run / ".i2i.lock").symlink_to(precious)
    before = digest(run)
    line = one_line_error(i2i("resume", str(run), "train.max_steps=4"))
    assert ".i2i.lock" in line and "symbolic link" in line and "nothing was changed" in line
    assert precious.read_text() == "the user's own file\n"
    assert digest(run) == before


@pytest.mark.slow
def test_a_metrics_log_planted_as_a_link_is_never_written_through(finished_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    precious = tmp_path / "precious.jsonl"
    precious.write_text((run / "metrics.jsonl").read_text())
    kept = precious.read_bytes()
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").symlink_to(precious)
    resumed = i2i("resume", str(run), "train.max_steps=4")
    assert resumed.returncode == 0, resumed.stderr
    assert precious.read_bytes() == kept  # the link was replaced by the run's own file
    assert not (run / "metrics.jsonl").is_symlink()
    assert '"step": 4' in (run / "metrics.jsonl").read_text()


def test_appending_never_follows_a_link_nor_opens_a_fifo(tmp_path):
    from i2i.errors import WriteError
    from i2i.files import open_for_appending

    precious = tmp_path / "precious.txt"
    precious.write_text("mine\n")
    (tmp_path / "log").symlink_to(precious)
    with pytest.raises(WriteError, match="symbolic link"):
        open_for_appending(tmp_path / "log")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(WriteError, match="not a regular file"):
        open_for_appending(tmp_path / "fifo")
    assert precious.read_text() == "mine\n"
    with open_for_appending(tmp_path / "new.log") as stream:
        stream.write("appended\n")
    assert (tmp_path / "new.log").read_text() == "appended\n"


def test_run_resume_refuses_a_folder_of_someone_elses_files_and_changes_nothing(tmp_path):
    project = tmp_path / "my_project"
    (project / "samples").mkdir(parents=True)
    (project / "config.yaml").write_text("my: own config\n")
    (project / "samples" / "figure1.png").write_bytes(b"\x89PNG my figure")
    (project / "samples" / "step_00000000.png").write_bytes(b"\x89PNG named like a grid")
    before = digest(project)
    refused = i2i("run", "--resume", str(QUICKSTART), *TINY_OVERRIDES, f"run.dir={project}")
    line = one_line_error(refused)
    assert "holds files i2i did not write" in line and "nothing was changed" in line
    assert digest(project) == before
    assert sorted(p.name for p in project.iterdir()) == ["config.yaml", "samples"]


@pytest.mark.slow
def test_a_refused_resume_leaves_every_byte_of_the_run_as_it_was(finished_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / ".i2i.lock").write_text('{"pid": 1, "note": "an earlier holder"}\n')
    before = digest(run)
    line = one_line_error(i2i("resume", str(run), "model.generator.depth=4"))
    assert "trained with another model" in line
    assert digest(run) == before  # the lock file included
    refused = i2i("run", str(QUICKSTART), *TINY_OVERRIDES, "trian.max_steps=3",
                  f"run.dir={tmp_path / 'new'}")  # fmt: skip
    assert refused.returncode == 2 and not (tmp_path / "new").exists()
