"""Decoding image files into uint8 tensors, whatever their mode (grey, RGBA, 16-bit, palette)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from i2i.errors import DataError, DataWarning, MissingDataset

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def natural_key(path: Path) -> list[object]:
    """Sort key so that 2.jpg comes before 10.jpg."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, in natural order; a clear error if there are none."""
    if not folder.is_dir():
        message = f"data folder '{folder}' does not exist; check data.root and the split name"
        official = _official_dataset(folder)
        if official is None:
            raise DataError(message)
        name, parent = official
        raise MissingDataset(
            f"{message}, or download it: i2i data download {name} --dir {parent}", name, parent
        )
    entries = [p for p in folder.iterdir() if p.is_file()]
    files = [p for p in entries if p.suffix.lower() in IMAGE_EXTENSIONS]
    others = sorted(p.name for p in entries if p not in files and not p.name.startswith("."))
    if others:
        shown = ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")
        warnings.warn(
            f"data folder '{folder}' holds {len(others)} file(s) that are not images ({shown}); "
            "they are ignored, move them out to silence this",
            DataWarning,
            stacklevel=2,
        )
    if not files:
        raise DataError(
            f"data folder '{folder}' holds no images ({', '.join(IMAGE_EXTENSIONS)}); "
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


def read_rgb(path: Path) -> torch.Tensor:
    """Decode ``path`` into a ``(3, H, W)`` uint8 tensor; corrupt files raise a DataError."""
    try:
        with Image.open(path) as image:
            image.load()
            rgb = _to_rgb(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataError(
            f"cannot decode image '{path}' ({error}); replace or remove the file"
        ) from None
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).contiguous()
