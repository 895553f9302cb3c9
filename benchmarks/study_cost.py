"""What the paper's studies cost: FLOPs and seconds per training iteration, and the totals.

    python benchmarks/study_cost.py [--steps 6] [--assume-tflops 10]

For the study budget (128², 7-level U-Net) and the paper's (256², 8 levels), on the recipe
``recipes/pix2pix_maps.yaml``: counts the floating-point operations of one real pix2pix
training iteration (D step, then G step; torch's FlopCounterMode) and times ``--steps``
iterations on this machine's CPU after one warm-up. It then multiplies out the three studies
(objective 5 variants × 2 seeds, generator 4, patch 4; the paper trains about 219,200
iterations: 200 epochs of 1096 pairs) into CPU-hours, measured here, and GPU-hours at an
**assumed** sustained ``--assume-tflops`` TFLOP/s: the GPU figure is an estimate, not a
measurement (batch-1 GAN training rarely keeps a GPU busy; check with a short run on yours).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from i2i.config import load_recipe
from i2i.methods import StepTools
from i2i.plugins import default_registry
from i2i.train.build import build_models
from i2i.train.precision import Precision

PAPER_ITERATIONS = 200 * 1096
STUDY_RUNS = {"objective": 10, "generator": 4, "patch": 4}
SETUPS = {
    "study budget (128², 7 levels)": ["data.crop_size=128", "model.generator.depth=7"],
    "paper (256², 8 levels)": ["data.crop_size=256", "model.generator.depth=8"],
}


def iteration(overrides: list[str], steps: int) -> tuple[float, float]:
    """FLOPs of one training iteration, and its mean CPU seconds over ``steps``."""
    recipe = load_recipe(
        "recipes/pix2pix_maps.yaml", ["data.root=unused", "train.device=cpu", *overrides]
    )
    method = build_models(recipe, default_registry())
    size = recipe.data.crop_size
    batch = {
        "input": torch.rand(1, 3, size, size) * 2 - 1,
        "target": torch.rand(1, 3, size, size) * 2 - 1,
    }
    tools = StepTools(Precision("fp32", "cpu"))
    for network in method.networks.values():
        network.train()
    counter = FlopCounterMode(display=False)
    with counter:
        method.train_step(batch, method.networks, tools)
    start = time.perf_counter()
    for _ in range(steps):
        method.train_step(batch, method.networks, tools)
    return float(counter.get_total_flops()), (time.perf_counter() - start) / steps


def main() -> None:
    """Print each setup's per-iteration cost and the three studies' totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--assume-tflops", type=float, default=10.0)
    arguments = parser.parse_args()
    runs = sum(STUDY_RUNS.values())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, fp32")
    for name, overrides in SETUPS.items():
        flops, seconds = iteration(overrides, arguments.steps)
        gpu_seconds = flops / (arguments.assume_tflops * 1e12)
        cpu_hours = runs * PAPER_ITERATIONS * seconds / 3600
        gpu_hours = runs * PAPER_ITERATIONS * gpu_seconds / 3600
        print(
            f"{name}: {flops / 1e9:.1f} GFLOP per iteration; CPU {seconds:.3f} s/iteration "
            f"(measured, {flops / seconds / 1e9:.0f} GFLOP/s); "
            f"{runs} runs × {PAPER_ITERATIONS} iterations = {cpu_hours:,.0f} CPU-hours here, "
            f"~{gpu_hours:,.0f} GPU-hours at an assumed {arguments.assume_tflops:g} TFLOP/s"
        )


if __name__ == "__main__":
    main()
