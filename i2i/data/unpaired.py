"""Unpaired data (CycleGAN's): two image sets, A and B, with nothing aligned between them.

An unpaired dataset has ``sizes`` ``(|A|, |B|)`` and ``len`` = max(|A|, |B|), the items of one
epoch. Training indexes it with ``(a, b)`` pairs drawn by :class:`UnpairedEpochSampler`; an
integer index ``i`` gives ``A[i mod |A|]`` and ``B[i mod |B|]`` (previews and evaluation,
where the halves of an aligned set stay aligned).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from i2i.data.datasets import _split_folder
from i2i.data.images import list_images, read_rgb
from i2i.data.loader import EpochSampler
from i2i.errors import DataError, quoted
from i2i.interfaces import PairedSample


class UnpairedEpochSampler(EpochSampler):
    """An epoch of ``max(|A|, |B|)`` items: A in a fresh permutation (wrapping around), each
    with a B drawn uniformly at random, as the authors' unaligned loader does.

    Everything is drawn from ``(seed, epoch)`` alone, so a resumed run replays it.
    """

    def __init__(self, sizes: tuple[int, int], seed: int, rank: int = 0, world: int = 1) -> None:
        super().__init__(max(sizes), seed, True, rank, world)
        self.sizes = sizes

    def order(self) -> list[Any]:  # type: ignore[override]
        """Every rank's ``(a, b)`` index pairs of the epoch."""
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        positions = torch.randperm(self.length, generator=generator)
        partners = torch.randint(self.sizes[1], (self.length,), generator=generator)
        return [(int(p) % self.sizes[0], int(b)) for p, b in zip(positions, partners)]


def _index(index: Any, sizes: tuple[int, int]) -> tuple[int, int]:
    if isinstance(index, tuple):
        return index
    return index % sizes[0], index % sizes[1]


class UnpairedFoldersDataset:
    """Two folders of images: the authors' ``root/trainA`` and ``root/trainB`` (``testA``...),
    or any two folders given as ``a`` and ``b``.

    Args:
        root: folder holding ``<split>A`` and ``<split>B``.
        split: split name (``train``, ``test``, ``val``).
        a: the A folder instead (``{split}`` in it is replaced by the split).
        b: the B folder instead.
    """

    def __init__(
        self, root: str | None, split: str = "train", a: str | None = None, b: str | None = None
    ) -> None:
        folders = []
        for side, given in (("A", a), ("B", b)):
            folder = Path(given.format(split=split)).expanduser() if given else None
            folders.append(folder or _split_folder(root, f"{split}{side}"))
        self.a_files, self.b_files = list_images(folders[0]), list_images(folders[1])
        for folder, files in zip(folders, (self.a_files, self.b_files)):
            if not files:
                raise DataError(f"unpaired folder {quoted(folder)} holds no images")

    aligned = False
    """Its i-th A and B images are not one scene: held-out scores compare the cycle only."""

    @property
    def sizes(self) -> tuple[int, int]:
        """``(|A|, |B|)``."""
        return len(self.a_files), len(self.b_files)

    def __len__(self) -> int:
        return max(self.sizes)

    def __getitem__(self, index: Any) -> PairedSample:
        a, b = _index(index, self.sizes)
        path = self.a_files[a]
        return {"A": read_rgb(path), "B": read_rgb(self.b_files[b]), "name": path.name}


class UnpairedView:
    """Any paired dataset seen as unpaired: A from one pair, B from another (``of`` names it).

    ``{name: unpaired, of: {name: aligned}}`` treats the maps halves as two unaligned sets.

    Args:
        root: passed to the inner dataset.
        split: passed to the inner dataset.
        of: the inner dataset's recipe node.
    """

    def __init__(self, root: str | None, split: str = "train", of: dict | None = None) -> None:
        from i2i import create

        self.inner = create("dataset", dict(of or {"name": "aligned"}), root=root, split=split)

    @property
    def sizes(self) -> tuple[int, int]:
        """``(|A|, |B|)``: both the inner dataset's length."""
        return len(self.inner), len(self.inner)

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: Any) -> PairedSample:
        a, b = _index(index, self.sizes)
        first = self.inner[a]
        second = first if a == b else self.inner[b]
        return {"A": first["A"], "B": second["B"], "name": first["name"]}
