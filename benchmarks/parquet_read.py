"""Aligned JPEG folders as a hub-style parquet dataset: convert, then read both and compare.

    python benchmarks/parquet_read.py --data ../shared/data/maps --out /tmp/maps-parquet

Converts every split of an aligned (A|B) dataset with the ``datasets`` library into
``OUT/data/SPLIT-00000-of-00001.parquet`` with two ``Image`` columns, ``imageA`` and
``imageB`` (each half saved as lossless PNG, so its pixels are the JPEG's decoded pixels), as
the huggan datasets are laid out. Then reads the train split through i2i's ``aligned`` and
``parquet`` datasets in one run, alternating, and prints pairs per second of each and their
ratio, and whether every pair decodes to the same pixels.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import torch
from PIL import Image

from i2i.data.datasets import AlignedDataset
from i2i.data.images import list_images
from i2i.data.parquet import ParquetDataset


def png(image: Image.Image) -> bytes:
    """``image`` as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def convert(data: Path, out: Path) -> None:
    """Every split folder of ``data`` into one parquet file under ``out/data``."""
    from datasets import Dataset, Features, Value
    from datasets import Image as ImageFeature

    features = Features(
        {"imageA": ImageFeature(), "imageB": ImageFeature(), "name": Value("string")}
    )
    for split in sorted(p.name for p in data.iterdir() if p.is_dir()):
        rows: dict[str, list] = {"imageA": [], "imageB": [], "name": []}
        for path in list_images(data / split):
            with Image.open(path) as pair:
                pair = pair.convert("RGB")
                half = pair.width // 2
                rows["imageA"].append(
                    {"bytes": png(pair.crop((0, 0, half, pair.height))), "path": None}
                )
                rows["imageB"].append(
                    {"bytes": png(pair.crop((half, 0, pair.width, pair.height))), "path": None}
                )
                rows["name"].append(path.name)
        target = out / "data" / f"{split}-00000-of-00001.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        Dataset.from_dict(rows, features=features).to_parquet(str(target))
        print(
            f"{split}: {len(rows['name'])} pairs -> {target} ({target.stat().st_size / 1e6:.1f} MB)"
        )


def pairs_per_second(dataset, rounds: int) -> float:
    """Pairs decoded per second, reading the dataset in order ``rounds`` times."""
    started = time.perf_counter()
    for _ in range(rounds):
        for index in range(len(dataset)):
            dataset[index]
    return rounds * len(dataset) / (time.perf_counter() - started)


def main() -> None:
    """Convert, then compare reading speed and pixels."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    if not (arguments.out / "data").is_dir():
        convert(arguments.data, arguments.out)
    jpeg = AlignedDataset(str(arguments.data), "train")
    parquet = ParquetDataset(str(arguments.out), "train")
    same = all(
        torch.equal(jpeg[i]["A"], parquet[i]["A"]) and torch.equal(jpeg[i]["B"], parquet[i]["B"])
        for i in range(len(jpeg))
    )
    print(f"{len(jpeg)} pairs; identical pixels: {same}")
    speeds: dict[str, list[float]] = {"jpeg": [], "parquet": []}
    for _ in range(2):  # alternate, so drift on this machine hits both alike
        speeds["jpeg"].append(pairs_per_second(jpeg, arguments.rounds))
        speeds["parquet"].append(pairs_per_second(parquet, arguments.rounds))
    best = {name: max(values) for name, values in speeds.items()}
    print(
        f"aligned JPEG folders: {best['jpeg']:.1f} pairs/s; parquet (PNG cells): "
        f"{best['parquet']:.1f} pairs/s; parquet / JPEG = {best['parquet'] / best['jpeg']:.2f}"
    )


if __name__ == "__main__":
    main()
