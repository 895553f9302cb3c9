"""ONNX: exporting a generator with dynamic batch and spatial size, and running it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import Tensor

from i2i.errors import CheckpointError
from i2i.inference.load import LoadedGenerator

METADATA_KEY = "i2i"


def export_onnx(generator: LoadedGenerator, path: Path, max_side: int = 16384) -> Path:
    """Export in eval mode with free batch, height and width (sides: multiples of the size rule)."""
    try:
        import onnx
    except ImportError:
        raise CheckpointError("ONNX export needs: pip install 'i2i[onnx]'") from None
    module = generator.module
    if module is None:
        raise CheckpointError("this generator is already an ONNX model")
    multiple = generator.size_multiple
    module = module.eval().cpu()
    # Traced at twice the multiple: at the multiple itself a U-Net's bottleneck is 1×1 and
    # torch.export would specialise on it. The exported graph still runs at the multiple.
    example = torch.zeros(2, generator.in_channels, 2 * multiple, 2 * multiple)
    dims = {
        0: torch.export.Dim("batch", min=1),
        2: multiple * torch.export.Dim("rows", min=2, max=max_side // multiple),
        3: multiple * torch.export.Dim("columns", min=2, max=max_side // multiple),
    }
    try:
        with warnings.catch_warnings():
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
        "node": generator.node,
    }
    onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps(info)})
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def load_onnx(path: Path, device: str = "cpu") -> LoadedGenerator:
    """Run an exported generator through onnxruntime (eval mode: no dropout, running stats)."""
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
        raise CheckpointError(f"onnxruntime cannot load '{path}': {error}") from None
    props = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in props:
        raise CheckpointError(f"'{path}' was not exported by i2i (no '{METADATA_KEY}' metadata)")
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
    )
