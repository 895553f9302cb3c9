"""Hook implementations: what the CycleGAN plugin contributes to i2i's registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from i2i import hookimpl
from i2i_cyclegan.method import CycleGANMethod


@hookimpl
def i2i_methods() -> dict[str, Callable[..., Any]]:
    """CycleGAN: G step then D step, cycle and identity losses, an image pool per direction."""
    return {"cyclegan": CycleGANMethod}
