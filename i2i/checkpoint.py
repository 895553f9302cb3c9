"""Checkpoints: safetensors weights plus a JSON sidecar, written atomically, pruned to the last K.

``checkpoints/step_00001000.safetensors`` holds every tensor of the run state; the same
metadata (i2i version, step, the resolved recipe) is stored in the file's header and, for
people and tools, in ``step_00001000.json`` beside it. Nothing is pickled.
"""

from __future__ import annotations

import errno
import json
import os
import re
import struct
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor

from i2i import __version__
from i2i.errors import CheckpointError, quoted
from i2i.files import write_atomic
from i2i.outputs import OutputFolder

META_KEY = "i2i"

MAX_HEADER_BYTES = 16 * 2**20
"""Largest safetensors header read (names, shapes, metadata); i2i's are a few hundred KB."""

_META_TYPES: dict[str, tuple[type, ...]] = {
    "i2i_version": (str,),
    "step": (int,),
    "epoch": (int,),
    "position": (int,),
    "processes": (int,),
    "recipe": (dict,),
    "translators": (dict,),
    "grad_scaler": (dict,),
    "converted_from": (str,),
    "best": (dict,),
    "optimizer_state": (bool,),
    "data_depth": (dict,),
}
"""The type of every header key i2i reads; a checkpoint with another type is refused."""


def checkpoint_path(folder: Path, step: int) -> Path:
    """Where the checkpoint of ``step`` lives."""
    return folder / f"step_{step:08d}.safetensors"


def write_weights(
    path: Path,
    tensors: dict[str, Tensor],
    meta: dict[str, Any],
    outputs: OutputFolder | None = None,
) -> Path:
    """Write a checkpoint's safetensors file alone (no sidecar), atomically.

    Straight to the file: serialising to bytes first would double peak memory.
    """
    header = {META_KEY: json.dumps({"i2i_version": __version__, **meta})}
    write = outputs.write if outputs is not None else write_atomic
    write(path, lambda name: _save_tensors(tensors, name, header))
    return path


def _save_tensors(tensors: dict[str, Tensor], name: str, header: dict[str, str]) -> None:
    """safetensors' ``save_file``, its I/O failures (a full disk) raised as the OSError they are.

    The library reports them as its own ``SafetensorError`` carrying the OS error code in its
    text; as an OSError they become one :class:`~i2i.errors.WriteError` line naming the file.
    """
    try:
        save_file(tensors, name, metadata=header)
    except SafetensorError as error:
        found = re.search(r"(?:os error|code:) (\d+)", str(error))
        number = int(found.group(1)) if found else errno.EIO
        raise OSError(number, os.strerror(number), name) from None


def write_checkpoint(
    path: Path,
    tensors: dict[str, Tensor],
    meta: dict[str, Any],
    outputs: OutputFolder | None = None,
) -> Path:
    """Write tensors to ``path`` and the metadata to its ``.json`` sidecar, each atomically.

    With ``outputs`` (a command's output folder), both files go through its checks.
    """
    meta = {"i2i_version": __version__, **meta}
    sidecar = path.with_suffix(".json")
    if outputs is not None:
        outputs.check([path, sidecar])
    write_weights(path, tensors, meta, outputs)
    text = json.dumps(meta, indent=2).encode()
    write = outputs.write if outputs is not None else write_atomic
    write(sidecar, lambda name: Path(name).write_bytes(text))
    return path


def save_checkpoint(
    folder: Path,
    tensors: dict[str, Tensor],
    meta: dict[str, Any],
    keep: int,
    latest_only: tuple[str, ...] = (),
) -> Path:
    """Write the checkpoint of ``meta["step"]`` and delete all but the newest ``keep``.

    Tensors named ``latest_only`` prefixes (optimiser state: what only a resume needs) are
    then dropped from the older kept checkpoints, which are rewritten atomically.
    """
    path = write_checkpoint(checkpoint_path(folder, int(meta["step"])), tensors, meta)
    found = list_checkpoints(folder)
    for old in found[:-keep]:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)
    if latest_only:
        for older in found[-keep:-1]:
            shrink_checkpoint(older, latest_only)
    return path


def shrink_checkpoint(path: Path, prefixes: tuple[str, ...]) -> None:
    """Rewrite ``path`` without its tensors named ``prefixes...`` (once; marked in its meta)."""
    tensors, meta = load_checkpoint(path)
    if meta.get("optimizer_state") is False:
        return
    kept = {k: v for k, v in tensors.items() if not k.startswith(prefixes)}
    write_checkpoint(path, kept, {**meta, "optimizer_state": False})


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
        raise CheckpointError(f"checkpoint {quoted(path)} not found")
    _check_header_size(path)
    try:
        with safe_open(str(path), "pt") as handle:
            header = handle.metadata() or {}
            names = [k for k in handle.keys() if prefix is None or k.startswith(prefix)]  # noqa: SIM118 (a safe_open handle is not iterable)
            tensors = {name: handle.get_tensor(name) for name in names}
        meta = json.loads(header[META_KEY])
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CheckpointError(
            f"{quoted(path)} is not a readable i2i checkpoint ({type(error).__name__}: {first})"
        ) from None
    check_meta(meta, path)
    return tensors, meta


def tensor_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor in a checkpoint, read from its header alone."""
    _check_header_size(path)
    try:
        with safe_open(str(path), "pt") as handle:
            return {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{quoted(path)} is not a readable i2i checkpoint ({type(error).__name__}: {error})"
        ) from None


def _check_header_size(path: Path) -> None:
    """Refuse a header longer than :data:`MAX_HEADER_BYTES` before anything is parsed."""
    with path.open("rb") as stream:
        start = stream.read(8)
    if len(start) < 8:
        raise CheckpointError(f"{quoted(path)} is not a readable i2i checkpoint (under 8 bytes)")
    (length,) = struct.unpack("<Q", start)
    if length > MAX_HEADER_BYTES:
        raise CheckpointError(
            f"{quoted(path)} is not a readable i2i checkpoint (its header claims {length} bytes, "
            f"over the limit of {MAX_HEADER_BYTES}); it is damaged or of another kind"
        )


def check_meta(meta: Any, path: Path) -> None:
    """Refuse header metadata that is not a mapping, or whose known keys have the wrong type."""
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"{quoted(path)}: the '{META_KEY}' header metadata must be a JSON object, "
            f"not {type(meta).__name__}; the file is damaged or not an i2i checkpoint"
        )
    for key, types in _META_TYPES.items():
        if key in meta and meta[key] is None:
            del meta[key]  # null: as if absent, so readers' defaults apply
        value = meta.get(key)
        wrong_bool = isinstance(value, bool) and bool not in types
        if value is not None and (not isinstance(value, types) or wrong_bool):
            expected = " or ".join(_JSON_NAMES[t] for t in types)
            raise CheckpointError(
                f"{quoted(path)}: header key '{key}' must be {expected}, "
                f"not {_JSON_NAMES.get(type(value), type(value).__name__)}; "
                "the file is damaged or not an i2i checkpoint"
            )


_JSON_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "an integer",
    bool: "a boolean",
}
_JSON_NAMES.update({float: "a number"})
