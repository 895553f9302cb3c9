"""The built-in paired datasets: the official aligned format and paired A/B folders."""

from __future__ import annotations

from pathlib import Path

from i2i.data.images import list_images, read_image
from i2i.errors import DataError, quoted
from i2i.interfaces import PairedSample


def _split_folder(root: str | None, split: str) -> Path:
    if not root:
        raise DataError("data.root is not set; pass data.root=PATH (the folder holding the splits)")
    return Path(root).expanduser() / split


def _checked_channels(channels: int | None) -> int | None:
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or null (as stored), got {channels!r}")
    return channels


class AlignedDataset:
    """Pairs stored side by side in one image, A left and B right (the pix2pix format).

    Layout: ``root/<split>/*.jpg``; each file is ``2W x H`` and splits into two ``W x H`` halves.

    Args:
        root: folder holding the split folders.
        split: split folder name (``train``, ``val``, ``test``).
        channels: 3 reads RGB, 1 grey, null the files' own channels (and 16-bit depth).
    """

    def __init__(self, root: str | None, split: str = "train", channels: int | None = 3) -> None:
        self.files = list_images(_split_folder(root, split))
        self.channels = _checked_channels(channels)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> PairedSample:
        path = self.files[index]
        image = read_image(path, self.channels)
        height, width = image.shape[-2:]
        if width != 2 * height:
            raise DataError(
                f"aligned image {quoted(path)} is {width}x{height}, not two square halves side "
                "by side (width = 2 x height); for pairs of other shapes use the paired_folders "
                "dataset"
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
        channels: 3 reads RGB, 1 grey, null each file's own channels (and 16-bit depth), so
            A and B may differ (1-channel edges, 3-channel photos).
    """

    def __init__(self, root: str | None, split: str = "train", channels: int | None = 3) -> None:
        self.channels = _checked_channels(channels)
        folder = _split_folder(root, split)
        a_files = {p.stem: p for p in list_images(folder / "A")}
        b_files = {p.stem: p for p in list_images(folder / "B")}
        unmatched = sorted(set(a_files) ^ set(b_files))
        if unmatched:
            shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
            raise DataError(
                f"{quoted(folder)}: {len(unmatched)} file(s) in only one of A/ and B/ ({shown}); "
                "every A file needs a B file of the same name"
            )
        self.pairs = [(a_files[stem], b_files[stem]) for stem in a_files]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> PairedSample:
        a_path, b_path = self.pairs[index]
        a, b = read_image(a_path, self.channels), read_image(b_path, self.channels)
        if a.shape[-2:] != b.shape[-2:]:
            raise DataError(
                f"pair '{a_path.name}': A is {a.shape[2]}x{a.shape[1]} but B is "
                f"{b.shape[2]}x{b.shape[1]}; A and B of a pair must be the same size"
            )
        return {"A": a, "B": b, "name": a_path.name}
