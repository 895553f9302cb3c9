"""Disk used by a run's kept checkpoints, with the optimisers' state in all or the latest only.

    python benchmarks/checkpoint_sizes.py [--recipe recipes/pix2pix_maps.yaml] [--keep 3]

Builds the recipe's networks, fills every Adam state as a trained run's would be (two moments
per parameter), saves ``--keep`` checkpoints each way with i2i's own ``save_checkpoint``, and
prints the size of each file (``checkpoint.optimizer=all`` and ``=latest``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from i2i.checkpoint import list_checkpoints, save_checkpoint
from i2i.config import load_recipe
from i2i.plugins import default_registry
from i2i.train.build import build_models
from i2i.train.state import RunState


def main() -> None:
    """Print the sizes of ``--keep`` checkpoints saved each way."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="recipes/pix2pix_maps.yaml")
    parser.add_argument("--keep", type=int, default=3)
    arguments = parser.parse_args()
    recipe = load_recipe(arguments.recipe, ["data.root=unused", "train.device=cpu"])
    method = build_models(recipe, default_registry())
    for optimizer in method.optimizers.values():
        for group in optimizer.param_groups:
            for parameter in group["params"]:
                optimizer.state[parameter] = {
                    "step": torch.tensor(1.0),
                    "exp_avg": torch.zeros_like(parameter),
                    "exp_avg_sq": torch.zeros_like(parameter),
                }
    state = RunState.of(method)
    prefixes = tuple(f"{name}." for name in method.optimizers)
    for mode in ("all", "latest"):
        folder = Path(tempfile.mkdtemp())
        for step in range(1, arguments.keep + 1):
            state.step = step
            tensors, meta = state.to_tensors()
            latest_only = prefixes if mode == "latest" else ()
            save_checkpoint(folder, tensors, {**meta, "recipe": {}}, arguments.keep, latest_only)
        sizes = [path.stat().st_size / 1e6 for path in list_checkpoints(folder)]
        shown = " + ".join(f"{size:.0f}" for size in sizes)
        print(f"checkpoint.optimizer={mode}: {shown} = {sum(sizes):.0f} MB")


if __name__ == "__main__":
    main()
