"""TIFF files through tifffile: uint8, uint16 and float32, any number of channels.

Pillow reads few of the TIFFs microscopy and remote sensing write (16-bit RGB, float, more
than four bands); tifffile reads them all, as arrays, without losing precision.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from i2i.errors import DataError, TooManyPixels, quoted

TIFF_SUFFIXES = (".tif", ".tiff")


def is_tiff(path: Path) -> bool:
    """True for a file named as a TIFF."""
    return path.suffix.lower() in TIFF_SUFFIXES


def read_tiff(path: Path, max_pixels: int) -> torch.Tensor:
    """A TIFF's first image as ``(C, H, W)``: uint8, uint16, or float32 (as stored).

    Its size is checked against ``max_pixels`` from the header, before any pixel is read.
    """
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            series = tiff.series[0]
            shape, axes = tuple(series.shape), series.axes
            height, width = _height_width(shape, axes)
            if height * width > max_pixels:
                raise TooManyPixels(path, height * width, max_pixels, (width, height))
            _refuse_oversized(path, shape, np.dtype(series.dtype), max_pixels)
            array = series.asarray()
    except DataError:
        raise
    except Exception as error:  # tifffile raises many kinds for a damaged file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(
            f"cannot decode image {quoted(path)} ({first}); replace or remove the file"
        ) from None
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(array.size - np.isfinite(array).sum())
        raise DataError(
            f"image {quoted(path)} holds {bad} NaN or infinite value(s); training on it would "
            "only make the losses NaN: fix the file, or remove it"
        )
    return _channels_first(array, axes, path)


BYTES_PER_PIXEL = 16
"""What the pixel limit allows each pixel to decode to: 4 bands of float32 (a PIL image never
decodes to more), so a many-band TIFF is bounded by its bytes, not its width × height."""


def _refuse_oversized(path: Path, shape: tuple[int, ...], dtype: np.dtype, max_pixels: int) -> None:
    """Refuse, from the header, a TIFF that would decode to more bytes than the limit allows."""
    decoded = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    limit = max_pixels * BYTES_PER_PIXEL
    if decoded > limit:
        dims = "x".join(map(str, shape))
        raise DataError(
            f"image {quoted(path)} ({dims} {dtype}) would decode to {decoded / 2**30:.1f} GiB, "
            f"over the limit of {limit / 2**30:.1f} GiB (data.max_pixels x {BYTES_PER_PIXEL} "
            "bytes, a guard against decompression bombs); if it is genuine, raise "
            "data.max_pixels (or --max-pixels, or $I2I_MAX_PIXELS)"
        )


def _height_width(shape: tuple[int, ...], axes: str) -> tuple[int, int]:
    if "Y" in axes and "X" in axes:
        return shape[axes.index("Y")], shape[axes.index("X")]
    return shape[-2], shape[-1]


def _channels_first(array: np.ndarray, axes: str, path: Path) -> torch.Tensor:
    if array.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise DataError(
            f"image {quoted(path)} holds {array.dtype} pixels; i2i reads uint8, uint16 and "
            "float TIFFs"
        )
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    if array.ndim == 2:
        array = array[None]
    elif array.ndim == 3 and "S" in axes and axes.index("S") == 2:
        array = np.moveaxis(array, -1, 0)  # samples last (RGB): channels first
    elif array.ndim != 3:
        raise DataError(f"image {quoted(path)} has {array.ndim} dimensions; give one 2-D image")
    return torch.from_numpy(np.ascontiguousarray(array))


def write_tiff(path: str, pixels: np.ndarray) -> None:
    """Write ``(H, W)`` or ``(H, W, C)`` pixels (any dtype tifffile takes) as a TIFF."""
    import tifffile

    photometric = "rgb" if pixels.ndim == 3 and pixels.shape[-1] in (3, 4) else "minisblack"
    tifffile.imwrite(path, pixels, photometric=photometric)
