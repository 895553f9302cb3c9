"""The built-in paired datasets: the official aligned format and paired A/B folders."""

from __future__ import annotations

from pathlib import Path

from i2i.data.images import list_images, read_rgb
from i2i.errors import DataError
from i2i.interfaces import PairedSample


def _split_folder(root: str | None, split: str) -> Path:
    if not root:
        raise DataError("data.root is not set; pass data.root=PATH (the folder holding the splits)")
    return Path(root).expanduser() / split


class AlignedDataset:
    """Pairs stored side by side in one image, A left and B right (the pix2pix format).

    Layout: ``root/<split>/*.jpg``; each file is ``2W x H`` and splits into two ``W x H`` halves.

    Args:
        root: folder holding the split folders.
        split: split folder name (``train``, ``val``, ``test``).
    """

    def __init__(self, root: str | None, split: str = "train") -> None:
        self.files = list_images(_split_folder(root, split))

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> PairedSample:
        path = self.files[index]
        image = read_rgb(path)
        height, width = image.shape[-2:]
        if width != 2 * height:
            raise DataError(
                f"aligned image '{path}' is {width}x{height}, not two square halves side by side "
                "(width = 2 x height); for pairs of other shapes use the paired_folders dataset"
            )
        half = width // 2
        return {
            "A": image[..., :half].contiguous(),
            "B": image[..., half:].contiguous(),
            "name": path.name,
        }


class PairedFoldersDataset:
    """Pairs stored in two folders, matched by file name (extensions may differ).

    Layout: ``root/<split>/A/name.png`` pairs with ``root/<split>/B/name.png``.

    Args:
        root: folder holding the split folders.
        split: split folder name.
    """

    def __init__(self, root: str | None, split: str = "train") -> None:
        folder = _split_folder(root, split)
        a_files = {p.stem: p for p in list_images(folder / "A")}
        b_files = {p.stem: p for p in list_images(folder / "B")}
        unmatched = sorted(set(a_files) ^ set(b_files))
        if unmatched:
            shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
            raise DataError(
                f"'{folder}': {len(unmatched)} file(s) in only one of A/ and B/ ({shown}); "
                "every A file needs a B file of the same name"
            )
        self.pairs = [(a_files[stem], b_files[stem]) for stem in a_files]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> PairedSample:
        a_path, b_path = self.pairs[index]
        a, b = read_rgb(a_path), read_rgb(b_path)
        if a.shape != b.shape:
            raise DataError(
                f"pair '{a_path.name}': A is {a.shape[2]}x{a.shape[1]} but B is "
                f"{b.shape[2]}x{b.shape[1]}; A and B of a pair must be the same size"
            )
        return {"A": a, "B": b, "name": a_path.name}
