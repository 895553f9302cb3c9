"""Paired datasets stored as parquet files, as the Hugging Face hub serves them.

The hub's image-translation datasets (``huggan/maps``, ``huggan/facades``...) are parquet
files with two image columns; an image cell is the hub's ``Image`` feature, a struct of
``bytes`` (the encoded file) and ``path``, or plain bytes. Files follow the hub's naming:
``data/train-00000-of-00002.parquet`` or ``train/0000.parquet``; ``split`` selects them.

Reading goes through ``pyarrow`` alone (the ``datasets`` library is not needed to train):
one row group at a time, the last one read kept per worker, so a dataset larger than memory
trains. Every image is decoded by i2i's one decoder (pixel limit, EXIF orientation, 16-bit,
channels), and a bad one is reported with its file, row and column.
"""

from __future__ import annotations

import bisect
import io
from pathlib import Path
from typing import Any

import torch

from i2i.data.images import read_image
from i2i.errors import DataError, quoted
from i2i.interfaces import PairedSample

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


class NamedStream(io.BytesIO):
    """Encoded image bytes with the name messages give them (a parquet cell)."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name
        self.suffix = ".tif" if data[:4] in TIFF_MAGIC else ""

    def __str__(self) -> str:
        return self.name


def split_files(root: Path, split: str) -> list[Path]:
    """The parquet files of ``split`` under ``root`` (or ``root`` itself, one file)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise DataError(f"parquet dataset {quoted(root)} does not exist; check data.root")
    candidates = sorted(root.rglob("*.parquet"))
    chosen = [
        p
        for p in candidates
        if p.name.startswith(f"{split}-")
        or p.name.startswith(f"{split}.")
        or split in p.relative_to(root).parts[:-1]
    ]
    if not chosen:
        names = ", ".join(str(p.relative_to(root)) for p in candidates[:4]) or "none"
        raise DataError(
            f"no parquet files of split '{split}' under {quoted(root)} (found: {names}); name "
            "them as the hub does (data/SPLIT-00000-of-00001.parquet or SPLIT/*.parquet)"
        )
    return chosen


class ParquetDataset:
    """Pairs in parquet files with one image column for A and one for B.

    Args:
        root: a parquet file, a folder of them, or ``hf://datasets/ORG/NAME[@REV]`` (that
            dataset's files in the local Hugging Face cache; never downloaded by training).
        split: which files: ``train``, ``val``, ``test`` (by the hub's file naming).
        a_column: the column holding the A images.
        b_column: the column holding the B images.
        channels: 3 reads RGB, 1 grey, null each image's own channels (and 16-bit depth).
    """

    def __init__(
        self,
        root: str | None,
        split: str = "train",
        a_column: str = "imageA",
        b_column: str = "imageB",
        channels: int | None = 3,
    ) -> None:
        import pyarrow.parquet as pq

        if not root:
            raise DataError("data.root is not set; pass data.root=PATH (parquet file or folder)")
        if channels not in (None, 1, 3):
            raise ValueError(f"channels must be 1, 3 or null (as stored), got {channels!r}")
        self.columns, self.channels = (a_column, b_column), channels
        if root.startswith("hf://"):  # hf://datasets/ORG/NAME[@REV]: the hub cache's snapshot
            from i2i.hub import hub_folder

            root = str(hub_folder(root, kind="dataset"))
        self.files = split_files(Path(root).expanduser(), split)
        self.groups: list[tuple[int, int, int]] = []  # (file index, row group, its first row)
        self.starts: list[int] = []  # the dataset index of each group's first row
        total = 0
        for index, path in enumerate(self.files):
            try:
                parquet = pq.ParquetFile(path)
            except Exception as error:  # pyarrow's own kinds for a file that is not parquet
                raise DataError(f"cannot read parquet file {quoted(path)} ({error})") from None
            metadata, names = parquet.metadata, set(parquet.schema_arrow.names)
            missing = [c for c in self.columns if c not in names]
            if missing:
                raise DataError(
                    f"parquet file {quoted(path)} has no column {missing[0]!r} (columns: "
                    f"{', '.join(sorted(names))}); set data.dataset.a_column / b_column"
                )
            in_file = 0
            for group in range(metadata.num_row_groups):
                self.groups.append((index, group, in_file))
                self.starts.append(total)
                rows = metadata.row_group(group).num_rows
                total, in_file = total + rows, in_file + rows
        self.length = total
        self._cached: tuple[int, dict[str, list[Any]]] | None = None

    def __len__(self) -> int:
        return self.length

    def _group(self, number: int) -> dict[str, list[Any]]:
        """One row group's two image columns (the last one read is kept)."""
        if self._cached is None or self._cached[0] != number:
            import pyarrow.parquet as pq

            file_index, group, _ = self.groups[number]
            table = pq.ParquetFile(self.files[file_index]).read_row_group(
                group, columns=list(self.columns)
            )
            self._cached = (number, table.to_pydict())
        return self._cached[1]

    def _decode(self, cell: Any, where: str) -> torch.Tensor:
        data = cell.get("bytes") if isinstance(cell, dict) else cell
        if not isinstance(data, bytes | bytearray) or not data:
            raise DataError(f"{where} holds no encoded image bytes; store images as files' bytes")
        return read_image(NamedStream(bytes(data), where), self.channels)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> PairedSample:
        if not 0 <= index < self.length:
            raise IndexError(index)
        number = bisect.bisect_right(self.starts, index) - 1
        row = index - self.starts[number]
        columns = self._group(number)
        file_index, _, first = self.groups[number]
        path = self.files[file_index]
        label = f"{quoted(path.name)} row {first + row}"
        a, b = (
            self._decode(columns[name][row], f"{label} column {name!r}") for name in self.columns
        )
        if a.shape[-2:] != b.shape[-2:]:
            raise DataError(
                f"{label}: A is {a.shape[2]}x{a.shape[1]} but B is {b.shape[2]}x{b.shape[1]}; "
                "A and B of a pair must be the same size"
            )
        return {"A": a, "B": b, "name": f"{path.stem}-{first + row:06d}.png"}
