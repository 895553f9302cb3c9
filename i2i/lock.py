"""One process per folder: the lock a run (or a study) holds on its directory while it works.

The lock is an advisory ``flock`` on ``FOLDER/.i2i.lock``. The kernel drops it when its
process ends, however it ends, so a lock left by a killed process is simply taken over; the
file only records who holds it, for the message a second process gets.
"""

from __future__ import annotations

import atexit
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
    """The lock of one folder, held by this process (see :func:`lock_folder`).

    Releasing it leaves the folder as it found it: the lock file's earlier content is put
    back (or the file removed, and the folder too if this lock made it and it is empty), so
    a command that is refused changes nothing, not even the lock file.
    """

    def __init__(
        self, folder: Path, descriptor: int, previous: bytes | None, made_folder: bool
    ) -> None:
        self.folder, self._descriptor = folder, descriptor
        self._previous, self._made_folder = previous, made_folder

    def release(self) -> None:
        """Put the lock file back as it was, and let another process take the folder."""
        if self._descriptor < 0:
            return
        _held.pop(self.folder.resolve(), None)
        path = self.folder / LOCK_NAME
        with contextlib.suppress(OSError):
            if self._previous is None:
                if os.stat(path).st_ino == os.fstat(self._descriptor).st_ino:
                    path.unlink()
                if self._made_folder:
                    self.folder.rmdir()  # only when empty: anything written there stays
            else:
                os.ftruncate(self._descriptor, 0)
                os.pwrite(self._descriptor, self._previous, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        os.close(self._descriptor)
        self._descriptor = -1


def lock_folder(folder: Path, label: str = "folder") -> FolderLock:
    """Take ``folder``'s lock (creating the folder), or fail in one line naming its holder.

    Taking a lock this process already holds returns it. ``label`` names the folder in the
    message (``run.dir``, ``study folder``).
    """
    made_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _held:
        return _held[key]
    path = folder / LOCK_NAME
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
    while True:
        try:  # never through a symbolic link: a planted one would overwrite its target
            try:
                descriptor, created = os.open(path, flags | os.O_EXCL, 0o644), True
            except FileExistsError:
                descriptor, created = os.open(path, flags, 0o644), False
        except OSError as error:
            if made_folder:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise WriteError(path, error, " (nothing was changed)") from None
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise WriteError(path, OSError(errno.ENXIO, "not a regular file"), "")
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(path)
            os.close(descriptor)  # never created here: a held lock's file exists
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
    previous = None if created else _read_all(descriptor)
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, (json.dumps(holder) + "\n").encode(), 0)
    lock = FolderLock(folder, descriptor, previous, made_folder)
    _held[key] = lock
    return lock


def _read_all(descriptor: int) -> bytes:
    """The whole content of an open file (a lock file: a line of JSON)."""
    chunks, offset = [], 0
    while chunk := os.pread(descriptor, 65536, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


@atexit.register
def _release_all() -> None:
    """At exit (an error, a refusal), every lock still held puts its folder back."""
    for lock in list(_held.values()):
        lock.release()


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
