"""Paired data: decoding in loader workers, augmentation on the device.

To add a dataset, write a class meeting :class:`i2i.interfaces.PairedDataset` (its
``__init__(root, split, **args)``, ``__len__``, ``__getitem__`` returning ``{"A", "B",
"name"}`` with uint8 or uint16 ``(C, H, W)`` tensors) and return it from an
``i2i_datasets`` hook. :func:`read_image` (and :func:`read_rgb`) decode files the way the
built-in datasets do, raising :class:`~i2i.errors.DataError` for any unreadable file, which
``data.on_corrupt=skip`` turns into a skipped pair.
"""

from i2i.data.augment import EvalTransform, PairedAugmentation, to_signed_unit, to_uint8
from i2i.data.datasets import AlignedDataset, PairedFoldersDataset
from i2i.data.images import list_images, read_image, read_rgb
from i2i.data.loader import EpochSampler, collate_pairs, make_loader, split_direction
from i2i.data.synthetic import SyntheticShapesDataset

__all__ = [
    "AlignedDataset",
    "EpochSampler",
    "EvalTransform",
    "PairedAugmentation",
    "PairedFoldersDataset",
    "SyntheticShapesDataset",
    "collate_pairs",
    "list_images",
    "make_loader",
    "read_image",
    "read_rgb",
    "split_direction",
    "to_signed_unit",
    "to_uint8",
]
