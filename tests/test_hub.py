"""The Hugging Face hub's layout: export, load from a hub-style cache offline, push --dry-run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from tests.conftest import TINY_OVERRIDES
from tests.helpers import one_line_error

QUICKSTART = Path(__file__).parents[1] / "recipes" / "quickstart.yaml"
REVISION = "0123456789abcdef0123456789abcdef01234567"


def i2i(*arguments: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "i2i", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    """A 4-step run, and its export in the hub's layout."""
    root = tmp_path_factory.mktemp("hub")
    run, folder = root / "run", root / "export" / "quickstart"
    trained = i2i("run", str(QUICKSTART), *TINY_OVERRIDES, "train.max_steps=4", f"run.dir={run}")
    assert trained.returncode == 0, trained.stderr
    written = i2i("export", "-c", str(run), "--format", "hf", str(folder), "--license", "mit")
    assert written.returncode == 0, written.stderr
    return run, folder


def as_cache(folder: Path, cache: Path, repo: str = "me--quickstart") -> Path:
    """``folder`` laid out in ``cache`` as the hub's cache holds a downloaded snapshot."""
    snapshot = cache / f"models--{repo}" / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    for name in ("model.safetensors", "config.json", "README.md"):
        shutil.copy(folder / name, snapshot / name)
    (cache / f"models--{repo}" / "refs").mkdir()
    (cache / f"models--{repo}" / "refs" / "main").write_text(REVISION)
    return snapshot


def test_the_export_holds_the_hubs_three_files_and_a_card_the_hub_reads(exported):
    run, folder = exported
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "README.md", "config.json", "model.safetensors",
    ]  # fmt: skip
    card = (folder / "README.md").read_text()
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["library_name"] == "i2i" and header["pipeline_tag"] == "image-to-image"
    assert {"pix2pix", "image-to-image"} <= set(header["tags"]) and header["license"] == "mit"
    assert header["datasets"] == ["synthetic_shapes"]
    last = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    l1 = [entry["val/l1"] for entry in last if "val/l1" in entry][-1]
    values = {m["type"]: m["value"] for m in header["model-index"][0]["results"][0]["metrics"]}
    assert values["l1"] == pytest.approx(l1)
    from safetensors.torch import load_file

    assert all(key.startswith("generator.") for key in load_file(folder / "model.safetensors"))


def test_config_json_alone_rebuilds_the_generator_and_its_outputs_equal_the_runs(exported):
    from safetensors.torch import load_file

    import i2i as api

    run, folder = exported
    config = json.loads((folder / "config.json").read_text())
    model = config["recipe"]["model"]
    generator = api.create(
        "generator", model["generator"], in_channels=model["in_channels"],
        out_channels=model["out_channels"],
    )  # fmt: skip
    weights = load_file(folder / "model.safetensors")
    generator.load_state_dict({k.removeprefix("generator."): v for k, v in weights.items()})
    generator.eval()
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    expected = np.asarray(api.load(str(run))(Image.fromarray(image), mode="eval"))
    from_folder = np.asarray(api.load(str(folder))(Image.fromarray(image), mode="eval"))
    assert np.array_equal(from_folder, expected)
    with torch.no_grad():
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1
        rebuilt = ((generator(x)[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255)
    assert np.abs(rebuilt.numpy().astype(int) - expected.astype(int)).max() <= 1


def test_a_hub_name_translates_offline_from_the_cache_and_a_missing_one_says_what_to_do(
    exported, tmp_path
):
    run, folder = exported
    as_cache(folder, tmp_path / "cache")
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(tmp_path / "x.png")
    (tmp_path / "in").mkdir()
    shutil.move(tmp_path / "x.png", tmp_path / "in" / "x.png")
    offline = {"HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    hub = i2i("translate", "-c", "hf://me/quickstart", "-o", str(tmp_path / "hub"), "--eval",
              str(tmp_path / "in"), env=offline)  # fmt: skip
    assert hub.returncode == 0, hub.stderr
    local = i2i("translate", "-c", str(run), "-o", str(tmp_path / "local"), "--eval",
                str(tmp_path / "in"))  # fmt: skip
    assert local.returncode == 0, local.stderr
    assert (tmp_path / "hub" / "x.png").read_bytes() == (tmp_path / "local" / "x.png").read_bytes()
    pinned = i2i("translate", "-c", f"hf://me/quickstart@{REVISION}", "-o", str(tmp_path / "pin"),
                 str(tmp_path / "in"), env=offline)  # fmt: skip
    assert pinned.returncode == 0, pinned.stderr
    missing = i2i("translate", "-c", "hf://me/other", "-o", str(tmp_path / "o"),
                  str(tmp_path / "in"), env=offline)  # fmt: skip
    line = one_line_error(missing)
    assert "hub model me/other is not in the local Hugging Face cache" in line
    assert "--download" in line
    python = "import i2i; print(i2i.load('me/quickstart').direction)"
    loaded = subprocess.run([sys.executable, "-c", python], capture_output=True, text=True,
                            env={**os.environ, **offline})  # fmt: skip
    assert loaded.returncode == 0 and loaded.stdout.strip() == "AtoB", loaded.stderr


def test_a_hub_folder_holding_only_a_pickle_is_refused(exported, tmp_path):
    _, folder = exported
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    shutil.copy(folder / "config.json", pickled / "config.json")
    torch.save({"w": torch.zeros(2)}, pickled / "pytorch_model.bin")
    (tmp_path / "in").mkdir()
    Image.new("RGB", (64, 64)).save(tmp_path / "in" / "x.png")
    line = one_line_error(i2i("translate", "-c", str(pickled), "-o", str(tmp_path / "o"),
                              str(tmp_path / "in")))  # fmt: skip
    assert "holds only pickled weights (pytorch_model.bin)" in line


def test_push_dry_run_lists_the_files_and_uploads_nothing(exported, tmp_path):
    run, _ = exported
    env = {"HF_HUB_OFFLINE": "1", "HF_TOKEN": ""}  # nothing could be uploaded anyway
    dry = i2i("push", "me/quickstart", "-c", str(run), "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    listed = [line.split("\t")[0] for line in dry.stdout.splitlines()]
    assert listed == ["README.md", "config.json", "model.safetensors"]
    assert "dry run: nothing uploaded to me/quickstart" in dry.stderr
    bad = i2i("push", "not a repo", "-c", str(run), "--dry-run")
    assert "is not a hub repository name" in one_line_error(bad)


@pytest.mark.slow
def test_a_cyclegan_export_holds_both_generators_and_translates_both_ways(tmp_path):
    import i2i as api

    recipe = Path(__file__).parents[1] / "recipes" / "cyclegan_quickstart.yaml"
    trained = i2i("run", str(recipe), "train.max_steps=2", f"run.dir={tmp_path / 'run'}",
                  "log.progress=false")  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    exported = i2i("export", "-c", str(tmp_path / "run"), "--format", "hf", str(tmp_path / "hub"))
    assert exported.returncode == 0, exported.stderr
    config = json.loads((tmp_path / "hub" / "config.json").read_text())
    assert {e["role"] for e in config["translators"].values()} == {"generator_a", "generator_b"}
    header = yaml.safe_load((tmp_path / "hub" / "README.md").read_text().split("---\n")[1])
    assert "cyclegan" in header["tags"]
    model = api.load(str(tmp_path / "hub"))
    assert model.directions == ("AtoB", "BtoA")
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), np.uint8))
    run_model = api.load(str(tmp_path / "run"))
    for direction in ("AtoB", "BtoA"):
        ours = np.asarray(model(image, direction=direction, mode="eval"))
        assert np.array_equal(ours, np.asarray(run_model(image, direction=direction, mode="eval")))
