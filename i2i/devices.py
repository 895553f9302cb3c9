"""Which torch devices exist here, checked before anything is loaded onto one."""

from __future__ import annotations

from i2i.errors import DeviceError


def available_device(name: str) -> str:
    """``name`` (cpu, cuda, cuda:1, mps) when that device exists here; else DeviceError."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise DeviceError(f"{name!r} is not a device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"{name!r}: CUDA is not available on this machine; use cpu")
        if device.index is not None and device.index >= count:
            raise DeviceError(f"{name!r}: this machine has {count} CUDA device(s)")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"{name!r}: MPS is not available on this machine; use cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"{name!r}: i2i runs on cpu, cuda or mps")
    return str(name)
