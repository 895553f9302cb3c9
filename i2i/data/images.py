"""Decoding image files into uint8 tensors, whatever their mode (grey, RGBA, 16-bit, palette)."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from i2i.data.tiff import is_tiff, read_tiff
from i2i.errors import DataError, DataWarning, MissingDataset, TooManyPixels, quoted

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

DEFAULT_MAX_PIXELS = 178_956_970
"""Pixels an image may have before it is refused unread: Pillow's decompression-bomb limit."""

FAST_PNG = {"compress_level": 1}
"""How i2i writes PNGs: zlib's fastest level, still lossless, about 4× faster than PIL's
default level 6 (7 against 28 ms for a 256² map tile) for files about 17 % larger."""

_max_pixels = int(os.environ.get("I2I_MAX_PIXELS") or DEFAULT_MAX_PIXELS)


def set_max_pixels(limit: int | None) -> None:
    """Refuse images of more than ``limit`` pixels (None: the default, or ``$I2I_MAX_PIXELS``).

    The limit is checked on the file's header, before anything is decoded or allocated.
    """
    global _max_pixels
    _max_pixels = int(limit or os.environ.get("I2I_MAX_PIXELS") or DEFAULT_MAX_PIXELS)
    if Image.MAX_IMAGE_PIXELS is not None and _max_pixels > 2 * Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = _max_pixels  # else Pillow refuses what the user allowed


def max_pixels() -> int:
    """The current limit of :func:`set_max_pixels`."""
    return _max_pixels


def natural_key(path: Path) -> list[object]:
    """Sort key so that 2.jpg comes before 10.jpg."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, in natural order; a clear error if there are none."""
    if not folder.is_dir():
        message = f"data folder {quoted(folder)} does not exist; check data.root and the split name"
        official = _official_dataset(folder)
        if official is None:
            raise DataError(message)
        name, parent = official
        raise MissingDataset(
            f"{message}, or download it: i2i data download {name} --dir {parent}", name, parent
        )
    # Everything but folders: a broken link among the images must fail (or be skipped) by name.
    entries = [p for p in folder.iterdir() if not p.is_dir()]
    files = [p for p in entries if p.suffix.lower() in IMAGE_EXTENSIONS]
    others = sorted(p.name for p in entries if p not in files and not p.name.startswith("."))
    if others:
        shown = ", ".join(quoted(name) for name in others[:3]) + (" ..." if len(others) > 3 else "")
        warnings.warn(
            f"data folder {quoted(folder)} holds {len(others)} file(s) that are not images "
            f"({shown}); they are ignored, move them out to silence this",
            DataWarning,
            stacklevel=2,
        )
    if not files:
        raise DataError(
            f"data folder {quoted(folder)} holds no images ({', '.join(IMAGE_EXTENSIONS)}); "
            "check data.root and the split name"
        )
    return sorted(files, key=natural_key)


def _official_dataset(folder: Path) -> tuple[str, Path] | None:
    """(name, parent folder) when ``folder`` lies inside one of the official datasets."""
    from i2i.data.download import DATASETS

    for part in folder.parts:
        if part in DATASETS:
            return part, Path(*folder.parts[: folder.parts.index(part)]) or Path(".")
    return None


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit (or 32-bit integer) grey: keep the top 8 bits instead of clipping at 255.
        wide = np.asarray(image, dtype=np.int64)
        scale = 65535 if image.mode != "I" or wide.max() > 255 else 255
        image = Image.fromarray((wide.clip(0, scale) * 255 // scale).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Composite transparency over white rather than keeping whatever colour hides under it.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def open_image(source: Path | BinaryIO, max_pixels: int | None = None) -> Image.Image:
    """Decode a file (or an open binary stream) with Pillow, upright as viewers show it
    (EXIF orientation applied).

    Its pixel count is checked against ``max_pixels`` (default :func:`max_pixels`) from the
    header, before anything is decoded (:class:`TooManyPixels`); every other failure is a
    one-line :class:`DataError` naming the file.
    """
    limit = max_pixels or _max_pixels
    name = source if isinstance(source, Path) else getattr(source, "name", "the image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            with Image.open(source) as image:
                width, height = image.size
                if width * height > limit:
                    raise TooManyPixels(name, width * height, limit, (width, height))
                image.load()
                return ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:  # Pillow's guard: it stops before our check
        counted = re.search(r"\((\d+) pixels\)", str(error))
        raise TooManyPixels(name, int(counted[1]) if counted else None, limit) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(source, Path) and source.is_symlink() and not source.exists():
            raise DataError(
                f"image {quoted(source)} is a broken symbolic link (its target is missing, or "
                "links loop); fix or remove it"
            ) from None
        raise DataError(
            f"cannot decode image {quoted(name)} ({error}); replace or remove the file"
        ) from None


def read_rgb(path: Path) -> torch.Tensor:
    """Decode ``path`` into a ``(3, H, W)`` uint8 tensor; corrupt files raise a DataError."""
    if is_tiff(path):
        return _to_eight_bit(as_channels(read_tiff(path, _max_pixels), 3, path))
    rgb = _to_rgb(open_image(path))
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def as_channels(image: torch.Tensor, channels: int, path: Path) -> torch.Tensor:
    """``(C, H, W)`` made ``channels`` deep: grey repeated, extra bands (alpha, NIR) dropped."""
    have = image.shape[0]
    if have == channels:
        return image
    if channels == 3 and have in (1, 2):
        return image[:1].expand(3, -1, -1).contiguous()
    if channels == 3 and have > 3:
        return image[:3].contiguous()
    if channels == 1:
        if have >= 3:  # luma, in the image's own depth
            weights = torch.tensor((0.299, 0.587, 0.114)).view(3, 1, 1)
            grey = (image[:3].float() * weights).sum(0, keepdim=True)
            return grey.round().to(image.dtype) if not image.is_floating_point() else grey
        return image[:1].contiguous()
    raise DataError(f"{quoted(path)}: cannot make {have}-channel pixels {channels}-channel")


def _to_eight_bit(image: torch.Tensor) -> torch.Tensor:
    if image.dtype == torch.uint8:
        return image
    if image.dtype == torch.uint16:
        return (image.to(torch.int32) * 255 // 65535).to(torch.uint8)
    return (image.float().clamp(0, 1) * 255).round().to(torch.uint8)


_AS_STORED = {
    "1": "L",
    "L": "L",
    "LA": "LA",
    "RGB": "RGB",
    "RGBA": "RGBA",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
    "P": "RGB",
    "PA": "RGBA",
}


def read_image(path: Path, channels: int | None = None) -> torch.Tensor:
    """Decode ``path`` into a ``(C, H, W)`` tensor: uint8, uint16 for 16-bit files, float32
    in [0, 1] for float TIFFs.

    ``channels`` None keeps the file's channels (grey 1, grey+alpha 2, RGB 3, RGBA 4; a
    TIFF any number of bands); 3 gives RGB (transparency over white, as :func:`read_rgb`;
    a TIFF's first three bands, its depth kept), 1 grey. Every failure (a
    corrupt file, a broken link, too many pixels) is a one-line :class:`DataError` naming
    the file: the protocol ``data.on_corrupt=skip`` relies on.
    """
    if is_tiff(path):
        pixels = read_tiff(path, _max_pixels)
        return pixels if channels is None else as_channels(pixels, channels, path)
    if channels == 3:
        return read_rgb(path)
    image = open_image(path)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(image, dtype=np.int64)
        if channels not in (None, 1) or wide.min() < 0 or wide.max() > 65535:
            return _from_array(np.asarray(_to_rgb(image).convert("L")), path, channels)
        return torch.from_numpy(wide.astype(np.uint16)).unsqueeze(0)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    mode = _AS_STORED.get(image.mode)
    if mode is None:
        raise DataError(
            f"image {quoted(path)} has pixel mode {image.mode!r}, which i2i does not read; "
            "save it as 8- or 16-bit grey, RGB or RGBA"
        )
    converted = image.convert(mode) if channels is None else _to_rgb(image).convert("L")
    return _from_array(np.asarray(converted), path, channels)


def _from_array(array: np.ndarray, path: Path, channels: int | None) -> torch.Tensor:
    if channels not in (None, 1, 3):
        raise DataError(f"{quoted(path)}: images can be read with 1 or 3 channels, not {channels}")
    array = array[..., None] if array.ndim == 2 else array
    return torch.from_numpy(np.array(array)).permute(2, 0, 1).contiguous()
