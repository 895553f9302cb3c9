"""The error hierarchy: every failure a user can fix is an :class:`I2IError`.

The command line prints ``str(error)`` on one line and exits non-zero, so each message
says what went wrong, where (recipe key, file, plugin) and what to do next.
"""

from __future__ import annotations

import difflib
import errno
import os
from collections.abc import Iterable
from pathlib import Path


class I2IError(Exception):
    """Base class of every error that i2i reports to a user without a traceback."""


class UnknownComponentError(I2IError, KeyError):
    """A component name, or one of its arguments, is not known to the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class RecipeError(I2IError):
    """A recipe file or a command-line override is invalid."""


class PluginError(I2IError):
    """A plugin could not be loaded or contributed something invalid."""


class DataError(I2IError):
    """A dataset, a data folder or an image file cannot be used."""


class MissingDataset(DataError):
    """The folder of an official dataset is missing; ``i2i data download`` can fetch it."""

    def __init__(self, message: str, dataset: str, parent: Path) -> None:
        super().__init__(message)
        self.dataset, self.parent = dataset, parent


class TooManyPixels(DataError):
    """An image declares more pixels than the limit: refused from its header, undecoded.

    Attributes:
        pixels: the pixels it declares (None where only Pillow's own guard knows).
        limit: the limit it is over.
        size: its ``(width, height)``, where known.
    """

    def __init__(
        self, name: object, pixels: int | None, limit: int, size: tuple[int, int] | None = None
    ) -> None:
        self.pixels, self.limit, self.size = pixels, limit, size
        shown = f"{pixels} pixels" if pixels is not None else "too many pixels"
        if size is not None:
            shown = f"{size[0]}x{size[1]} = {shown}"
        super().__init__(
            f"image {quoted(name)} is {shown}, over the limit of {limit} (a guard against "
            "decompression bombs); if it is genuine, raise data.max_pixels (or --max-pixels, "
            "or $I2I_MAX_PIXELS)"
        )


class DeviceError(I2IError):
    """The device asked for does not exist on this machine."""


class CheckpointError(I2IError):
    """A checkpoint cannot be written or read."""


def closest(word: str, choices: Iterable[str]) -> str | None:
    """Return the choice most similar to ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return " Did you mean 'x'?" for the closest choice, or an empty string."""
    match = closest(word, choices)
    return f" Did you mean '{match}'?" if match else ""


def quoted(value: object) -> str:
    """A file name (or any value) quoted as Python's repr does, so no character can break a line."""
    return repr(os.fspath(value) if isinstance(value, os.PathLike) else str(value))


_WRITE_ADVICE = {
    errno.ENOSPC: "free disk space",
    errno.EDQUOT: "free space within your disk quota",
    errno.EACCES: "fix its permissions",
    errno.EPERM: "fix its permissions",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.EIO: "the disk reported an I/O error; check it",
    errno.ENOENT: "its folder vanished; check the path",
    errno.EFBIG: "the file system (or a ulimit) caps file sizes; write elsewhere",
    errno.ELOOP: "it is a symbolic link, and i2i never writes through one: remove the link",
    errno.EISDIR: "it is a folder; remove or rename it",
    errno.ENXIO: "it is not a regular file; remove it",
}


class WriteError(I2IError):
    """A file could not be written (disk full, permissions, read-only or failing disk)."""

    def __init__(self, path: Path | str, error: OSError, after: str = "") -> None:
        self.path, self.errno, self.os_error, self.after = Path(path), error.errno, error, after
        reason = error.strerror or type(error).__name__
        advice = _WRITE_ADVICE.get(error.errno or -1, "check the path and the disk")
        super().__init__(f"cannot write {quoted(path)}: {reason}; {advice}{after}")

    def extended(self, after: str) -> WriteError:
        """The same error with ``after`` appended to its message."""
        return WriteError(self.path, self.os_error, self.after + after)


class ComponentBuildError(I2IError):
    """A registered component refused the arguments a recipe gave it."""


class RunInterrupted(I2IError):
    """SIGINT or SIGTERM stopped a run after saving a checkpoint; ``i2i resume`` continues it."""


class DataWarning(UserWarning):
    """Something in the data that i2i works around but the user should know about."""
