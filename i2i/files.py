"""Writing files so that no failure leaves a partial one or a traceback.

Every file i2i replaces goes through :func:`write_atomic`: a temporary file beside the
target, fsynced, then renamed over it, so a crash or a full disk leaves the old file or the
new one. Every write failure becomes one :class:`~i2i.errors.WriteError` line naming the
path. Temporaries a killed process left behind are recognisable by name and removed by
:func:`remove_stray_temporaries` when the next process takes over the folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from i2i.errors import WriteError

TEMPORARY_SUFFIX = ".i2i-tmp"
"""Name ending of the temporary files :func:`write_atomic` makes (``.NAME.XXXX.i2i-tmp``)."""

_STRAY = re.compile(rf"^\..+\.[a-z0-9_]{{8}}({re.escape(TEMPORARY_SUFFIX)}|\.tmp)$")
"""A temporary of :func:`write_atomic` (or of i2i 0.1.0, which ended them in ``.tmp``)."""

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def writing(path: Path | str, after: str = "") -> Iterator[None]:
    """Turn an OSError raised inside into a one-line :class:`WriteError` naming ``path``.

    ``after`` is appended to the message (what is still intact, how to continue).
    """
    try:
        yield
    except OSError as error:
        raise WriteError(path, error, after) from None


def write_atomic(path: Path, write: Callable[[str], None]) -> None:
    """Have ``write`` fill a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A crash at any point leaves either the old file or the new one, never a partial one; a
    failure removes the temporary and raises :class:`WriteError`.
    """
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX
        )
        try:
            os.close(handle)
            write(temporary)
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; give it a normal mode
            with open(temporary, "rb+") as stream:
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def open_for_appending(path: Path | str, binary: bool = False) -> IO[Any]:
    """Open ``path`` to append to (creating it), never through a symbolic link.

    Appending follows links, so a link planted where a log or a lock belongs (on a shared
    cluster file system, say) would make i2i write into the file it points at. Refused, as a
    FIFO or a device is, with a one-line :class:`WriteError`.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
    with writing(path):
        descriptor = os.open(path, flags, 0o666)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise OSError(errno.ENXIO, "not a regular file", str(path))
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "ab" if binary else "a", buffering=-1 if binary else 1)


def write_bytes_atomic(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` atomically."""
    write_atomic(path, lambda name: Path(name).write_bytes(payload))


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (the old file or the new one, never a part)."""
    write_bytes_atomic(path, text.encode())


def remove_stray_temporaries(folder: Path) -> list[Path]:
    """Delete the temporaries that killed i2i processes left in ``folder``; returns them.

    Only call this while holding the folder's lock (:mod:`i2i.lock`): another process's
    temporaries are not strays.
    """
    if not folder.is_dir():
        return []
    strays = [p for p in folder.iterdir() if _STRAY.match(p.name) and p.is_file()]
    for stray in strays:
        stray.unlink(missing_ok=True)
    return strays
