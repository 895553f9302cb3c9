"""Reading the official implementation's U-Net checkpoints (``*_net_G.pth``).

The official U-Net nests one block per level: level ``k`` lives under
``model.model.1.model(.3.model)*(k-1)``, holding (down ReLU, down conv, down norm,
submodule, up ReLU, up conv, up norm) at Sequential indices 0–6; the outermost block has
(down conv, submodule, up ReLU, up conv) at 0–3 and the innermost (down ReLU, down conv,
up ReLU, up conv, up norm) at 0–4. Depth, width and norm follow from the keys and shapes.
"""

from __future__ import annotations

import re

from torch import Tensor

from i2i.interfaces import ConvertedGenerator

_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _prefix(level: int) -> str:
    return "model.model." if level == 0 else "model.model.1.model." + "3.model." * (level - 1)


def _depth(state: dict[str, Tensor]) -> int:
    """Number of levels; level k ≥ 1 sits under ``model.model.1.model.`` + ``3.model.`` × (k−1)."""
    deepest = 0
    for key in state:
        if key.startswith(_prefix(1)):
            rest, level = key[len(_prefix(1)) :], 1
            while rest.startswith("3.model."):
                rest, level = rest[len("3.model.") :], level + 1
            deepest = max(deepest, level)
    return deepest + 1


def _local(level: int, depth: int) -> dict[str, int]:
    """Sequential indices of the layers of ``level`` in the official block."""
    if level == 0:
        return {"down_conv": 0, "up_conv": 3}
    if level == depth - 1:
        return {"down_conv": 1, "up_conv": 3, "up_norm": 4}
    return {"down_conv": 1, "down_norm": 2, "up_conv": 5, "up_norm": 6}


def convert_official_unet(state: dict[str, Tensor]) -> ConvertedGenerator | None:
    """The official unet_128/unet_256 (any depth ≥ 3) as i2i's ``unet``, or None."""
    if "model.model.0.weight" not in state or "model.model.1.model.1.weight" not in state:
        return None
    depth = _depth(state)
    first = state["model.model.0.weight"]
    ngf, in_channels = first.shape[0], first.shape[1]
    out_channels = state[f"{_prefix(0)}3.weight"].shape[1]
    has_batch_norm = f"{_prefix(1)}2.weight" in state  # affine: BatchNorm, not InstanceNorm
    has_bias = f"{_prefix(1)}1.bias" in state
    norm = "batch" if has_batch_norm else ("instance" if has_bias else "none")

    own: dict[str, Tensor] = {}
    for level in range(depth):
        prefix, local = _prefix(level), _local(level, depth)
        own.update(_copy(state, f"{prefix}{local['down_conv']}.", f"down.{level}.0."))
        own.update(_copy(state, f"{prefix}{local['up_conv']}.", f"up.{level}.1."))
        if "down_norm" in local and norm == "batch":
            own.update(_copy(state, f"{prefix}{local['down_norm']}.", f"down.{level}.1."))
        if "up_norm" in local and norm == "batch":
            own.update(_copy(state, f"{prefix}{local['up_norm']}.", f"up.{level}.2."))
    if norm == "none":
        _add_zero_biases(own)
    node = {"name": "unet", "depth": depth, "ngf": int(ngf), "norm": norm, "dropout": 0.5}
    return ConvertedGenerator(node, own, int(in_channels), int(out_channels))


def _add_zero_biases(own: dict[str, Tensor]) -> None:
    """The official 'none' norm drops every conv bias; i2i keeps them, and zero is the same net."""
    for key in [k for k in own if k.endswith(".weight") and own[k].dim() == 4]:
        bias = key.removesuffix("weight") + "bias"
        if bias not in own:
            is_transposed = key.startswith("up.")
            channels = own[key].shape[1] if is_transposed else own[key].shape[0]
            own[bias] = own[key].new_zeros(channels)


def _copy(state: dict[str, Tensor], source: str, target: str) -> dict[str, Tensor]:
    """Tensors under ``source`` renamed to ``target``, minus stale buffers of non-BN norms."""
    found = {}
    for key, value in state.items():
        if key.startswith(source) and re.fullmatch(r"[A-Za-z_]+", key[len(source) :]):
            name = key[len(source) :]
            if name in _NORM_BUFFERS and f"{source}weight" not in state:
                continue  # InstanceNorm buffers saved by old PyTorch versions: meaningless
            found[target + name] = value
    return found
