"""Translating images of any size: reflection padding, overlapping tiles, batches, files."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from tqdm import tqdm

from i2i.data.augment import to_rgb_array, to_signed_unit
from i2i.data.images import (
    FAST_PNG,
    IMAGE_EXTENSIONS,
    as_channels,
    list_images,
    read_image,
    read_rgb,
)
from i2i.data.tiff import write_tiff
from i2i.errors import DataError, quoted
from i2i.inference.load import LoadedGenerator
from i2i.outputs import OutputFolder, OutputRefused
from i2i.testtime import Mode

if TYPE_CHECKING:
    from i2i.inference.model import Model

T = TypeVar("T")


def pad_to(image: Tensor, height: int, width: int) -> tuple[Tensor, tuple[int, int]]:
    """Pad ``(N, C, H, W)`` symmetrically up to ``height × width``; returns the top-left offset.

    Reflection where the image is large enough to mirror, edge replication beyond that.
    """
    h, w = image.shape[-2:]
    top, left = (height - h) // 2, (width - w) // 2
    pads = (left, width - w - left, top, height - h - top)
    if not any(pads):
        return image, (0, 0)
    mode = "reflect" if max(pads[:2]) < w and max(pads[2:]) < h else "replicate"
    return F.pad(image, pads, mode=mode), (top, left)


def round_up(value: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` that is at least ``value``."""
    return math.ceil(value / multiple) * multiple


def translate_whole(generator: LoadedGenerator, image: Tensor) -> Tensor:
    """Translate a batch in one pass, padded to the generator's size multiple and cropped back."""
    h, w = image.shape[-2:]
    multiple, smallest = generator.size_multiple, generator.min_size
    height, width = (max(round_up(side, multiple), smallest) for side in (h, w))
    padded, (top, left) = pad_to(image, height, width)
    return generator.run(padded)[..., top : top + h, left : left + w]


def _starts(size: int, tile: int, stride: int) -> list[int]:
    starts = list(range(0, size - tile, stride))
    return [*starts, size - tile]


def _window(tile: int, device: torch.device) -> Tensor:
    """A 2-D raised-cosine weight, positive everywhere, so overlaps blend without seams."""
    ramp = torch.sin(math.pi * (torch.arange(tile, device=device) + 0.5) / tile) ** 2
    return (ramp[:, None] * ramp[None, :]).clamp_min(1e-4)


def translate_tiled(
    generator: LoadedGenerator, image: Tensor, tile: int, overlap: int, batch_size: int = 1
) -> Tensor:
    """Translate one ``(1, C, H, W)`` image tile by tile, blending overlaps with a smooth window.

    The network only ever sees ``tile × tile`` inputs, so its memory is bounded by the tile
    size; the blended output and its weights are the only image-sized buffers.
    """
    if tile % generator.size_multiple:
        raise DataError(
            f"--tile {tile} must be a multiple of the generator's size multiple "
            f"{generator.size_multiple}"
        )
    if tile < generator.min_size:
        raise DataError(
            f"--tile {tile} is below the generator's smallest side {generator.min_size}"
        )
    if not 0 <= overlap < tile:
        raise DataError(f"--tile-overlap {overlap} must be at least 0 and below --tile {tile}")
    h, w = image.shape[-2:]
    padded, (top, left) = pad_to(image, max(h, tile), max(w, tile))
    height, width = padded.shape[-2:]
    window = _window(tile, image.device)
    output = image.new_zeros(1, generator.out_channels, height, width)
    weight = image.new_zeros(1, 1, height, width)
    corners = [
        (y, x)
        for y in _starts(height, tile, tile - overlap)
        for x in _starts(width, tile, tile - overlap)
    ]
    for first in range(0, len(corners), batch_size):
        group = corners[first : first + batch_size]
        crops = torch.cat([padded[..., y : y + tile, x : x + tile] for y, x in group])
        results = generator.run(crops)
        for (y, x), result in zip(group, results):
            output[..., y : y + tile, x : x + tile] += result * window
            weight[..., y : y + tile, x : x + tile] += window
    return (output / weight)[..., top : top + h, left : left + w]


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given, folders as their images; a missing path or duplicate name is an error."""
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            files += list_images(path)
        elif path.is_file():
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                raise DataError(f"{quoted(path)} is not an image ({', '.join(IMAGE_EXTENSIONS)})")
            files.append(path)
        else:
            raise DataError(f"input {quoted(path)} does not exist")
    names: dict[str, Path] = {}
    for path in files:
        if path.name in names:
            raise DataError(
                f"two inputs are named '{path.name}' ({names[path.name]}, {path}); "
                "outputs keep input names, so translate them into separate folders"
            )
        names[path.name] = path
    return files


def looks_aligned(files: list[Path], sample: int = 5) -> Path | None:
    """The first of (up to ``sample``) files whose width is twice its height, as A|B pairs are."""
    for path in files[:sample]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # only the header is read; decoding checks it
                with Image.open(path) as image:
                    width, height = image.size
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            continue  # decoding it later reports the problem, naming the file
        if width == 2 * height:
            return path
    return None


def _read(path: Path, side: str | None, reader: Callable[[Path], Tensor] = read_rgb) -> Tensor:
    image = reader(path)
    if side is None:
        return image
    half = image.shape[-1] // 2
    return image[..., :half] if side == "A" else image[..., half : 2 * half]


def _batches(
    files: list[Path], side: str | None, size: int, reader: Callable[[Path], Tensor] = read_rgb
) -> Iterator[tuple[list[Path], Tensor]]:
    """Consecutive images of one size, up to ``size`` at a time."""
    paths: list[Path] = []
    images: list[Tensor] = []
    for path in files:
        image = _read(path, side, reader)
        if images and (len(images) == size or image.shape != images[0].shape):
            yield paths, torch.stack(images)
            paths, images = [], []
        paths.append(path)
        images.append(image)
    if images:
        yield paths, torch.stack(images)


def _prefetched(batches: Iterator[T]) -> Iterator[T]:
    """Yield from ``batches`` while a thread already reads the next one.

    JPEG decoding (PIL) and the network (torch, onnxruntime) release the GIL, so reading the
    next batch overlaps translating this one.
    """
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = reader.submit(next, batches, None)
            yield batch


WRITE_OPTIONS: dict[str, dict[str, int]] = {"JPEG": {"quality": 95}, "PNG": FAST_PNG}
"""What 8-bit outputs are saved with, by format."""


def image_writer(image: Tensor, suffix: str, depth: int = 8) -> Callable[[str], None]:
    """A writer of a ``(C, H, W)`` float [-1, 1] image in the format of ``suffix``.

    It takes the file name to fill (a temporary, for :func:`i2i.files.write_atomic`);
    JPEGs are written at quality 95. With ``depth`` 16 the image keeps 16 bits: a 16-bit
    PNG for one channel, a 16-bit TIFF for any number.
    """
    format = Image.registered_extensions().get(suffix.lower())
    if format is None:
        raise DataError(f"cannot write images ending in {suffix!r}; use .png, .jpg, .tif, ...")
    if depth == 16:
        return _sixteen_bit_writer(image, format, suffix)
    options = WRITE_OPTIONS.get(format, {})
    pixels = Image.fromarray(to_rgb_array(image))
    return lambda name: pixels.save(name, format=format, **options)


def _sixteen_bit_writer(image: Tensor, format: str, suffix: str) -> Callable[[str], None]:
    unit = (image.detach().float().clamp(-1, 1) + 1) / 2
    pixels = (unit * 65535).round().to(torch.int32).cpu().numpy().astype(np.uint16)
    pixels = pixels[0] if pixels.shape[0] == 1 else np.moveaxis(pixels, 0, -1)
    if format == "TIFF":
        return lambda name: write_tiff(name, pixels)
    if format == "PNG" and pixels.ndim == 2:
        return lambda name: Image.fromarray(pixels).save(name, format="PNG", **FAST_PNG)
    raise DataError(
        f"16-bit {image.shape[0]}-channel outputs cannot be written as {suffix}; use --format "
        "tif (any channels) or png (one channel), or --depth 8"
    )


OUTPUT_FORMATS = ("png", "jpg", "tif", "webp", "keep")
"""``--format`` choices: lossless PNG by default, or each input's own format (``keep``)."""


def output_name(path: Path, format: str) -> str:
    """The output file name of input ``path`` in ``format``."""
    return path.name if format == "keep" else f"{path.stem}.{format}"


def _refuse_shared_outputs(targets: dict[Path, Path]) -> None:
    seen: dict[Path, Path] = {}
    for source, target in targets.items():
        if target in seen:
            raise DataError(
                f"inputs {quoted(seen[target])} and {quoted(source)} would both be written as "
                f"{quoted(target.name)}; translate them into separate folders, or --format keep"
            )
        seen[target] = source


def translate_files(
    model: Model,
    inputs: list[Path],
    out_dir: Path,
    *,
    direction: str | None = None,
    mode: Mode = "paper",
    side: str | None = None,
    tile: int | None = None,
    overlap: int | None = None,
    batch_size: int = 1,
    progress: bool = True,
    load_size: int | None = None,
    overwrite: bool = False,
    format: str = "png",
    depth: int | None = None,
) -> list[Path]:
    """Translate every input image into ``out_dir`` under its own name.

    Outputs are lossless PNG (``format``: ``png``, ``jpg``, ``tif``, ``webp``, or ``keep``
    for each input's own format), named after the input's stem, 16-bit where ``depth`` is
    16 (default: the depth of the data the model was trained to produce).

    Each output has its input's size, or ``load_size²`` when given: inputs are then resized
    to that square first, as the official test.py does (at 256). No input is ever written,
    nor (without ``overwrite``) a file that is not this command's output of the same input
    (:mod:`i2i.outputs`); all of that is checked before anything is translated.
    """
    for folder in (p for p in inputs if p.is_dir()):
        if out_dir.exists() and out_dir.resolve() == folder.resolve():
            raise OutputRefused(
                f"--out {quoted(out_dir)} is the input folder {quoted(folder)}: the "
                "translations would mix with (and later be read as) the inputs; write them "
                "somewhere else (nothing was written)"
            )
    files = expand_inputs(inputs)
    targets = {path: out_dir / output_name(path, format) for path in files}
    _refuse_shared_outputs(targets)
    outputs = OutputFolder(out_dir, "translate", model.path, overwrite=overwrite, inputs=files)
    outputs.check(list(targets.values()), files)
    written: list[Path] = []
    options = dict(direction=direction, mode=mode, tile=tile, overlap=overlap, load_size=load_size)
    depth = depth or model.output_depth(direction)
    reader = read_rgb
    if model.input_depth(direction) == 16:  # keep every bit of the input, as in training
        channels = model.generator(direction).in_channels

        def reader(path: Path) -> Tensor:
            return as_channels(read_image(path), channels, path)

    with tqdm(total=len(files), unit="img", disable=not progress, desc="translate") as bar:
        # (closed by the with even on an error, so the error starts a line of its own)
        batches = _batches(files, side, 1 if tile else batch_size, reader)
        for paths, pixels in _prefetched(batches):
            result = model.translate_batch(to_signed_unit(pixels), tile_batch=batch_size, **options)
            for path, output in zip(paths, result):
                target = targets[path]
                writer = image_writer(output, target.suffix, depth)
                written.append(outputs.write(target, writer, path))
            bar.update(len(paths))
    return written
