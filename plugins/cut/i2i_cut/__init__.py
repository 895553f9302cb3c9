"""CUT and FastCUT (Park et al., "Contrastive Learning for Unpaired Image-to-Image
Translation", ECCV 2020) as an i2i training method, written against i2i's public API."""

from i2i_cut.method import CUTMethod
from i2i_cut.nce import PatchSampler, patch_nce_loss

__all__ = ["CUTMethod", "PatchSampler", "patch_nce_loss"]
