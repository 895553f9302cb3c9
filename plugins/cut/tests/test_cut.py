"""CUT: PatchNCE is the paper's formula; the method trains, resumes exactly, translates and
exports through the normal commands. Public API only (no i2i.train.*)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from i2i_cut import PatchSampler, patch_nce_loss

from i2i.testing import check_method

TINY = (
    "data.dataset={name: unpaired, of: {name: synthetic_shapes, size: 32, length: 8}}",
    "model.generator={name: resnet_6blocks, ngf: 4}",
    "model.discriminator={name: patchgan, ndf: 4, n_layers: 2, norm: instance}",
    "loss.adversarial={name: lsgan, weight: 1.0}",
    "loss.terms.l1.weight=0",
)


def test_patch_nce_is_the_papers_formula_patch_by_patch():
    torch.manual_seed(0)
    images, patches, dim, tau = 2, 5, 8, 0.07
    queries = F.normalize(torch.randn(images * patches, dim, dtype=torch.float64), dim=1)
    keys = F.normalize(torch.randn(images * patches, dim, dtype=torch.float64), dim=1)
    expected = []
    for image in range(images):
        for patch in range(patches):
            q = queries[image * patches + patch]
            positive = math.exp(float(q @ keys[image * patches + patch]) / tau)
            negatives = sum(
                math.exp(float(q @ keys[image * patches + other]) / tau)
                for other in range(patches)
                if other != patch  # negatives: the same image's other patches
            )
            expected.append(-math.log(positive / (positive + negatives)))
    got = patch_nce_loss(queries, keys, images, tau)
    assert float(got) == pytest.approx(sum(expected) / len(expected), rel=1e-9)


def test_the_sampler_takes_the_same_positions_for_queries_and_keys():
    torch.manual_seed(1)
    sampler = PatchSampler([3, 6], width=16)
    features = [torch.randn(2, 3, 8, 8), torch.randn(2, 6, 4, 4)]
    keys, positions = sampler(features, patches=10)
    again, reused = sampler(features, 0, positions)
    assert [k.shape for k in keys] == [(20, 16), (20, 16)]
    assert all(torch.equal(a, b) for a, b in zip(keys, again))
    assert all(torch.equal(a, b) for a, b in zip(positions, reused))
    assert torch.allclose(keys[0].norm(dim=1), torch.ones(20, dtype=keys[0].dtype))


def test_cut_and_fastcut_train_and_resume_exactly():
    check_method("cut", {"nce_layers": "[0, 1, 3, 4]", "patches": 16}, overrides=TINY)
    check_method("fastcut", {"nce_layers": "[0, 2]", "patches": 8}, overrides=TINY)


def test_inherited_paired_terms_and_missing_levels_are_refused_by_name(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 0\n")

    def refusal(*overrides: str) -> str:
        command = [sys.executable, "-m", "i2i", "run", str(recipe), *overrides]
        command += ["train.device=cpu", f"run.dir={tmp_path / 'run'}"]
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "run").exists()
        return done.stderr.strip().splitlines()[-1]

    line = refusal("method={name: cut}", *TINY[:4], "loss.terms.l1.weight=100")
    assert "CUT has no paired loss terms" in line and "loss.terms.l1.weight=0" in line
    line = refusal("method={name: cut, nce_layers: [0, 40]}", *TINY)
    assert "encoder levels [40] do not exist" in line


def test_a_cut_run_translates_and_exports_through_the_commands(tmp_path):
    run = tmp_path / "run"
    base = [sys.executable, "-m", "i2i"]
    overrides = [*TINY, "method={name: cut, nce_layers: [0, 1, 3], patches: 16}"]
    overrides += ["train.max_steps=2", "train.device=cpu", "log.progress=false"]
    overrides += ["data.load_size=32", "data.crop_size=32", "data.num_workers=0"]
    overrides += ["log.val_images=2", f"run.dir={run}"]
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 0\n")
    trained = subprocess.run(
        [*base, "run", str(recipe), *overrides], capture_output=True, text=True
    )
    assert trained.returncode == 0, trained.stderr
    image = tmp_path / "in" / "x.png"
    image.parent.mkdir()
    from PIL import Image

    Image.new("RGB", (40, 24), (200, 30, 30)).save(image)
    out = tmp_path / "out"
    done = subprocess.run(
        [*base, "translate", "-c", str(run), "-o", str(out), "--no-progress", str(image)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert Image.open(out / "x.png").size == (40, 24)
    exported = subprocess.run(
        [*base, "export", "-c", str(run), str(tmp_path / "g.onnx")], capture_output=True, text=True
    )
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "g.onnx").stat().st_size > 1000


def test_two_gloo_processes_train_what_one_process_trains(tmp_path):
    # PatchNCE reads G's encoder through encoder_features, outside DDP's forward pass, and
    # the head is trained by it alone: their gradients must still be averaged over the
    # processes. With every position sampled (patches >= 32·32) the loss does not depend on
    # the draw, and with no crop, flip or dropout, 2 + 2 images on two processes must train
    # what 4 train on one. (Weights are not compared: the conv biases before instance norm
    # have no true gradient, and Adam turns its rounding noise into steps of ±lr that change
    # no output. An unaveraged head moves loss/nce at step 2 by 1e-3.)
    import json

    import i2i

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 0\n")
    overrides = [*TINY, "method={name: cut, nce_layers: [0, 1, 3, 4], patches: 1024}"]
    overrides += ["data.load_size=null", "data.crop_size=32", "data.flip=false"]
    overrides += ["data.batch_size=4", "data.num_workers=0", "model.generator.dropout=0"]
    overrides += ["train.max_steps=3", "train.device=cpu", "log.progress=false", "log.every=1"]
    overrides += ["log.sample_every=1000", "log.val_images=1"]

    def trained(processes: int) -> tuple[list[dict], torch.Tensor]:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        launcher += [f"--nproc-per-node={processes}", "-m", "i2i", "run", str(recipe)]
        run = tmp_path / f"on{processes}"
        done = subprocess.run(
            [*launcher, *overrides, f"run.dir={run}"], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        lines = (run / "metrics.jsonl").read_text().splitlines()
        losses = [
            {k: v for k, v in json.loads(line).items() if k.startswith("loss/")}
            for line in lines
            if '"loss/nce"' in line
        ]
        image = torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32)
        return losses, i2i.load(run).translate_batch(image)

    (one, translated_one), (two, translated_two) = trained(1), trained(2)
    assert len(one) == len(two) == 3
    for step_one, step_two in zip(one, two):
        assert step_one.keys() == step_two.keys()
        for name, value in step_one.items():
            assert math.isclose(value, step_two[name], rel_tol=2e-5), (name, step_one, step_two)
    assert torch.allclose(translated_one, translated_two, atol=1e-4)
