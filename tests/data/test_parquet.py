"""Hub-style parquet datasets: written with the `datasets` library, trained on, resumed exactly."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from i2i.data.parquet import ParquetDataset
from i2i.errors import DataError
from tests.conftest import TINY_OVERRIDES

QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def write_split(root: Path, split: str, count: int, corrupt: int | None = None) -> list:
    """``count`` random 32² pairs as ``root/data/SPLIT-00000-of-00001.parquet`` (Image columns)."""
    from datasets import Dataset, Features, Value
    from datasets import Image as ImageFeature

    rng = np.random.default_rng(len(split))
    pairs = [rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8) for _ in range(count)]
    cells = [
        {"bytes": b"not an image" if i == corrupt else png(a), "path": None}
        for i, (a, _) in enumerate(pairs)
    ]
    rows = {
        "imageA": cells,
        "imageB": [{"bytes": png(b), "path": None} for _, b in pairs],
        "label": [f"pair {i}" for i in range(count)],
    }
    features = Features(
        {"imageA": ImageFeature(), "imageB": ImageFeature(), "label": Value("string")}
    )
    target = root / "data" / f"{split}-00000-of-00001.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(rows, features=features).to_parquet(str(target))
    return pairs


def test_pairs_come_back_pixel_for_pixel_from_the_split_named(tmp_path):
    train = write_split(tmp_path, "train", 5)
    write_split(tmp_path, "validation", 2)
    dataset = ParquetDataset(str(tmp_path), "train")
    assert len(dataset) == 5 and len(ParquetDataset(str(tmp_path), "validation")) == 2
    for index, (a, b) in enumerate(train):
        sample = dataset[index]
        assert torch.equal(sample["A"], torch.from_numpy(a).permute(2, 0, 1))
        assert torch.equal(sample["B"], torch.from_numpy(b).permute(2, 0, 1))
        assert sample["name"] == f"train-00000-of-00001-{index:06d}.png"
    grey = ParquetDataset(str(tmp_path), "train", channels=1)[0]["A"]
    assert grey.shape == (1, 32, 32)


def test_bad_rows_columns_and_splits_are_one_line_naming_them(tmp_path):
    write_split(tmp_path, "train", 4, corrupt=2)
    dataset = ParquetDataset(str(tmp_path), "train")
    with pytest.raises(DataError) as error:
        dataset[2]
    assert "'train-00000-of-00001.parquet' row 2 column 'imageA'" in str(error.value)
    with pytest.raises(DataError, match="has no column 'photo'.*a_column / b_column"):
        ParquetDataset(str(tmp_path), "train", a_column="photo")
    with pytest.raises(DataError, match="no parquet files of split 'test'"):
        ParquetDataset(str(tmp_path), "test")


@pytest.mark.slow
def test_training_on_parquet_resumes_exactly(tmp_path):
    data = tmp_path / "parquet"
    write_split(data, "train", 16)
    write_split(data, "val", 4)
    base = [
        sys.executable, "-m", "i2i", "run", str(QUICKSTART), *TINY_OVERRIDES,
        "data.dataset={name: parquet}", f"data.root={data}", "data.load_size=32", "log.every=1",
        "checkpoint.every=2", "checkpoint.optimizer=all",
    ]  # fmt: skip

    def losses(run: Path) -> dict[int, dict]:
        lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        return {e["step"]: {k: v for k, v in e.items() if k.startswith("loss/")} for e in lines
                if "loss/g" in e}  # fmt: skip

    whole = subprocess.run([*base, "train.max_steps=4", f"run.dir={tmp_path / 'whole'}"],
                           capture_output=True, text=True)  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    half = subprocess.run([*base, "train.max_steps=2", f"run.dir={tmp_path / 'half'}"],
                          capture_output=True, text=True)  # fmt: skip
    assert half.returncode == 0, half.stderr
    resumed = subprocess.run(
        [sys.executable, "-m", "i2i", "resume", str(tmp_path / "half"), "train.max_steps=4"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert (
        losses(tmp_path / "half") == losses(tmp_path / "whole")
        and len(losses(tmp_path / "whole")) == 4
    )


def test_a_dataset_in_the_hub_cache_is_named_by_its_hub_id_offline(tmp_path):
    import os

    revision = "89abcdef0123456789abcdef0123456789abcdef"
    repo = tmp_path / "cache" / "datasets--me--shapes"
    write_split(repo / "snapshots" / revision, "train", 3)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    script = (
        "from i2i.data.parquet import ParquetDataset\n"
        "print(len(ParquetDataset('hf://datasets/me/shapes', 'train')))\n"
        "ParquetDataset('hf://datasets/me/absent', 'train')\n"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "3", result.stderr
    assert "hub dataset me/absent is not in the local Hugging Face cache" in result.stderr
