"""ONNX: exporting a generator with dynamic batch and spatial size, and running it."""

from __future__ import annotations

import json
import warnings
from contextlib import AbstractContextManager
from pathlib import Path

import torch
from torch import Tensor, nn

from i2i.errors import CheckpointError, quoted
from i2i.inference.load import LoadedGenerator
from i2i.outputs import OutputFolder
from i2i.testtime import Mode, generator_mode, replaced_forward

METADATA_KEY = "i2i"


def export_onnx(
    generator: LoadedGenerator,
    path: Path,
    max_side: int = 16384,
    mode: Mode = "paper",
    outputs: OutputFolder | None = None,
) -> Path:
    """Export with free batch, height and width (sides: multiples of the size rule).

    The file is written through ``outputs`` (default: a folder of export outputs of this
    generator), so it never replaces what it may not (:mod:`i2i.outputs`).

    ``mode`` is fixed in the graph. ``paper``: each image normalised by its own statistics
    (InstanceNormalization with BatchNorm's scale and shift) and dropout drawn anew on every
    run (RandomUniformLike), as :func:`~i2i.testtime.generator_mode` computes it. ``eval``:
    running statistics, no dropout.
    """
    try:
        import onnx
    except ImportError:
        raise CheckpointError("ONNX export needs: pip install 'i2i[onnx]'") from None
    module = generator.module
    if module is None:
        raise CheckpointError("this generator is already an ONNX model")
    multiple = generator.size_multiple
    module = module.cpu()
    # Traced at twice the multiple: at the multiple itself a U-Net's bottleneck is 1×1 and
    # torch.export would specialise on it. The exported graph still runs at the multiple.
    example = torch.zeros(2, generator.in_channels, 2 * multiple, 2 * multiple)
    dims = {
        0: torch.export.Dim("batch", min=1),
        2: multiple * torch.export.Dim("rows", min=2, max=max_side // multiple),
        3: multiple * torch.export.Dim("columns", min=2, max=max_side // multiple),
    }
    try:
        with (
            warnings.catch_warnings(),
            generator_mode(module, mode),
            _dropout_as_random_mask(module),
        ):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                input_names=["image"],
                output_names=["output"],
                dynamic_shapes={"image": dims},
                verbose=False,
            )
    except Exception as error:  # torch.export raises many kinds; the user needs the first line
        first = str(error).strip().splitlines()[0]
        raise CheckpointError(f"ONNX export failed: {type(error).__name__}: {first}") from None
    model = program.model_proto
    info = {
        "in_channels": generator.in_channels,
        "out_channels": generator.out_channels,
        "size_multiple": multiple,
        "min_size": generator.min_size,
        "node": generator.node,
        "mode": mode,
    }
    onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps(info)})
    outputs = outputs or OutputFolder(path.parent, "export", generator.source)
    return outputs.write(path, lambda name: onnx.save(model, name, format="protobuf"))


def _dropout_as_random_mask(module: nn.Module) -> AbstractContextManager:
    """Dropout written as ``x * (U(0,1) >= p) / (1 - p)`` while exporting.

    The exporter writes a training-mode ``nn.Dropout`` as an ONNX Dropout node that
    onnxruntime runs as the identity; a uniform draw and a comparison keep it random.
    """
    dropouts = [m for m in module.modules() if isinstance(m, nn.Dropout) and m.training]
    return replaced_forward(dropouts, _random_mask)


def _random_mask(dropout: nn.Dropout, input: Tensor) -> Tensor:
    keep = (torch.rand_like(input) >= dropout.p).to(input.dtype)
    return input * keep / (1.0 - dropout.p)


def load_onnx(path: Path, device: str = "cpu") -> LoadedGenerator:
    """Run an exported generator through onnxruntime, in the mode it was exported in."""
    try:
        import onnxruntime
    except ImportError:
        raise CheckpointError("running .onnx models needs: pip install 'i2i[onnx]'") from None
    providers = ["CPUExecutionProvider"]
    if (
        device.startswith("cuda")
        and "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    ):
        providers.insert(0, "CUDAExecutionProvider")
    try:
        session = onnxruntime.InferenceSession(str(path), providers=providers)
    except Exception as error:  # onnxruntime raises its own exception types
        raise CheckpointError(f"onnxruntime cannot load {quoted(path)}: {error}") from None
    props = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in props:
        raise CheckpointError(
            f"{quoted(path)} was not exported by i2i (no '{METADATA_KEY}' metadata)"
        )
    info = json.loads(props[METADATA_KEY])

    def run(image: Tensor) -> Tensor:
        array = image.detach().float().cpu().contiguous().numpy()
        (output,) = session.run(None, {"image": array})
        return torch.from_numpy(output).to(image.device)

    return LoadedGenerator(
        run,
        None,
        info["in_channels"],
        info["out_channels"],
        info["size_multiple"],
        info["node"],
        f"onnx {path.name}",
        fixed_mode=info.get("mode", "eval"),  # exports before paper mode existed were eval
        min_size=info.get("min_size", 0),
    )
