"""Time the pix2pix training step on fixed tensors (no data loading) and print the figures.

    python benchmarks/train_step.py [--steps 10] [--warmup 3] [key=value ...]

Builds the models of ``recipes/pix2pix_maps.yaml`` (unet_256 + 70×70 PatchGAN, batch 1, 256²)
and runs ``train_step`` on one random pair; prints seconds per iteration (median and mean)
and the share of a step spent in the two Adam updates.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from i2i.config import load_recipe
from i2i.plugins import default_registry
from i2i.train.build import build_models
from i2i.train.step import train_step

RECIPE = Path(__file__).parents[1] / "recipes" / "pix2pix_maps.yaml"


def main() -> None:
    """Parse arguments, time the step, print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    recipe = load_recipe(RECIPE, ["train.device=cpu", *args.overrides])
    torch.manual_seed(0)
    models = build_models(recipe, default_registry())
    betas = tuple(recipe.train.optimizer.betas)
    opt_g = torch.optim.Adam(models.generator.parameters(), lr=2e-4, betas=betas)
    opt_d = torch.optim.Adam(models.discriminator.parameters(), lr=2e-4, betas=betas)
    size, batch = recipe.data.crop_size, recipe.data.batch_size
    x, y = torch.rand(2, batch, 3, size, size).mul(2).sub(1)

    adam_seconds = []
    for optimizer in (opt_g, opt_d):
        original = optimizer.step

        def timed(*a, _original=original, **k):
            started = time.perf_counter()
            result = _original(*a, **k)
            adam_seconds.append(time.perf_counter() - started)
            return result

        optimizer.step = timed

    for _ in range(args.warmup):
        train_step(models, opt_g, opt_d, x, y)
    adam_seconds.clear()
    times = []
    for _ in range(args.steps):
        started = time.perf_counter()
        train_step(models, opt_g, opt_d, x, y)
        times.append(time.perf_counter() - started)

    print(f"threads                 {torch.get_num_threads()}")
    print(f"train step, median      {statistics.median(times):.3f} s/it")
    print(f"train step, mean        {statistics.mean(times):.3f} s/it ({args.steps} steps)")
    print(f"Adam share of the step  {sum(adam_seconds) / sum(times):.1%}")


if __name__ == "__main__":
    main()
