"""Convolutions that compute small CPU inputs as one matrix product: same weights, same sums.

On CPU, PyTorch's oneDNN kernels reorder the whole weight into a blocked layout on every
call. For the U-Net's inner levels (512-1024 channels on 1×1 to 8×8 maps: weights of 16-32 MB
and little arithmetic) that reorder, not the arithmetic, dominates: a ConvTranspose2d on a
2×2 input took 92 ms forward and backward, the matrix-product form 33 ms (measured on this
project's 2-core machine; ``benchmarks/suite.py`` times a whole step both ways).

The matrix-product form is ``unfold`` + matmul for a convolution and matmul + ``fold`` for a
transposed one. It computes the same sums in another order, so results agree to float
rounding. GPUs, exports (ONNX, torch.export) and large inputs take the ordinary path.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Inputs of at most this many pixels (N×H×W) take the matrix-product path on CPU; measured on
# the U-Net's layers: it wins for transposed convolutions up to 8×8 and plain ones at 2×2
# (batch 1), and no longer at 4×4 with a batch of 8.
# I2I_MATRIX_CONV=0 turns it off (to compare, or should a future oneDNN make it a loss).
_ENABLED = os.environ.get("I2I_MATRIX_CONV", "1") != "0"
TRANSPOSED_MAX_PIXELS = 64 if _ENABLED else 0
CONV_MAX_PIXELS = 4 if _ENABLED else 0


def _plain_layout(module: nn.Module) -> bool:
    return (
        module.groups == 1
        and module.dilation == (1, 1)
        and module.padding_mode == "zeros"
        and isinstance(module.padding, tuple)
    )


def _matrix_path(input: Tensor, max_pixels: int) -> bool:
    if input.device.type != "cpu" or input.dim() != 4:
        return False
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return False
    # The reorder is paid once per call, so a batch of many pixels amortises it.
    return input.shape[0] * input.shape[-2] * input.shape[-1] <= max_pixels


class SmallInputConv2d(nn.Conv2d):
    """``nn.Conv2d`` (same parameters and state_dict) with the matrix path for small inputs.

    ``max_pixels`` is the largest N×H×W that takes it; 0 turns it off.
    """

    max_pixels: int = CONV_MAX_PIXELS

    def forward(self, input: Tensor) -> Tensor:
        """Convolve; small CPU inputs as unfold + matmul."""
        if not (_plain_layout(self) and _matrix_path(input, self.max_pixels)):
            return super().forward(input)
        batch, _, height, width = input.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        rows, columns = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
        patches = F.unfold(input, self.kernel_size, padding=self.padding, stride=self.stride)
        output = self.weight.flatten(1) @ patches  # (N, out, rows × columns)
        if self.bias is not None:
            output = output + self.bias.view(1, -1, 1)
        return output.view(batch, self.out_channels, rows, columns)


class SmallInputConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` (same parameters, same state_dict) with the small-input path.

    ``max_pixels`` is the largest N×H×W that takes it; 0 turns it off.
    """

    max_pixels: int = TRANSPOSED_MAX_PIXELS

    def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:
        """Transposed convolution; small CPU inputs as matmul + fold."""
        if output_size is not None or not (
            _plain_layout(self) and _matrix_path(input, self.max_pixels)
        ):
            return super().forward(input, output_size)
        _, _, height, width = input.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        oph, opw = self.output_padding
        rows = (height - 1) * sh - 2 * ph + kh + oph
        columns = (width - 1) * sw - 2 * pw + kw + opw
        # Each input pixel spreads its channels over a kernel-sized patch of the output.
        patches = input.flatten(2).transpose(1, 2) @ self.weight.flatten(1)
        output = F.fold(
            patches.transpose(1, 2),
            (rows, columns),
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
        )
        if self.bias is not None:
            output = output + self.bias.view(1, -1, 1, 1)
        return output
