"""Translating any image: sizes, modes, aligned halves, tiles without seams, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from i2i.cli import main
from i2i.errors import DataError
from i2i.inference.load import LoadedGenerator, load_generator
from i2i.inference.translate import pad_to, translate_tiled, translate_whole
from i2i.plugins import default_registry
from i2i.testtime import generator_mode


def _translate(checkpoint, out, *arguments):
    """Run `i2i translate -c CHECKPOINT -o OUT --no-progress ARGUMENTS...` in-process."""
    return CliRunner().invoke(
        main, ["translate", "-c", str(checkpoint), "-o", str(out), "--no-progress", *arguments]
    )


def _save(path, array):
    Image.fromarray(array).save(path)
    return path


def test_pad_reflects_then_replicates():
    image = torch.arange(12.0).view(1, 1, 3, 4)
    padded, (top, left) = pad_to(image, 5, 6)
    assert padded.shape[-2:] == (5, 6) and (top, left) == (1, 1)
    assert torch.equal(padded[..., top : top + 3, left : left + 4], image)
    assert padded[0, 0, 0, 1] == image[0, 0, 1, 0]  # mirrored, not repeated
    tiny, _ = pad_to(image, 32, 32)  # more padding than the image can mirror
    assert tiny.shape[-2:] == (32, 32)


def test_mixed_folder_keeps_names_and_sizes(tiny_checkpoint, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    rng = np.random.default_rng(0)
    _save(source / "wide.jpg", rng.integers(0, 255, (300, 517, 3), dtype=np.uint8))
    _save(source / "grey.png", rng.integers(0, 255, (64, 64), dtype=np.uint8))
    _save(source / "deep.png", rng.integers(0, 65535, (33, 47), dtype=np.uint16))
    _save(source / "alpha.png", rng.integers(0, 255, (40, 90, 4), dtype=np.uint8))
    result = _translate(tiny_checkpoint, tmp_path / "out", str(source))
    assert result.exit_code == 0, result.output
    for path in source.iterdir():
        with (
            Image.open(path) as original,
            Image.open(tmp_path / "out" / f"{path.stem}.png") as output,
        ):
            assert output.size == original.size and output.mode == "RGB"
            assert output.format == "PNG"  # lossless, whatever the input's format
    kept = _translate(
        tiny_checkpoint, tmp_path / "kept", "--format", "keep", str(source / "wide.jpg")
    )
    assert kept.exit_code == 0 and Image.open(tmp_path / "kept" / "wide.jpg").format == "JPEG"
    (source / "wide.png").write_bytes((source / "grey.png").read_bytes())
    clash = _translate(tiny_checkpoint, tmp_path / "clash", str(source))
    assert clash.exit_code == 2 and "would both be written as 'wide.png'" in clash.stderr


def test_aligned_inputs_use_the_half_the_model_was_trained_to_read(tiny_checkpoint, tmp_path):
    from i2i.checkpoint import load_checkpoint, write_checkpoint

    tensors, meta = load_checkpoint(tiny_checkpoint)
    meta["recipe"]["data"]["direction"] = "BtoA"
    map_to_photo = write_checkpoint(tmp_path / "btoa.safetensors", tensors, meta)
    pair = np.zeros((64, 128, 3), np.uint8)
    pair[:, 64:] = 255
    _save(tmp_path / "pair.png", pair)
    for checkpoint, out in ((tiny_checkpoint, "AtoB"), (map_to_photo, "BtoA")):
        result = _translate(
            checkpoint, tmp_path / out, "--aligned", "--eval", str(tmp_path / "pair.png")
        )
        assert result.exit_code == 0, result.output
        assert Image.open(tmp_path / out / "pair.png").size == (64, 64)
    a_out, b_out = (np.asarray(Image.open(tmp_path / d / "pair.png")) for d in ("AtoB", "BtoA"))
    assert not np.array_equal(a_out, b_out)  # black and white halves translate differently
    same = _translate(tiny_checkpoint, tmp_path / "same", "--aligned", "--direction", "AtoB",
                      "--eval", str(tmp_path / "pair.png"))  # fmt: skip
    assert same.exit_code == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "same" / "pair.png")), a_out)


@pytest.mark.fault
def test_aligned_inputs_default_to_the_size_the_model_trained_on(tiny_checkpoint, tmp_path):
    from i2i.checkpoint import load_checkpoint, write_checkpoint

    tensors, meta = load_checkpoint(tiny_checkpoint)
    meta["recipe"]["data"].update(load_size=72, crop_size=64)  # resized, then 64² crops
    resized = write_checkpoint(tmp_path / "resized.safetensors", tensors, meta)
    _save(tmp_path / "pair.png", np.zeros((128, 256, 3), np.uint8))  # 128² halves
    result = _translate(resized, tmp_path / "out", "--aligned", str(tmp_path / "pair.png"))
    assert result.exit_code == 0, result.output
    assert "resized to 64x64, the size the model was trained on" in result.stderr
    assert Image.open(tmp_path / "out" / "pair.png").size == (64, 64)
    native = _translate(
        resized, tmp_path / "native", "--aligned", "--load-size", "0", str(tmp_path / "pair.png")
    )
    assert native.exit_code == 0 and "resized to" not in native.stderr
    assert Image.open(tmp_path / "native" / "pair.png").size == (128, 128)


def test_a_direction_the_model_was_not_trained_for_is_refused(tiny_checkpoint, tmp_path):
    import i2i
    from i2i.errors import CheckpointError
    from tests.helpers import one_line_error

    _save(tmp_path / "x.png", np.zeros((64, 64, 3), np.uint8))
    for flags in (["--direction", "BtoA"], ["--aligned", "--direction", "BtoA"]):
        line = one_line_error(
            _translate(tiny_checkpoint, tmp_path / "o", *flags, str(tmp_path / "x.png"))
        )
        assert "'tiny.safetensors' was trained AtoB only" in line and "no network for BtoA" in line
    assert not (tmp_path / "o").exists()
    with pytest.raises(CheckpointError, match="trained AtoB only"):
        i2i.load(tiny_checkpoint)(Image.new("RGB", (64, 64)), direction="BtoA")


def test_paper_mode_is_seeded_and_differs_from_eval(tiny_checkpoint, tmp_path):
    _save(tmp_path / "x.png", np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8))

    def run(*flags):
        out = tmp_path / "-".join(flags or ("plain",))
        assert _translate(tiny_checkpoint, out, *flags, str(tmp_path / "x.png")).exit_code == 0
        return np.asarray(Image.open(out / "x.png"))

    first, again = run("--seed", "3"), run("--seed", "3")
    assert np.array_equal(first, again)
    assert not np.array_equal(first, run("--eval"))


def _gradient_energy(image: torch.Tensor) -> torch.Tensor:
    return (image[..., :, 1:] - image[..., :, :-1]).abs().mean(dim=(0, 1, 2))


def test_tiles_blend_without_seams(tiny_checkpoint):
    generator = load_generator(tiny_checkpoint, default_registry())
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, 160), torch.linspace(-1, 1, 224), indexing="ij")
    image = torch.stack([xs, ys, xs * ys]).unsqueeze(0) * 0.8
    with generator_mode(generator.module, "eval"):
        whole = translate_whole(generator, image)
        tiled = translate_tiled(generator, image, tile=64, overlap=16)
    assert tiled.shape == whole.shape == (1, 3, 160, 224)
    energy = _gradient_energy(tiled)  # per column boundary
    borders = torch.tensor([47, 95, 143, 159])  # where neighbouring tiles meet (stride 48)
    elsewhere = torch.ones_like(energy, dtype=torch.bool)
    elsewhere[borders] = False
    assert energy[borders].mean() < 1.5 * energy[elsewhere].mean()


def test_tiling_an_identity_reproduces_the_image():
    identity = LoadedGenerator(lambda x: x, None, 3, 3, 8)
    image = torch.rand(1, 3, 50, 77)
    torch.testing.assert_close(translate_tiled(identity, image, tile=32, overlap=8), image)
    with pytest.raises(DataError, match="multiple of the generator's size multiple 8"):
        translate_tiled(identity, image, tile=30, overlap=8)


def test_cli_errors_are_one_line(tiny_checkpoint, tmp_path):
    result = _translate(tiny_checkpoint, tmp_path / "o", str(tmp_path / "missing.png"))
    assert result.exit_code == 2 and "missing.png' does not exist" in result.output
    result = _translate(tmp_path / "nope.safetensors", tmp_path / "o", str(tmp_path))
    assert result.exit_code == 2 and "not found" in result.output


def test_paper_mode_normalises_each_image_alone_whatever_the_batch():
    from i2i_pix2pix import UNetGenerator

    torch.manual_seed(0)
    generator = UNetGenerator(depth=5, ngf=8, norm="batch", dropout=0.0)
    images = torch.rand(3, 3, 64, 64) * 2 - 1
    singles = []
    for image in images:  # the paper's test: train-mode BatchNorm on a batch of one
        generator.train()
        with torch.no_grad():
            singles.append(generator(image[None])[0])
    with generator_mode(generator, "paper"):
        batched = generator(images)
    assert torch.allclose(batched, torch.stack(singles), atol=1e-5)
    generator.train()
    with torch.no_grad():  # plain train mode would mix the three images' statistics
        assert not torch.allclose(generator(images), batched, atol=1e-3)
    assert all("forward" not in vars(m) for m in generator.modules())  # patch removed


def test_load_size_resizes_inputs_as_test_py_does(tiny_checkpoint, tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "in").mkdir()
    _save(tmp_path / "in" / "wide.png", rng.integers(0, 255, (48, 80, 3), dtype=np.uint8))
    result = _translate(
        tiny_checkpoint, tmp_path / "out", "--load-size", "64", str(tmp_path / "in")
    )
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "out" / "wide.png") as output:
        assert output.size == (64, 64)


def test_prefetching_keeps_order_and_raises_reading_errors():
    from i2i.inference.translate import _prefetched

    assert list(_prefetched(iter(range(5)))) == [0, 1, 2, 3, 4]

    def broken():
        yield 1
        raise DataError("bad.jpg: cannot be read")

    stream = _prefetched(broken())
    assert next(stream) == 1
    with pytest.raises(DataError, match="bad.jpg"):
        next(stream)


def test_a_run_directory_or_a_sidecar_as_checkpoint(tiny_recipe, tmp_path):
    from pathlib import Path

    from i2i.plugins import default_registry
    from i2i.train.loop import fit, prepare
    from tests.helpers import one_line_error

    recipe = tiny_recipe("train.max_steps=2", "checkpoint.every=1", "checkpoint.keep=2")
    fit(prepare(recipe, Path(recipe.run.dir), default_registry()))
    _save(tmp_path / "x.png", np.zeros((32, 32, 3), np.uint8))
    result = _translate(recipe.run.dir, tmp_path / "out", "--eval", str(tmp_path / "x.png"))
    assert result.exit_code == 0, result.output  # the run's latest checkpoint, named
    latest = Path(recipe.run.dir) / "checkpoints" / "step_00000002.safetensors"
    assert f"i2i: {recipe.run.dir}: its latest: {latest}" in result.stderr
    sidecar = Path(recipe.run.dir) / "checkpoints" / "step_00000002.json"
    line = one_line_error(_translate(sidecar, tmp_path / "o", str(tmp_path / "x.png")))
    assert "is the metadata sidecar of a checkpoint; pass the weights" in line
    assert "step_00000002.safetensors" in line
    line = one_line_error(_translate(tmp_path, tmp_path / "o", str(tmp_path / "x.png")))
    assert "is a folder without checkpoints" in line


def test_aligned_looking_inputs_and_a_lone_direction_are_warned_about(tiny_checkpoint, tmp_path):
    _save(tmp_path / "pair.png", np.zeros((64, 128, 3), np.uint8))
    result = _translate(
        tiny_checkpoint, tmp_path / "o", "--direction", "AtoB", str(tmp_path / "pair.png")
    )
    assert result.exit_code == 0, result.output
    assert "twice as wide as high, like the A|B pairs this model was trained on" in result.stderr
    assert "--direction picks the half of --aligned inputs" in result.stderr


def test_a_symlink_loop_among_the_inputs_is_one_line_naming_it(tiny_checkpoint, tmp_path):
    from tests.helpers import one_line_error

    folder = tmp_path / "in"
    folder.mkdir()
    _save(folder / "a.png", np.zeros((64, 64, 3), np.uint8))
    (folder / "b.png").symlink_to("c.png")
    (folder / "c.png").symlink_to("b.png")
    line = one_line_error(_translate(tiny_checkpoint, tmp_path / "out", str(folder)))
    assert "'b.png' is a broken symbolic link" in line or "b.png' is a broken symbolic" in line
