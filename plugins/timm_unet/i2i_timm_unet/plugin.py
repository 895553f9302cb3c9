"""What this plugin registers with i2i."""

from __future__ import annotations

from i2i import hookimpl
from i2i_timm_unet.generator import TimmUNet


@hookimpl
def i2i_generators() -> dict[str, type]:
    """The timm-encoder U-Net."""
    return {"timm_unet": TimmUNet}
