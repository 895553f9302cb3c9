"""int8 ONNX models for CPU deployment: static quantisation with a calibration set.

onnxruntime's int8 kernels cover convolutions (``QLinearConv``) but not transposed ones,
which it runs in float between a dequantisation and a requantisation: a U-Net's decoder,
half its work, would gain nothing. So before quantising, each ``ConvTranspose2d`` whose output
is exactly ``stride`` times its input (the 4×4, stride-2, padding-1 layers of the U-Net and
ResNet decoders) is rewritten as the same map in sub-pixel form: one convolution over the
taps each output phase reads, then a pixel shuffle (:class:`SubPixelConvTranspose`, equal to
the original to float rounding). Everything then runs as int8 convolutions.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from i2i.errors import CheckpointError
from i2i.inference.load import LoadedGenerator
from i2i.outputs import OutputFolder


class SubPixelConvTranspose(nn.Module):
    """A ``ConvTranspose2d`` whose output is ``stride`` × its input, as conv + pixel shuffle.

    Output position ``o = stride·m + r`` of a transposed convolution reads input ``m - j``
    through kernel tap ``stride·j + r + padding``: for each phase ``r`` a small correlation.
    All phases share one convolution over the union of their taps (a tap a phase does not
    read is zero), whose ``stride²`` groups of output channels a pixel shuffle interleaves.
    """

    def __init__(self, layer: nn.ConvTranspose2d) -> None:
        super().__init__()
        if not rewritable(layer):
            raise ValueError(f"{layer} does not map each input pixel to stride² outputs")
        size, stride, padding = layer.kernel_size[0], layer.stride[0], layer.padding[0]
        phases = [
            [j for j in range(-size, size + 1) if 0 <= stride * j + r + padding < size]
            for r in range(stride)
        ]
        self.before = max(max(taps) for taps in phases)  # padding above/left
        self.after = -min(min(taps) for taps in phases)  # padding below/right
        span = self.before + self.after + 1
        weight = layer.weight.detach()  # (in, out, k, k)
        channels_in, channels_out = weight.shape[:2]
        kernel = weight.new_zeros(channels_out, stride, stride, channels_in, span, span)
        for row_phase, rows in enumerate(phases):
            for column_phase, columns in enumerate(phases):
                for j in rows:
                    for i in columns:
                        tap = weight[:, :, stride * j + row_phase + padding]
                        tap = tap[:, :, stride * i + column_phase + padding]
                        kernel[:, row_phase, column_phase, :, self.before - j, self.before - i] = (
                            tap.t()
                        )
        self.stride = stride
        self.conv = nn.Conv2d(channels_in, channels_out * stride * stride, span)
        self.conv.weight.data = kernel.reshape(-1, channels_in, span, span)
        bias = layer.bias.detach() if layer.bias is not None else weight.new_zeros(channels_out)
        self.conv.bias.data = bias.repeat_interleave(stride * stride)

    def forward(self, input: Tensor) -> Tensor:
        """The transposed convolution's output."""
        padded = F.pad(input, (self.before, self.after, self.before, self.after))
        return F.pixel_shuffle(self.conv(padded), self.stride)


def rewritable(layer: nn.Module) -> bool:
    """True for a 2-D transposed convolution that maps each pixel to a stride × stride block."""
    if not isinstance(layer, nn.ConvTranspose2d) or layer.groups != 1:
        return False
    (k, k2), (s, s2), (p, p2) = layer.kernel_size, layer.stride, layer.padding
    square = k == k2 and s == s2 and p == p2 and layer.output_padding == (0, 0)
    return square and layer.dilation == (1, 1) and k - 2 * p == s and s > 1


@contextmanager
def subpixel_decoder(module: nn.Module) -> Iterator[int]:
    """Within the block, every rewritable ``ConvTranspose2d`` of ``module`` is in sub-pixel
    form (yields how many); the originals are put back after."""
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if rewritable(child):
                replacement = SubPixelConvTranspose(child).to(child.weight.device)
                replacement.train(child.training)
                setattr(parent, name, replacement)
                swapped.append((parent, name, child))
    try:
        yield len(swapped)
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def quantize(
    fp32_model: Path, target: Path, calibration: Sequence[Tensor], outputs: OutputFolder
) -> Path:
    """``fp32_model`` statically quantised to int8 (QDQ, per-channel weights) into ``target``.

    ``calibration`` holds input batches as the model sees them, from which onnxruntime
    chooses each activation's int8 range.
    """
    try:
        from onnxruntime.quantization import (
            CalibrationDataReader,
            QuantFormat,
            QuantType,
            quantize_static,
        )
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError:
        raise CheckpointError("int8 export needs: pip install 'i2i[onnx]'") from None

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(calibration)

        def get_next(self) -> dict | None:
            batch = next(self.left, None)
            return None if batch is None else {"image": batch.float().cpu().numpy()}

    with tempfile.TemporaryDirectory(prefix="i2i-int8-") as work:
        prepared = Path(work) / "prepared.onnx"
        # Symbolic shape inference cannot follow the free image sides; ONNX's own suffices.
        quant_pre_process(str(fp32_model), str(prepared), skip_symbolic_shape=True)

        def write(name: str) -> None:
            quantize_static(
                str(prepared),
                name,
                Batches(),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,
            )

        # Its per-channel attempt on the norms' rank-1 scales logs a warning per layer and
        # falls back to one scale; the user can do nothing about it.
        logging.disable(logging.WARNING)
        try:
            return outputs.write(target, write)
        finally:
            logging.disable(logging.NOTSET)


def psnr_between(first: Tensor, second: Tensor) -> float:
    """PSNR in dB of one [-1, 1] image batch against another (inf when equal)."""
    mse = ((first.float() - second.float()) / 2).square().mean().item()
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def agreement(fp32: LoadedGenerator, int8: LoadedGenerator, inputs: Sequence[Tensor]) -> float:
    """Mean PSNR of the int8 model's outputs against the fp32 model's on ``inputs``."""
    with torch.no_grad():
        return sum(psnr_between(int8.run(x), fp32.run(x)) for x in inputs) / max(len(inputs), 1)
