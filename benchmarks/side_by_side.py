"""i2i beside the authors' code, in one run: training and translation as whole processes.

    python benchmarks/side_by_side.py --official ../shared/reference/official \
        --data ../shared/data/maps [--short 20] [--long 80] [--rounds 2] [--images 100]

On the maps pairs at 256², batch 1 (the paper's recipe, recipes/pix2pix_maps.yaml; the
authors' ``train.py`` with the CPU flags of its README.i2i.md), alternating the two programs
for ``--rounds`` rounds:

- training ``--short`` and ``--long`` iterations, each a whole process (start to exit), from
  which the steady seconds per iteration (the slope) and the fixed overhead of a run (the
  rest: start-up, the first iterations, previews, checkpoint writes, exit) are derived;
- translating ``--images`` val images as a whole process: the authors' ``test.py`` and
  ``i2i translate --batch-size 8``, both in the paper's test mode, the same U-Net weights
  (written by the authors' code, read by i2i's converter), and the same with those weights
  exported by ``i2i export --int8`` (the CPU deployment path; the export is not timed);
- the peak RSS of each process (with its data-loader workers), and how long ``i2i --help``
  and ``i2i plugins`` take (the latter twice: the first listing loads the plugins and fills
  the cache, the second is what a user sees until something is installed or edited).

Every ratio is of figures measured in this run on this machine: authors' time / i2i's time
(above 1: i2i is faster). Nothing is compared with a figure from elsewhere.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path

from suite import ROOT, machine, run_child

RECIPE = ROOT / "recipes" / "pix2pix_maps.yaml"

SEEDED = """
import random, runpy, sys
import numpy, torch
random.seed(0); numpy.random.seed(0); torch.manual_seed(0)
sys.path.insert(0, {folder!r})
sys.argv = [{script!r}, *{arguments!r}]
runpy.run_path({script!r}, run_name="__main__")
"""
"""The authors' script, run as its own process: seeded (it has no seed option)."""

WRITE_GENERATOR = """
import sys, torch
sys.path.insert(0, {folder!r})
from models import networks
torch.manual_seed(0)
net = networks.define_G(3, 3, 64, "unet_256", "batch", True, "normal", 0.02, [])
torch.save(net.state_dict(), {path!r})
"""
"""A U-Net as the authors' pix2pix builds it, saved as their test.py loads it."""


def authors(folder: Path, script: str, arguments: list[str]) -> list[str]:
    """The command running the authors' ``script`` with ``arguments``."""
    code = SEEDED.format(folder=str(folder), script=str(folder / script), arguments=arguments)
    return [sys.executable, "-c", code]


def train_authors(official: Path, data: Path, steps: int, work: Path) -> tuple[float, float]:
    """``train.py`` for ``steps`` iterations at batch 1: (wall s, peak RSS GB)."""
    arguments = [
        f"--dataroot={data}",
        f"--checkpoints_dir={work / 'authors-checkpoints'}",
        f"--name=train{steps}",
        "--model=pix2pix",
        "--direction=AtoB",
        "--gpu_ids=-1",
        "--display_id=-1",
        "--load_size=286",
        "--n_epochs=1",
        "--n_epochs_decay=0",
        "--lr_policy=step",
        f"--max_dataset_size={steps}",
    ]
    wall, peak, _ = run_child(authors(official, "train.py", arguments))
    return wall, peak


def train_i2i(data: Path, steps: int, work: Path, index: int) -> tuple[float, float]:
    """``i2i run recipes/pix2pix_maps.yaml`` for ``steps`` iterations: (wall s, peak RSS GB)."""
    command = [sys.executable, "-m", "i2i", "run", str(RECIPE), f"data.root={data}"]
    command += [f"train.max_steps={steps}", "log.progress=false"]
    command += [f"run.dir={work / f'i2i-train{steps}-{index}'}"]
    wall, peak, _ = run_child(command)
    return wall, peak


def translate_authors(official: Path, data: Path, images: int, work: Path) -> tuple[float, float]:
    """``test.py`` over ``images`` val pairs (paper mode, as the authors' default)."""
    arguments = [
        f"--dataroot={data}",
        f"--checkpoints_dir={work / 'authors-checkpoints'}",
        "--name=translate",
        "--model=pix2pix",
        "--direction=AtoB",
        "--gpu_ids=-1",
        "--phase=val",
        f"--num_test={images}",
        f"--results_dir={work / 'authors-results'}",
    ]
    wall, peak, _ = run_child(authors(official, "test.py", arguments))
    return wall, peak


def translate_i2i(generator: Path, data: Path, images: int, work: Path, index: int) -> tuple:
    """``i2i translate`` of the same ``images`` val pairs with the same weights."""
    inputs = work / "val-inputs"
    if not inputs.is_dir():
        inputs.mkdir()
        for path in sorted((data / "val").iterdir())[:images]:
            (inputs / path.name).symlink_to(path.resolve())
    command = [sys.executable, "-m", "i2i", "translate", "-c", str(generator)]
    command += ["-o", str(work / f"i2i-translated-{index}"), "--aligned", "--load-size", "256"]
    command += ["--batch-size", "8", "--no-progress", str(inputs)]
    wall, peak, _ = run_child(command)
    return wall, peak


def slope_and_overhead(short: tuple, long: tuple, steps: tuple[int, int]) -> tuple[float, float]:
    """Steady s/it (the slope between the two lengths) and the fixed overhead of a run."""
    per_step = (long[0] - short[0]) / (steps[1] - steps[0])
    return per_step, short[0] - per_step * steps[0]


def main() -> None:
    """Measure, then print every figure and ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", required=True, type=Path, help="the authors' checkout")
    parser.add_argument("--data", required=True, type=Path, help="maps root (train/, val/)")
    parser.add_argument("--short", type=int, default=20, help="iterations of the short run")
    parser.add_argument("--long", type=int, default=80, help="iterations of the long run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--images", type=int, default=100, help="val images translated")
    options = parser.parse_args()
    official, data = options.official.resolve(), options.data.resolve()
    if not (official / "train.py").is_file():
        raise SystemExit(f"--official: {official} holds no train.py (the authors' checkout)")
    if importlib.util.find_spec("dominate") is None:
        raise SystemExit("the authors' code imports dominate: pip install dominate")
    steps = (options.short, options.long)
    rows: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        checkpoints = work / "authors-checkpoints" / "translate"
        checkpoints.mkdir(parents=True)
        generator = checkpoints / "latest_net_G.pth"
        code = WRITE_GENERATOR.format(folder=str(official), path=str(generator))
        run_child([sys.executable, "-c", code])
        int8 = work / "int8.onnx"  # the same weights, for the CPU deployment path
        export = [sys.executable, "-m", "i2i", "export", "-c", str(generator), "--int8"]
        run_child([*export, "--calibration", str(data), str(int8)])
        for index in range(options.rounds):
            for length in steps:
                rows.setdefault(f"authors train {length}", []).append(
                    train_authors(official, data, length, work)
                )
                rows.setdefault(f"i2i train {length}", []).append(
                    train_i2i(data, length, work, index)
                )
            rows.setdefault("authors translate", []).append(
                translate_authors(official, data, options.images, work)
            )
            rows.setdefault("i2i translate", []).append(
                translate_i2i(generator, data, options.images, work, index)
            )
            rows.setdefault("i2i translate int8", []).append(
                translate_i2i(int8, data, options.images, work, index + options.rounds)
            )
            print(f"round {index + 1} of {options.rounds} measured", file=sys.stderr)
        listing = [sys.executable, "-m", "i2i", "plugins"]
        cache = {"I2I_CACHE_DIR": str(work / "cache")}  # empty: the first listing loads them
        startup = {
            "i2i --help": run_child([sys.executable, "-m", "i2i", "--help"])[0],
            "i2i plugins, first after an install or edit": run_child(listing, cache)[0],
            "i2i plugins": run_child(listing, cache)[0],
        }
    report(rows, steps, options, startup)


def report(rows: dict, steps: tuple[int, int], options: argparse.Namespace, startup: dict) -> None:
    """Print every measurement, the derived figures and the ratios."""
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']}")
    print(f"{'process':<28}{'wall s per round':<28}peak RSS GB")
    for name, values in rows.items():
        walls = ", ".join(f"{wall:.1f}" for wall, _ in values)
        print(f"{name:<28}{walls:<28}{max(peak for _, peak in values):.2f}")
    derived = {}
    for who in ("authors", "i2i"):
        per_round = [
            slope_and_overhead(short, long, steps)
            for short, long in zip(rows[f"{who} train {steps[0]}"], rows[f"{who} train {steps[1]}"])
        ]
        derived[who] = (
            statistics.mean(s for s, _ in per_round),
            statistics.mean(o for _, o in per_round),
        )
        print(f"{who}: steady {derived[who][0]:.3f} s/it, fixed overhead {derived[who][1]:.1f} s")
    steady = derived["authors"][0] / derived["i2i"][0]
    overhead = derived["authors"][1] - derived["i2i"][1]
    translation = statistics.mean(w for w, _ in rows["authors translate"]) / statistics.mean(
        w for w, _ in rows["i2i translate"]
    )
    print(f"steady training, authors / i2i: {steady:.2f}x ({_verdict(steady, 1.3)})")
    print(
        f"fixed overhead, authors - i2i: {overhead:+.1f} s "
        f"({'met' if overhead >= 0 else f'missed: i2i has {-overhead:.1f} s more'})"
    )
    print(
        f"translate {options.images} images, authors / i2i: {translation:.2f}x "
        f"({_verdict(translation, 3.0)})"
    )
    int8 = statistics.mean(w for w, _ in rows["authors translate"]) / statistics.mean(
        w for w, _ in rows["i2i translate int8"]
    )
    print(
        f"translate {options.images} images, authors / i2i int8 ONNX (export --int8): "
        f"{int8:.2f}x ({_verdict(int8, 3.0)})"
    )
    for command, wall in startup.items():
        verdict = (
            "" if "first" in command else f" ({'met' if wall < 1 else 'missed'}: target under 1 s)"
        )
        print(f"{command}: {wall:.2f} s{verdict}")


def _verdict(ratio: float, target: float) -> str:
    if ratio >= target:
        return f"target {target}x met"
    return f"target {target}x missed by {(target - ratio) / target:.0%}"


if __name__ == "__main__":
    main()
