"""int8 against fp32 on CPU: speed of each runtime and what quantisation costs in quality.

    python benchmarks/int8.py -c runs/maps --data ../shared/data/maps [--images 100]

From one trained run it exports, in the paper's test mode and in eval mode, an fp32 ONNX model
and an int8 one (``i2i export --int8``, calibrated on 32 training images), then on the val
split at the run's crop size:

- seconds per image, batch 1, of the PyTorch generator, fp32 ONNX and int8 ONNX (best of
  three passes over ``--speed-images`` images, each runtime timed alone, one after another);
- PSNR of the int8 outputs against the fp32 ONNX outputs (eval mode: no randomness; paper
  mode: beside two fp32 runs against each other, as its dropout draws anew each time);
- palette accuracy (``i2i eval --palette-colors 6``, the studies' score) of each ONNX model.

Every figure is measured in this run; the ratios are fp32 time / int8 time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from suite import machine, run_child

import i2i
from i2i.inference.int8 import psnr_between

CLI = [sys.executable, "-m", "i2i"]


def main() -> None:
    """Export, time and score; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--checkpoint", required=True, help="a run folder or checkpoint")
    parser.add_argument("--data", required=True, help="the dataset root (val split scored)")
    parser.add_argument("--images", type=int, default=100, help="val images scored")
    parser.add_argument("--speed-images", type=int, default=10)
    arguments = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="i2i-int8-bench-") as work:
        folder = Path(work)
        for mode, flag in (("paper", []), ("eval", ["--eval"])):
            fp32, int8 = folder / f"{mode}_fp32.onnx", folder / f"{mode}_int8.onnx"
            run_child([*CLI, "export", "-c", arguments.checkpoint, *flag, str(fp32)])
            seconds, _, _ = run_child(
                [*CLI, "export", "-c", arguments.checkpoint, *flag, "--int8", str(int8)]
            )
            print(f"\n## {mode} mode (int8 export took {seconds:.0f} s)")
            report(arguments, mode, flag, fp32, int8, folder)


def report(arguments, mode: str, flag: list[str], fp32: Path, int8: Path, folder: Path) -> None:
    """The speed, agreement and palette rows of one test-time mode."""
    models = {
        "fp32": i2i.load(fp32),
        "int8": i2i.load(int8),
        "torch": i2i.load(arguments.checkpoint),
    }
    inputs = val_inputs(models["torch"], Path(arguments.data), arguments.images)
    speed = {
        name: seconds_per_image(m, inputs[: arguments.speed_images], mode)
        for name, m in models.items()
    }
    print("| runtime | s/image | vs fp32 ONNX |\n|---|---|---|")
    for name in ("torch", "fp32", "int8"):
        print(f"| {name} | {speed[name]:.4f} | {speed['fp32'] / speed[name]:.2f}× |")
    torch.manual_seed(0)
    with torch.no_grad():
        agree = [
            psnr_between(
                models["int8"].translate_batch(x, mode=mode),
                models["fp32"].translate_batch(x, mode=mode),
            )
            for x in inputs
        ]
        itself = [
            psnr_between(
                models["fp32"].translate_batch(x, mode=mode),
                models["fp32"].translate_batch(x, mode=mode),
            )
            for x in inputs
        ]
    print(
        f"PSNR int8 vs fp32 on {len(inputs)} val images: {statistics.mean(agree):.2f} dB"
        + (f" (fp32 vs itself: {statistics.mean(itself):.2f} dB)" if mode == "paper" else "")
    )
    for name, model in (("fp32", fp32), ("int8", int8)):
        _, _, out = run_child(
            [
                *CLI,
                "eval",
                "-c",
                str(model),
                *flag,
                "--data",
                arguments.data,
                "--palette-colors",
                "6",
                "--no-progress",
                "-o",
                str(folder / f"eval_{mode}_{name}"),
            ]
        )
        print(f"{name}: {scores(folder / f'eval_{mode}_{name}')}")


def scores(folder: Path) -> str:
    """The summary line i2i eval wrote."""
    import json

    summary = json.loads((folder / "summary.json").read_text())
    metrics = {**summary["mean"], **(summary.get("scores") or {})}  # scores: the palette's
    keep = ("pixel_acc", "class_acc", "class_iou", "l1", "psnr")
    return ", ".join(f"{k} {metrics[k]:.4f}" for k in keep if k in metrics)


def val_inputs(model, root: Path, count: int) -> list[torch.Tensor]:
    """The A halves of the first ``count`` val pairs, at the size the model trained at."""
    from PIL import Image

    size = (model.generator().recipe.get("data") or {}).get("crop_size", 256)
    found = []
    for path in sorted((root / "val").glob("*.jpg"))[:count]:
        pair = Image.open(path).convert("RGB")
        half = pair.crop((0, 0, pair.width // 2, pair.height)).resize((size, size), Image.BICUBIC)
        tensor = torch.frombuffer(bytearray(half.tobytes()), dtype=torch.uint8)
        found.append(tensor.view(size, size, 3).permute(2, 0, 1)[None].float() / 127.5 - 1)
    return found


def seconds_per_image(model, inputs: list[torch.Tensor], mode: str) -> float:
    """Best of three passes over ``inputs``, batch 1, after one warm-up image."""
    with torch.no_grad():
        model.translate_batch(inputs[0], mode=mode)
        passes = []
        for _ in range(3):
            started = time.perf_counter()
            for x in inputs:
                model.translate_batch(x, mode=mode)
            passes.append((time.perf_counter() - started) / len(inputs))
    return min(passes)


if __name__ == "__main__":
    main()
