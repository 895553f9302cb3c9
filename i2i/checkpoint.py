"""Checkpoints: safetensors weights plus a JSON sidecar, written atomically, pruned to the last K.

``checkpoints/step_00001000.safetensors`` holds every tensor of the run state; the same
metadata (i2i version, step, the resolved recipe) is stored in the file's header and, for
people and tools, in ``step_00001000.json`` beside it. Nothing is pickled.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor

from i2i import __version__
from i2i.errors import CheckpointError

META_KEY = "i2i"
_UMASK = os.umask(0)
os.umask(_UMASK)


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Have ``write`` fill a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A crash at any point leaves either the old file or the new one, never a partial one.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.close(handle)
        write(temporary)
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; give it a normal file's mode
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_bytes(payload: bytes) -> Callable[[str], None]:
    return lambda name: Path(name).write_bytes(payload)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (the old file or the new one, never a part)."""
    _atomic_write(path, _write_bytes(text.encode()))


def checkpoint_path(folder: Path, step: int) -> Path:
    """Where the checkpoint of ``step`` lives."""
    return folder / f"step_{step:08d}.safetensors"


def write_checkpoint(path: Path, tensors: dict[str, Tensor], meta: dict[str, Any]) -> Path:
    """Write tensors to ``path`` and the metadata to its ``.json`` sidecar, each atomically."""
    meta = {"i2i_version": __version__, **meta}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Straight to the file: serialising to bytes first would double peak memory.
        header = {META_KEY: json.dumps(meta)}
        _atomic_write(path, lambda name: save_file(tensors, name, metadata=header))
        _atomic_write(path.with_suffix(".json"), _write_bytes(json.dumps(meta, indent=2).encode()))
    except OSError as error:
        raise CheckpointError(
            f"cannot write checkpoint '{path}': {error.strerror or error}; "
            "free disk space or fix the run directory's permissions "
            "(earlier checkpoints are intact)"
        ) from None
    return path


def save_checkpoint(
    folder: Path, tensors: dict[str, Tensor], meta: dict[str, Any], keep: int
) -> Path:
    """Write the checkpoint of ``meta["step"]`` and delete all but the newest ``keep``."""
    path = write_checkpoint(checkpoint_path(folder, int(meta["step"])), tensors, meta)
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)
    return path


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints in ``folder`` (weights and sidecar present), oldest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("step_*.safetensors") if p.with_suffix(".json").is_file()]
    return sorted(found)


def load_checkpoint(
    path: Path, prefix: str | None = None
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Read a checkpoint's metadata and its tensors (only those named ``prefix...`` if given)."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint '{path}' not found")
    try:
        with safe_open(str(path), "pt") as handle:
            header = handle.metadata() or {}
            names = [k for k in handle.keys() if prefix is None or k.startswith(prefix)]  # noqa: SIM118 (a safe_open handle is not iterable)
            tensors = {name: handle.get_tensor(name) for name in names}
        meta = json.loads(header[META_KEY])
    except (SafetensorError, OSError, KeyError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"'{path}' is not a readable i2i checkpoint ({type(error).__name__}: {error})"
        ) from None
    return tensors, meta
