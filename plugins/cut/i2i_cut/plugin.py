"""The hook i2i calls: the ``cut`` method (``fastcut`` is its preset)."""

from __future__ import annotations

from i2i import hookimpl
from i2i_cut.method import CUTMethod, fastcut


@hookimpl
def i2i_methods() -> dict:
    """CUT, and FastCUT (λ_NCE 10, no identity NCE term)."""
    return {"cut": CUTMethod, "fastcut": fastcut}
