"""Outputs that never destroy a file: one rule for every command that writes results.

A command's output may replace an existing file only when i2i wrote that file as the same
output (same command, same source, unchanged since), or when the user says ``--overwrite``.
An output that is one of the command's own inputs is always refused. Which files i2i wrote
is recorded in ``.i2i-outputs.jsonl``, one line per file, in the output folder.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from i2i.errors import I2IError, quoted
from i2i.files import TEMPORARY_SUFFIX, open_for_appending, write_atomic, writing

LEDGER_NAME = ".i2i-outputs.jsonl"


class OutputRefused(I2IError):
    """An output would replace an input, or a file i2i did not write as that output."""


def _identity(path: Path) -> tuple[int, int] | str:
    """What makes two paths one file: device and inode when it exists, else the full path."""
    try:
        status = path.stat()
        return status.st_dev, status.st_ino
    except OSError:  # missing, or a link that leads nowhere (realpath never raises on a loop)
        return os.path.realpath(path)


class OutputFolder:
    """The outputs one command writes into ``folder``, each checked before it is written.

    Args:
        folder: where the outputs go (created on the first write).
        command: the command writing them (``translate``, ``export``, ...).
        source: what they are made from (a checkpoint, an input file); an output of another
            source never replaces this one's silently.
        overwrite: the user's ``--overwrite``: replace existing files (never inputs).
        inputs: files the command reads; none of them is ever written.
    """

    def __init__(
        self,
        folder: Path,
        command: str,
        source: Path | str,
        *,
        overwrite: bool = False,
        inputs: Iterable[Path] = (),
    ) -> None:
        self.folder, self.command, self.overwrite = folder, command, overwrite
        self.source = _source(source)
        self.inputs = {_identity(Path(p)): Path(p) for p in inputs}
        self._ledger = self._read_ledger()

    def _read_ledger(self) -> dict[str, dict]:
        path = self.folder / LEDGER_NAME
        entries: dict[str, dict] = {}
        if not path.is_file():
            return entries
        lines = path.read_text(errors="replace").splitlines()
        for line in lines:
            try:
                entry = json.loads(line)
                entries[str(entry["name"])] = entry
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash: its file counts as not ours
        if len(lines) > 1000 and len(lines) > 2 * len(entries):  # reruns: keep the last of each
            text = "".join(json.dumps(entry) + "\n" for entry in entries.values())
            write_atomic(path, lambda name: Path(name).write_text(text))
        return entries

    def _name(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    def _ours(self, path: Path, source: str) -> bool:
        """True when i2i wrote ``path`` as this output, and nobody changed it since."""
        entry = self._ledger.get(self._name(path))
        if entry is None or entry.get("command") != self.command or entry.get("source") != source:
            return False
        status = path.stat()
        return entry.get("size") == status.st_size and entry.get("mtime_ns") == status.st_mtime_ns

    def check(self, paths: Iterable[Path], sources: Iterable[Path | str] | None = None) -> None:
        """Refuse, before anything is written, any of ``paths`` that may not be written.

        ``sources`` gives each path its own source (translate: its input), else the folder's.
        """
        paths = list(paths)
        own = [_source(s) for s in sources] if sources is not None else [self.source] * len(paths)
        clashes: list[Path] = []
        for path, source in zip(paths, own):
            identity = _identity(path)
            if identity in self.inputs:
                raise OutputRefused(
                    f"output {quoted(path)} is the input {quoted(self.inputs[identity])}; "
                    "write the outputs somewhere else (nothing was written)"
                )
            if path.is_dir():
                raise OutputRefused(f"output {quoted(path)} is a folder; write somewhere else")
            if path.exists() and not self.overwrite and not self._ours(path, source):
                clashes.append(path)
        if clashes:
            shown = ", ".join(quoted(p) for p in clashes[:3])
            more = f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""
            raise OutputRefused(
                f"{len(clashes)} output(s) would replace existing files i2i did not write as "
                f"this {self.command} output ({shown}{more}); pass --overwrite to replace them, "
                "or write somewhere else (nothing was written)"
            )

    def write(
        self, path: Path, write: Callable[[str], None], source: Path | str | None = None
    ) -> Path:
        """Check ``path``, have ``write`` fill it atomically, and record it as this output."""
        source_key = _source(source) if source is not None else self.source
        self.check([path], [source_key])
        for stray in path.parent.glob(f".{glob.escape(path.name)}.*{TEMPORARY_SUFFIX}"):
            stray.unlink(missing_ok=True)  # left by a killed run writing this very output
        write_atomic(path, write)
        self._record(path, source_key)
        return path

    def _record(self, path: Path, source: str) -> None:
        status = path.stat()
        entry = {
            "name": self._name(path),
            "command": self.command,
            "source": source,
            "size": status.st_size,
            "mtime_ns": status.st_mtime_ns,
        }
        self._ledger[entry["name"]] = entry
        ledger = self.folder / LEDGER_NAME
        with writing(ledger), open_for_appending(ledger) as stream:
            stream.write(json.dumps(entry) + "\n")


def _source(source: Path | str) -> str:
    return os.path.abspath(source) if isinstance(source, Path) else str(source)
