"""Using a trained model from Python: ``model = i2i.load(path)``, then ``model(image)``.

:class:`Model` takes PIL images, NumPy arrays and tensors (or lists of them) and gives
back the same type at the input's size. ``i2i translate`` runs through the same
:meth:`Model.translate_batch`, so the command line and Python give the same pixels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from i2i.data.augment import match_channels, resize_square, to_rgb_array, to_signed_unit
from i2i.errors import DataError
from i2i.inference.load import LoadedGenerator, load_generator
from i2i.inference.translate import translate_tiled, translate_whole
from i2i.registry import Registry
from i2i.testtime import Mode, generator_mode

DIRECTIONS = ("AtoB", "BtoA")


class Model:
    """A trained generator (or a two-direction pair) ready to translate images.

    Args:
        path: an i2i ``.safetensors`` checkpoint, an official ``*_net_G.pth`` or an
            exported ``.onnx``.
        device: where it runs (``cpu``, ``cuda``, ``cuda:1``).
        registry: the components to build it from (default: the installed plugins).

    Attributes:
        direction: the direction it translates by default (the one it was trained for).
        directions: the directions it has a network for: both for a two-direction
            checkpoint (CycleGAN's G_A and G_B), else the one it was trained for (its single
            network then translates whatever it is given, whichever direction is asked).
        depths: bits per value of the A and B data it was trained on (8 where unknown).
    """

    def __init__(self, path: str | Path, device: str = "cpu", registry: Registry | None = None):
        from i2i.devices import available_device
        from i2i.inference.load import resolve_checkpoint
        from i2i.plugins import default_registry

        self.path, self.device = resolve_checkpoint(path), available_device(device)
        self.registry = registry if registry is not None else default_registry()
        first = load_generator(self.path, self.registry, device)
        self.direction = first.direction
        self._generators = {first.direction: first}
        meta = self._metadata()
        roles = {entry.get("role") for entry in (meta.get("translators") or {}).values()}
        # a network per direction (CycleGAN's G_A and G_B), or one for whatever it is given
        self.directions = DIRECTIONS if len(roles) > 1 else (first.direction,)
        depths = meta.get("data_depth") or {}
        self.depths = {side: int(bits) for side, bits in depths.items() if bits in (8, 16)}

    def _metadata(self) -> dict[str, Any]:
        """The checkpoint's header metadata (empty for .pth and .onnx files)."""
        if self.path.suffix != ".safetensors":
            return {}
        from i2i.checkpoint import load_checkpoint

        return load_checkpoint(self.path, prefix="\0")[1]

    def test_size(self) -> int | None:
        """The square size its training images were resized and cropped to
        (``data.crop_size`` where ``data.load_size`` resized them), as the authors' test.py
        feeds whole images; None when it trained on crops of unresized images, or is unknown."""
        data = (self._metadata().get("recipe") or {}).get("data") or {}
        crop = data.get("crop_size")
        return int(crop) if data.get("load_size") and isinstance(crop, int) else None

    def input_depth(self, direction: str | None = None) -> int:
        """Bits of the data this direction's input was trained on: 8 or 16."""
        return self.depths.get("A" if (direction or self.direction) == "AtoB" else "B", 8)

    def output_depth(self, direction: str | None = None) -> int:
        """Bits of the data this direction's output was trained to match: 8 or 16."""
        return self.depths.get("B" if (direction or self.direction) == "AtoB" else "A", 8)

    def generator(self, direction: str | None = None) -> LoadedGenerator:
        """The network translating ``direction`` (default: :attr:`direction`)."""
        direction = direction or self.direction
        if direction not in DIRECTIONS:
            raise DataError(f"direction must be AtoB or BtoA, got {direction!r}")
        if len(self.directions) == 1:  # one network: it translates whatever it is given
            from i2i.inference.load import refuse_untrained_direction

            first = self._generators[self.direction]
            trained = first.recipe.get("data", {}).get("direction")
            refuse_untrained_direction(True, direction, trained, self.path)
            return first
        if direction not in self._generators:
            self._generators[direction] = load_generator(
                self.path, self.registry, self.device, direction
            )
        return self._generators[direction]

    @contextlib.contextmanager
    def _mode(self, generator: LoadedGenerator, mode: Mode) -> Iterator[None]:
        generator.check_mode(mode, self.path.name)
        if generator.module is None:
            yield
            return
        with generator_mode(generator.module, mode):
            yield

    def translate_batch(
        self,
        batch: Tensor,
        *,
        direction: str | None = None,
        mode: Mode = "paper",
        tile: int | None = None,
        overlap: int | None = None,
        tile_batch: int = 1,
        load_size: int | None = None,
    ) -> Tensor:
        """Translate ``(N, C, H, W)`` floats in [-1, 1]; the tensor path every input takes.

        Channels are converted to the network's (grey ↔ RGB); ``load_size`` resizes to a
        square first (as the official test.py does); ``tile`` translates in overlapping
        tiles (``overlap`` pixels, default a quarter), one image at a time.
        """
        generator = self.generator(direction)
        image = match_channels(batch.to(self.device), generator.in_channels)
        if load_size is not None:
            image = resize_square(image, load_size)
        with self._mode(generator, mode):
            if not tile:
                return translate_whole(generator, image)
            overlap = tile // 4 if overlap is None else overlap
            return torch.cat(
                [translate_tiled(generator, one[None], tile, overlap, tile_batch) for one in image]
            )

    def __call__(
        self,
        image: Any,
        *,
        direction: str | None = None,
        mode: Mode = "paper",
        tile: int | None = None,
        overlap: int | None = None,
        seed: int | None = None,
    ) -> Any:
        """Translate a PIL image, a NumPy array or a tensor (or a list of them).

        Each result has the input's type and size: a PIL RGB image for a PIL image; an
        ``(H, W, C)`` array of the input's dtype (uint8, uint16, or float in [0, 1]) for an
        array; a tensor shaped like the input (``(C, H, W)`` or ``(N, C, H, W)``) for a
        tensor, float in [-1, 1] for a float one, uint8 or uint16 for those. An empty image,
        NaN or infinite values, or values outside the dtype's range (a float array of
        0..255) raise :class:`i2i.errors.DataError`. ``mode`` is ``"paper"`` (the paper's test time:
        dropout on, each image's own statistics) or ``"eval"``; ``seed`` fixes the paper
        mode's dropout.
        """
        if seed is not None:
            torch.manual_seed(seed)
        options = dict(direction=direction, mode=mode, tile=tile, overlap=overlap)
        if isinstance(image, (list, tuple)):
            return [self(one, **options) for one in image]
        if isinstance(image, Image.Image):
            pixels = image_to_tensor(image)
            return Image.fromarray(to_rgb_array(self.translate_batch(pixels[None], **options)[0]))
        if isinstance(image, np.ndarray):
            tensor, restore = _from_array(image)
            return restore(self.translate_batch(tensor[None], **options)[0])
        if torch.is_tensor(image):
            if image.dim() not in (3, 4):
                raise DataError(
                    f"a tensor image must be (C, H, W) or (N, C, H, W), got {image.dim()}-D"
                )
            tensor, restore = _from_tensor(image)
            batch = tensor if image.dim() == 4 else tensor[None]
            output = self.translate_batch(batch, **options)
            return restore(output if image.dim() == 4 else output[0])
        raise DataError(
            f"cannot translate a {type(image).__name__}; give a PIL image, a NumPy array, a "
            "tensor, or a list of them"
        )


def image_to_tensor(image: Image.Image) -> Tensor:
    """A PIL image as the ``(3, H, W)`` [-1, 1] tensor i2i's decoder would make of its file."""
    from i2i.data.images import _to_rgb

    upright = ImageOps.exif_transpose(image)
    pixels = torch.from_numpy(np.array(_to_rgb(upright), dtype=np.uint8)).permute(2, 0, 1)
    return to_signed_unit(pixels)


def _from_array(array: np.ndarray) -> tuple[Tensor, Any]:
    """An ``(H, W)`` or ``(H, W, C)`` array as a [-1, 1] tensor, and the way back to its type."""
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise DataError(f"an array image must be (H, W) or (H, W, C), got shape {array.shape}")
    dtype = array.dtype
    if dtype == np.uint8:
        scale = 255.0
    elif dtype == np.uint16:
        scale = 65535.0
    elif np.issubdtype(dtype, np.floating):
        scale = 1.0
    else:
        raise DataError(f"array images must be uint8, uint16 or float in [0, 1], not {dtype}")
    values = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).permute(2, 0, 1)
    check_values(values, "array", (0.0, scale), "float arrays hold [0, 1]: divide by 255")
    tensor = values / scale * 2 - 1

    def restore(output: Tensor) -> np.ndarray:
        unit = ((output.detach().float().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy()
        if scale == 1.0:
            return unit.astype(dtype)
        return np.round(unit * scale).astype(dtype)

    return tensor, restore


def _from_tensor(image: Tensor) -> tuple[Tensor, Any]:
    """A float tensor in [-1, 1] as it is; a uint8 or uint16 one scaled like an image file,
    and the way back to its dtype and device."""
    integer = {torch.uint8: 255.0, torch.uint16: 65535.0}
    if image.dtype in integer:
        scale = integer[image.dtype]
        values = image.float()
        check_values(values, "tensor", (0.0, scale), "")
        back = image.dtype

        def to_integer(output: Tensor) -> Tensor:
            unit = (output.detach().float().clamp(-1, 1) + 1) / 2
            return torch.round(unit * scale).to(back).to(image.device)

        return values / scale * 2 - 1, to_integer
    if not image.is_floating_point():
        raise DataError(
            f"tensor images must be float in [-1, 1], uint8 or uint16, not {image.dtype}"
        )
    values = image.float()
    check_values(
        values, "tensor", (-1.0, 1.0), "float tensors hold [-1, 1]: x / 127.5 - 1 maps 0..255 there"
    )
    return values, lambda output: output.to(image.device)


RANGE_SLACK = 1e-3
"""How far beyond its range a float input may stray (rounding) before it is refused."""


def check_values(values: Tensor, kind: str, bounds: tuple[float, float], fix: str) -> None:
    """Refuse an empty image, NaN or infinite values, and values outside ``bounds``."""
    if values.numel() == 0 or min(values.shape[-2:]) == 0:
        raise DataError(f"the {kind} image is empty (shape {tuple(values.shape)})")
    if not bool(torch.isfinite(values).all()):
        raise DataError(f"the {kind} image holds NaN or infinite values")
    low, high = float(values.min()), float(values.max())
    slack = RANGE_SLACK * (bounds[1] - bounds[0])
    if low < bounds[0] - slack or high > bounds[1] + slack:
        advice = f"; {fix}" if fix else ""
        raise DataError(
            f"the {kind} image's values run from {low:g} to {high:g}, outside "
            f"[{bounds[0]:g}, {bounds[1]:g}]{advice}"
        )


def load(path: str | Path, device: str = "cpu") -> Model:
    """Load a trained model: ``i2i.load("model.safetensors")(Image.open("photo.jpg"))``."""
    return Model(path, device)
