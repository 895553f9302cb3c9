"""Helpers for tests that need installed-package metadata."""

from __future__ import annotations

import textwrap
from pathlib import Path


def plant_distribution(root: Path, module: str, source: str, entry_points: dict[str, str]) -> None:
    """Write an importable module plus installed-package metadata declaring i2i entry points.

    This is what pip leaves in site-packages, so importlib.metadata finds it the same way.
    """
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[i2i.plugins]\n{lines}\n")


def one_line_error(result) -> str:
    """The one ``i2i: error:`` line a failed command printed; asserts exit 2 and no traceback.

    ``result`` is click's ``CliRunner`` result or a ``subprocess.CompletedProcess``.
    """
    code = getattr(result, "exit_code", getattr(result, "returncode", None))
    stderr = result.stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("i2i: error:")]
    assert code == 2, f"exit {code}: {stderr}"
    assert "Traceback" not in stderr, stderr
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    return errors[0]


def invoke_eval(checkpoint: Path | str, data: Path, out: Path, *extra: str):
    """``i2i eval -c CHECKPOINT --data DATA -o OUT --no-progress EXTRA...`` in this process."""
    from click.testing import CliRunner

    from i2i.cli import main

    arguments = ["eval", "-c", str(checkpoint), "--data", str(data), "-o", str(out)]
    return CliRunner().invoke(main, [*arguments, "--no-progress", *extra])


def pip_install_into(target: Path, package: Path) -> None:
    """Install ``package`` into the folder ``target`` with pip (no dependencies, offline)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    command += ["--no-build-isolation", "--no-index", "--target", str(target), str(package)]
    subprocess.run(command, check=True, capture_output=True, text=True)


def resume_in_subprocess(run_dir: Path):
    """``python -m i2i resume RUN_DIR`` as a new process; its CompletedProcess."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "i2i", "resume", str(run_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)
