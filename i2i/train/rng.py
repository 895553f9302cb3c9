"""Every random number generator a run draws from, captured and restored exactly.

Python's and numpy's states become JSON and a tensor, torch's (CPU and each CUDA device) a
uint8 tensor, so they travel in a safetensors checkpoint without pickling.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from torch import Tensor


def capture_rng() -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The current states as ``({name: tensor}, json_meta)``."""
    version, internal, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()
    tensors = {
        "rng.torch": torch.get_rng_state(),
        "rng.numpy": torch.from_numpy(np.asarray(keys, dtype=np.uint32).astype(np.int64)),
    }
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state
    meta = {
        "rng.python": [version, list(internal), gauss],
        "rng.numpy": [kind, int(position), int(has_gauss), float(cached)],
    }
    return tensors, meta


def restore_rng(tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
    """Put back states taken by :func:`capture_rng`; absent ones are left alone."""
    if "rng.python" in meta:
        version, internal, gauss = meta["rng.python"]
        random.setstate((version, tuple(internal), gauss))
    if "rng.numpy" in meta and "rng.numpy" in tensors:
        kind, position, has_gauss, cached = meta["rng.numpy"]
        keys = tensors["rng.numpy"].numpy().astype(np.uint32)
        np.random.set_state((kind, keys, position, has_gauss, cached))
    if "rng.torch" in tensors:
        torch.set_rng_state(tensors["rng.torch"])
    cuda = sorted(k for k in tensors if k.startswith("rng.cuda."))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])
