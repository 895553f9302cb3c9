"""i2i's benchmark suite: every speed and memory figure of docs/performance.md, from one run.

    python benchmarks/suite.py --data ../shared/data/maps [--steps 30] [--rounds 2] [--json F]

On the maps pairs at 256², batch 1, the paper's configuration (recipes/pix2pix_maps.yaml):

- the machine, and a dense fp32 matmul peak (2048², the ceiling on this machine);
- the pure train step on fixed tensors, plain (torch's default Adam and convolutions, default
  malloc) and optimised (i2i's defaults), with GFLOP/s counted by torch's FLOP counter;
- the input pipeline alone: pairs/s from JPEG to augmented tensors on the device;
- end-to-end training (``i2i run``, data loading included), plain and optimised, alternated
  for ``--rounds`` rounds: it/s and peak RSS;
- translating the val folder end to end (``i2i translate --load-size 256``, start-up
  included), PyTorch and onnxruntime, both in the paper's test mode, at batch 1 and 8: wall
  time, images/s and peak RSS.

Every process-level figure runs in a child process of its own, so each peak RSS is that
process's alone (``os.wait4``). Figures vary by 5-15 % between runs on shared machines:
compare the plain and optimised figures of one run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "pix2pix_maps.yaml"
PLAIN_ENV = {"I2I_MATRIX_CONV": "0", "I2I_MALLOC_TUNING": "0"}
PLAIN_OVERRIDES = ["train.optimizer.fused=false"]


def machine() -> dict[str, object]:
    """CPU model, core count, memory, torch version and threads, GPU if any."""
    model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        model = names[0] if names else model
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "gpu": gpu,
    }


def matmul_peak(size: int = 2048, repeats: int = 10) -> float:
    """Best GFLOP/s of a dense fp32 ``size²`` matmul."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run_child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``command``; returns (wall seconds, peak RSS in GB, stdout).

    The child is reaped with ``os.wait4``, whose usage is that child's own (and its
    children's, e.g. data-loader workers), not the suite's.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=out, stderr=err, env={**os.environ, **(env or {})}, cwd=ROOT
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"failed: {' '.join(command)}\n{err.read()[-2000:]}")
        return wall, usage.ru_maxrss / 2**20, out.read()


def _self(*arguments: str, env: dict[str, str] | None = None) -> dict:
    """Run one of this script's child measurements; returns its JSON."""
    _, peak, stdout = run_child([sys.executable, __file__, *arguments], env)
    return {**json.loads(stdout.strip().splitlines()[-1]), "peak_rss_gb": round(peak, 2)}


def child_step(steps: int, warmup: int, overrides: list[str]) -> dict:
    """Median s/it of ``train_step`` on fixed tensors, FLOPs per step and the Adam share."""
    from torch.utils.flop_counter import FlopCounterMode

    from i2i.config import load_recipe
    from i2i.methods import StepTools
    from i2i.plugins import default_registry
    from i2i.runtime import tune_malloc
    from i2i.train.build import build_models
    from i2i.train.precision import Precision

    tune_malloc()
    recipe = load_recipe(RECIPE, ["train.device=cpu", *overrides])
    torch.manual_seed(0)
    method = build_models(recipe, default_registry())
    tools = StepTools(Precision("fp32", "cpu"))
    adam_seconds: list[float] = []
    for optimizer in method.optimizers.values():
        step = optimizer.step

        def timed(*args, _step=step, **kwargs):
            started = time.perf_counter()
            result = _step(*args, **kwargs)
            adam_seconds.append(time.perf_counter() - started)
            return result

        optimizer.step = timed
    x, y = torch.rand(2, 1, 3, 256, 256).mul(2).sub(1)
    batch = {"input": x, "target": y}

    def train_step() -> None:
        method.train_step(batch, method.networks, tools)

    for _ in range(warmup):
        train_step()
    with FlopCounterMode(display=False) as counter:
        train_step()
    adam_seconds.clear()
    times = [_seconds(train_step) for _ in range(steps)]
    median = statistics.median(times)
    return {
        "step_s": round(median, 3),
        "gflop_per_step": round(counter.get_total_flops() / 1e9, 1),
        "gflops": round(counter.get_total_flops() / 1e9 / median, 1),
        "adam_share": round(sum(adam_seconds) / sum(times), 3),
    }


def child_pipeline(data: str, pairs: int) -> dict:
    """Pairs/s from JPEG files to augmented tensors, as training loads them."""
    from i2i.config import load_recipe
    from i2i.data.augment import PairedAugmentation, to_signed_unit
    from i2i.data.loader import EpochSampler, make_loader, split_direction
    from i2i.plugins import default_registry
    from i2i.train.build import build_dataset

    recipe = load_recipe(RECIPE, [f"data.root={data}", "train.device=cpu"])
    dataset = build_dataset(recipe, default_registry(), "train")
    sampler = EpochSampler(len(dataset), 0)
    loader = make_loader(dataset, 1, recipe.data.num_workers, sampler, pin_memory=False)
    augment = PairedAugmentation(recipe.data.load_size, recipe.data.crop_size, True)
    batches = iter(loader)
    next(batches)  # workers started
    started = time.perf_counter()
    for _ in range(pairs):
        input, target = split_direction(next(batches), "AtoB")
        augment(to_signed_unit(input), to_signed_unit(target))
    return {
        "pairs_per_s": round(pairs / (time.perf_counter() - started), 1),
        "num_workers": recipe.data.num_workers,
    }


def child_forward(checkpoint: str, onnx: str, repeats: int = 6) -> dict:
    """G forward in ms per image at 256², batch 1 and 8: PyTorch paper/eval, onnxruntime paper."""
    from i2i.inference.load import load_generator
    from i2i.inference.onnx import load_onnx
    from i2i.plugins import default_registry
    from i2i.runtime import tune_malloc
    from i2i.testtime import generator_mode

    tune_malloc()
    module = load_generator(checkpoint, default_registry()).module
    session = load_onnx(Path(onnx))
    figures = {}
    networks = {"pytorch_paper": module, "pytorch_eval": module, "onnxruntime_paper": session.run}
    for batch in (1, 8):
        image = torch.rand(batch, 3, 256, 256).mul(2).sub(1)
        for name, network in networks.items():
            with generator_mode(module, "eval" if name.endswith("eval") else "paper"):
                network(image)
                times = [_seconds(lambda n=network, x=image: n(x)) for _ in range(repeats)]
            figures[f"{name}_batch{batch}_ms"] = round(statistics.median(times) / batch * 1000, 1)
    return figures


def train_end_to_end(data: str, steps: int, plain: bool, folder: Path, index: int = 0) -> dict:
    """``i2i run`` on maps for ``steps`` iterations: steady it/s and peak RSS."""
    run_dir = folder / f"train-{'plain' if plain else 'optimised'}-{index}"
    command = [
        sys.executable,
        "-m",
        "i2i",
        "run",
        str(RECIPE),
        f"data.root={data}",
        f"train.max_steps={steps}",
        "log.every=5",
        "log.sample_every=1000000",
        "log.progress=false",
        f"run.dir={run_dir}",
    ]
    wall, peak, _ = run_child(
        command + (PLAIN_OVERRIDES if plain else []), PLAIN_ENV if plain else None
    )
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rates = [line["it_per_s"] for line in lines if "it_per_s" in line][1:]  # after warm-up
    return {
        "it_per_s": round(statistics.mean(rates), 3),
        "wall_s": round(wall, 1),
        "peak_rss_gb": round(peak, 2),
    }


def generator_checkpoint(folder: Path) -> Path:
    """unet_256 as the maps recipe builds it (speed does not depend on its weights)."""
    from i2i.checkpoint import write_checkpoint
    from i2i.config import load_recipe
    from i2i.config.load import recipe_to_dict
    from i2i.plugins import default_registry
    from i2i.train.build import build_models

    recipe = load_recipe(RECIPE, ["train.device=cpu", "loss.adversarial.weight=0"])
    generator = build_models(recipe, default_registry()).generator
    tensors = {f"generator.{k}": v.contiguous() for k, v in generator.state_dict().items()}
    path = folder / "unet_256.safetensors"
    return write_checkpoint(path, tensors, {"step": 0, "recipe": recipe_to_dict(recipe)})


def translate(checkpoint: Path, data: str, batch: int, folder: Path) -> dict:
    """``i2i translate --load-size 256`` over the val folder: wall (start-up included), RSS."""
    out = folder / f"translated-{checkpoint.suffix[1:]}-{batch}"
    command = [
        sys.executable,
        "-m",
        "i2i",
        "translate",
        "-c",
        str(checkpoint),
        "-o",
        str(out),
        "--aligned",
        "--load-size",
        "256",
        "--batch-size",
        str(batch),
        "--no-progress",
        str(Path(data) / "val"),
    ]
    wall, peak, _ = run_child(command)
    images = len(list(out.iterdir()))
    return {
        "images": images,
        "wall_s": round(wall, 2),
        "images_per_s": round(images / wall, 2),
        "peak_rss_gb": round(peak, 2),
    }


def main() -> None:
    """Run every measurement and print a report (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="maps root (with train/ and val/)")
    parser.add_argument("--steps", type=int, default=30, help="end-to-end training iterations")
    parser.add_argument("--step-repeats", type=int, default=10, help="timed pure steps")
    parser.add_argument("--pairs", type=int, default=100, help="pairs through the pipeline")
    parser.add_argument("--rounds", type=int, default=2, help="plain/optimised training pairs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "step":
        print(json.dumps(child_step(args.step_repeats, 3, args.overrides)))
        return
    if args.child == "pipeline":
        print(json.dumps(child_pipeline(args.data, args.pairs)))
        return
    if args.child == "forward":
        print(json.dumps(child_forward(*args.overrides)))
        return

    results: dict[str, object] = {"machine": machine()}
    report = _Report()
    report.line("machine", results["machine"])
    results["matmul_gflops"] = round(matmul_peak(), 1)
    report.line("dense fp32 matmul peak (2048²)", f"{results['matmul_gflops']} GFLOP/s")
    repeats = ["--child", "step", "--data", args.data, "--step-repeats", str(args.step_repeats)]
    steps = {
        "plain": _self(*repeats, *PLAIN_OVERRIDES, env=PLAIN_ENV),
        "optimised": _self(*repeats),
    }
    results["train_step"] = steps
    for name, step in steps.items():
        share = step["gflops"] / results["matmul_gflops"]
        report.line(
            f"train step, fixed tensors, {name}",
            f"{step['step_s']} s/it, {step['gflops']} GFLOP/s ({share:.0%} of the matmul"
            f" peak; {step['gflop_per_step']} GFLOP/step), Adam {step['adam_share']:.1%}",
        )
    report.line("  speed-up", f"{steps['plain']['step_s'] / steps['optimised']['step_s']:.2f}×")
    pipeline = _self("--child", "pipeline", "--data", args.data, "--pairs", str(args.pairs))
    results["input_pipeline"] = pipeline
    report.line(
        "input pipeline (JPEG → augmented tensors)",
        f"{pipeline['pairs_per_s']} pairs/s ({pipeline['num_workers']} workers)",
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        # Alternated, so that a drift in the machine's speed hits both alike.
        rounds = [
            {
                name: train_end_to_end(args.data, args.steps, name == "plain", folder, r)
                for name in ("plain", "optimised")
            }
            for r in range(args.rounds)
        ]
        results["train_end_to_end"] = rounds
        for r, trained in enumerate(rounds, 1):
            for name, figures in trained.items():
                report.line(
                    f"i2i run, end to end, {name}, round {r}",
                    f"{figures['it_per_s']} it/s, peak RSS {figures['peak_rss_gb']} GB",
                )
        ratios = [t["optimised"]["it_per_s"] / t["plain"]["it_per_s"] for t in rounds]
        report.line("  speed-up per round", ", ".join(f"{ratio:.2f}×" for ratio in ratios))
        checkpoint = generator_checkpoint(folder)
        onnx = folder / "unet_256.onnx"
        run_child([sys.executable, "-m", "i2i", "export", "-c", str(checkpoint), str(onnx)])
        forward = _self("--child", "forward", "--data", args.data, str(checkpoint), str(onnx))
        results["generator_forward"] = forward
        for batch in (1, 8):
            report.line(
                f"G forward, ms/image, batch {batch}",
                ", ".join(
                    f"{name} {forward[f'{name}_batch{batch}_ms']}"
                    for name in ("pytorch_paper", "pytorch_eval", "onnxruntime_paper")
                ),
            )
        translated = {}
        for model, label in ((checkpoint, "PyTorch"), (onnx, "onnxruntime")):
            for batch in (1, 8):
                figures = translate(model, args.data, batch, folder)
                translated[f"{label}, batch {batch}"] = figures
                report.line(
                    f"i2i translate, {label}, batch {batch}",
                    f"{figures['wall_s']} s for {figures['images']} images "
                    f"({figures['images_per_s']} img/s), peak RSS "
                    f"{figures['peak_rss_gb']} GB",
                )
        results["translate"] = translated
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


class _Report:
    """Aligned ``label  value`` lines on stdout, printed as they are measured."""

    def line(self, label: str, value: object) -> None:
        print(f"{label:<48} {value}", flush=True)


if __name__ == "__main__":
    main()
