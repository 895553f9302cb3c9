"""One process per folder: the lock a run (or a study) holds on its directory while it works.

The lock is an advisory ``flock`` on ``FOLDER/.i2i.lock``. The kernel drops it when its
process ends, however it ends, so a lock left by a killed process is simply taken over; the
file only records who holds it, for the message a second process gets.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path

from i2i.errors import I2IError, WriteError, quoted

LOCK_NAME = ".i2i.lock"

_held: dict[Path, FolderLock] = {}


class FolderBusy(I2IError):
    """Another live process holds the folder's lock."""


class FolderLock:
    """The lock of one folder, held by this process (see :func:`lock_folder`)."""

    def __init__(self, folder: Path, descriptor: int) -> None:
        self.folder, self._descriptor = folder, descriptor

    def release(self) -> None:
        """Let another process take the folder."""
        if self._descriptor < 0:
            return
        _held.pop(self.folder.resolve(), None)
        with contextlib.suppress(OSError):
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        os.close(self._descriptor)
        self._descriptor = -1


def lock_folder(folder: Path, label: str = "folder") -> FolderLock:
    """Take ``folder``'s lock (creating the folder), or fail in one line naming its holder.

    Taking a lock this process already holds returns it. ``label`` names the folder in the
    message (``run.dir``, ``study folder``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _held:
        return _held[key]
    path = folder / LOCK_NAME
    while True:
        try:  # never through a symbolic link: a planted one would overwrite its target
            descriptor = os.open(
                path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644
            )
        except OSError as error:
            raise WriteError(path, error, " (nothing was changed)") from None
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise WriteError(path, OSError(errno.ENXIO, "not a regular file"), "")
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(path)
            os.close(descriptor)
            raise FolderBusy(
                f"{label} {quoted(folder)} is in use by {holder}; wait for it to finish or "
                f"stop it, or use another {label}"
            ) from None
        # Someone may have removed the file between our open and our lock: lock the new one.
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(descriptor).st_ino == os.stat(path).st_ino:
                break
        os.close(descriptor)
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(["i2i", *sys.argv[1:]])[:300],
    }
    os.ftruncate(descriptor, 0)
    os.write(descriptor, (json.dumps(holder) + "\n").encode())
    lock = FolderLock(folder, descriptor)
    _held[key] = lock
    return lock


def release_folder(folder: Path) -> None:
    """Release ``folder``'s lock if this process holds it."""
    lock = _held.get(folder.resolve())
    if lock is not None:
        lock.release()


def _describe(path: Path) -> str:
    """Who holds a lock, as its file records it."""
    try:
        holder = json.loads(path.read_text())
        return (
            f"process {holder['pid']} on {holder['host']} (since {holder['since']}: "
            f"{holder['command']})"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
