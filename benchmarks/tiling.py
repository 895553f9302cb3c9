"""Tiled vs whole-image translation of a large mosaic: peak memory, time, and seams.

    python benchmarks/tiling.py CHECKPOINT MAPS_VAL_FOLDER [--size 4096] [--tile 512] [--overlap N]

Builds a SIZE² aerial mosaic from the A halves of aligned maps images, then in separate
processes (so each peak RSS is its own) translates it whole and with --tile, in eval mode.
Seams: mean horizontal-gradient energy of the output on the columns where tiles start or end,
over the same on all other columns; shown beside the same ratio of the untiled output (what the
image content alone gives there), for blended tiles and for hard-edged ones.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def mosaic(folder: Path, size: int, out: Path) -> Path:
    """A size² image tiled from the left halves of the aligned files in ``folder``."""
    files = sorted(folder.glob("*.jpg"))
    canvas = Image.new("RGB", (size, size))
    step, index = 600, 0
    for top in range(0, size, step):
        for left in range(0, size, step):
            with Image.open(files[index % len(files)]) as pair:
                canvas.paste(pair.crop((0, 0, 600, 600)), (left, top))
            index += 1
    canvas.save(out)
    return out


def seam_ratio(image: np.ndarray, tile: int, overlap: int) -> float:
    """Gradient energy at tile edges over elsewhere, along x."""
    gradient = np.abs(np.diff(image.astype(np.float64), axis=1)).mean(axis=(0, 2))
    width, stride = image.shape[1], tile - overlap
    starts = [*range(0, width - tile, stride), width - tile]
    edges = {s - 1 for s in starts if s > 0} | {s + tile - 1 for s in starts if s + tile < width}
    mask = np.zeros_like(gradient, dtype=bool)
    mask[sorted(edges)] = True
    return float(gradient[mask].mean() / gradient[~mask].mean())


def worker(checkpoint: str, image_path: str, tile: int, overlap: int, out_path: str) -> None:
    """One translation in this process; prints JSON with seconds and peak RSS."""
    from i2i.data.augment import to_signed_unit
    from i2i.data.images import read_rgb
    from i2i.inference.load import load_generator
    from i2i.inference.translate import save_image, translate_tiled, translate_whole
    from i2i.plugins import default_registry
    from i2i.testtime import generator_mode

    generator = load_generator(checkpoint, default_registry())
    image = to_signed_unit(read_rgb(Path(image_path))).unsqueeze(0)
    started = time.perf_counter()
    with generator_mode(generator.module, "eval"):
        if tile:
            output = translate_tiled(generator, image, tile, overlap)
        else:
            output = translate_whole(generator, image)
    seconds = time.perf_counter() - started
    save_image(output[0], Path(out_path))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"seconds": seconds, "peak_rss_gb": peak}))


def main() -> None:
    """Run the three translations and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("maps_val")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--overlap", type=int, default=None, help="default: tile/4")
    parser.add_argument("--work", default="/tmp/i2i-tiling")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        checkpoint, image, tile, overlap, out = args.worker
        worker(checkpoint, image, int(tile), int(overlap), out)
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    source = mosaic(Path(args.maps_val), args.size, work / "mosaic.png")
    print(f"mosaic                      {args.size}x{args.size} from {args.maps_val}")
    overlap = args.tile // 4 if args.overlap is None else args.overlap
    runs = {
        "whole image": (0, 0),
        f"tiles {args.tile}, overlap {overlap}": (args.tile, overlap),
        f"tiles {args.tile}, no overlap": (args.tile, 0),
    }
    for label, (tile, overlap) in runs.items():
        out = work / f"out_{tile}_{overlap}.png"
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                args.checkpoint,
                args.maps_val,
                "--worker",
                args.checkpoint,
                str(source),
                str(tile),
                str(overlap),
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            print(f"{label:<28}failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        line = f"{label:<28}{figures['seconds']:.1f} s, peak RSS {figures['peak_rss_gb']:.2f} GB"
        if tile:
            ratio = seam_ratio(np.asarray(Image.open(out)), tile, overlap)
            whole = work / "out_0_0.png"
            baseline = seam_ratio(np.asarray(Image.open(whole)), tile, overlap)
            line += f", seam ratio {ratio:.3f} (untiled output, same columns: {baseline:.3f})"
        print(line)
    print(f"torch threads               {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
