"""How cost grows with image size: training at three crops, translation from 0.25 to 16 MP.

    python benchmarks/cost_growth.py -c runs/maps --data ../shared/data/maps

Each figure is a whole ``i2i`` process (its wall time and its peak RSS, data-loader workers
included), one after another on an otherwise idle machine:

- training the maps recipe at 128², 256² and 512² crops (loads 286/256 of the crop, as the
  paper), with one network for all three, the 7-level U-Net (the 8-level one takes multiples
  of 256 only): steady seconds per iteration (median of the logged rates after the first 10
  iterations) and peak RSS;
- translating a square mosaic of maps val photos of 512², 1024², 2048² and 4096² (0.26 to 16.8
  megapixels) with the run's generator, in eval mode, whole and with ``--tile 512``.

The growth per doubling of the side (4× the pixels) is the ratio of consecutive rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from suite import ROOT, machine, run_child
from tiling import mosaic

CLI = [sys.executable, "-m", "i2i"]
CROPS = (128, 256, 512)
SIDES = (512, 1024, 2048, 4096)


def train(data: str, crop: int, steps: int, folder: Path) -> tuple[float, float]:
    """(steady s/it, peak RSS GB) of a whole training process at ``crop``²."""
    run = folder / f"train{crop}"
    wall, peak, _ = run_child(
        [*CLI, "run", str(ROOT / "recipes" / "pix2pix_maps.yaml"), f"data.root={data}",
         f"data.load_size={round(crop * 286 / 256)}", f"data.crop_size={crop}",
         "model.generator.depth=7", f"train.max_steps={steps}", "log.every=5",
         "log.sample_every=100000", "checkpoint.every=100000", "log.progress=false",
         f"run.dir={run}"]
    )  # fmt: skip
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rates = [line["it_per_s"] for line in lines if "it_per_s" in line and line["step"] > 10]
    return 1 / statistics.median(rates), peak


def translate(checkpoint: str, image: Path, tiled: bool, folder: Path) -> tuple[float, float]:
    """(wall s, peak RSS GB) of one whole ``i2i translate`` process."""
    out = folder / f"out_{image.stem}_{'tiled' if tiled else 'whole'}"
    tile = ["--tile", "512"] if tiled else []
    wall, peak, _ = run_child(
        [*CLI, "translate", "-c", checkpoint, "--eval", *tile, "--no-progress", "-o", str(out),
         str(image)]
    )  # fmt: skip
    return wall, peak


def growth(values: list[float]) -> list[str]:
    """Each value over the one before it, as '×r' (the first has none)."""
    return ["—"] + [f"×{b / a:.2f}" for a, b in zip(values, values[1:])]


def main() -> None:
    """Measure and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--checkpoint", required=True, help="a run folder or checkpoint")
    parser.add_argument("--data", required=True, help="the maps dataset root")
    parser.add_argument("--steps", type=int, default=30, help="training iterations per size")
    arguments = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="i2i-growth-") as work:
        folder = Path(work)
        trained = [train(arguments.data, crop, arguments.steps, folder) for crop in CROPS]
        print("\n| crop | s/it | per doubling | peak RSS GB | per doubling |")
        print("|---|---|---|---|---|")
        for crop, (seconds, peak), g_time, g_peak in zip(
            CROPS,
            trained,
            growth([t for t, _ in trained]),
            growth([p for _, p in trained]),
        ):
            print(f"| {crop}² | {seconds:.3f} | {g_time} | {peak:.2f} | {g_peak} |")
        val = Path(arguments.data) / "val"
        print(
            "\n| image | megapixels | whole s | per doubling | whole peak GB | per doubling | "
            "tiled s | tiled peak GB |\n|---|---|---|---|---|---|---|---|"
        )
        rows = []
        for side in SIDES:
            image = mosaic(val, side, folder / f"mosaic{side}.png")
            rows.append(
                (
                    translate(arguments.checkpoint, image, False, folder),
                    translate(arguments.checkpoint, image, True, folder),
                )
            )
        whole_time = growth([whole[0] for whole, _ in rows])
        whole_peak = growth([whole[1] for whole, _ in rows])
        for side, (whole, tiled), g_time, g_peak in zip(SIDES, rows, whole_time, whole_peak):
            print(
                f"| {side}² | {side * side / 1e6:.2f} | {whole[0]:.1f} | {g_time} | "
                f"{whole[1]:.2f} | {g_peak} | {tiled[0]:.1f} | {tiled[1]:.2f} |"
            )


if __name__ == "__main__":
    main()
