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
