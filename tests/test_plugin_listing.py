"""`i2i plugins` from its cache: no torch import when nothing changed, a fresh listing when
anything it depends on did."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.helpers import plant_distribution

PLUGIN = '''
import i2i


class Sharpener:
    """{summary}"""


@i2i.hookimpl
def i2i_losses():
    return {{"sharpness": Sharpener}}
'''

TORCH_LOADED = "import sys; from i2i.cli import main; main(['plugins'], standalone_mode=False); "
TORCH_LOADED += "print('torch loaded:', 'torch' in sys.modules)"


def _listing(environment: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "i2i", "plugins", *options]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)


def _row(listing: str, name: str) -> str:
    return next(line for line in listing.splitlines() if line.split()[1:2] == [name])


def test_a_second_listing_comes_from_the_cache_without_torch(tmp_path):
    environment = {**os.environ, "I2I_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run(
        [sys.executable, "-c", TORCH_LOADED], capture_output=True, text=True, env=environment
    )
    assert first.returncode == 0, first.stderr
    assert "torch loaded: True" in first.stdout  # the first listing loads the plugins
    second = subprocess.run(
        [sys.executable, "-c", TORCH_LOADED], capture_output=True, text=True, env=environment
    )
    assert "torch loaded: False" in second.stdout
    assert second.stdout.replace("False", "True") == first.stdout
    assert ("generator", "unet", "pix2pix") in {
        tuple(r.split()[:3]) for r in second.stdout.split("\n")
    }


def test_installing_or_editing_a_plugin_refreshes_the_listing(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    environment = {
        **os.environ,
        "I2I_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": str(site),
    }
    assert "sharpness" not in _listing(environment).stdout
    source = textwrap.dedent(PLUGIN.format(summary="Sharpness, first version."))
    plant_distribution(site, "sharp_plugin", source, {"sharp": "sharp_plugin"})
    installed = _listing(environment).stdout
    assert _row(installed, "sharpness").endswith("Sharpness, first version.")
    (site / "sharp_plugin.py").write_text(source.replace("first version", "edited"))
    assert _row(_listing(environment).stdout, "sharpness").endswith("Sharpness, edited.")
    disabled = {**environment, "I2I_DISABLE_PLUGINS": "sharp"}
    assert "sharpness" not in _listing(disabled).stdout
    (site / "sharp_plugin.py").write_text("import not_a_module_anywhere\n")
    broken = _listing(environment, "--strict")
    assert broken.returncode == 1 and "BROKEN: failed to import" in broken.stdout


def test_a_cache_folder_that_cannot_be_written_only_costs_the_cache(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    environment = {**os.environ, "I2I_CACHE_DIR": str(blocker / "cache")}
    for _ in range(2):
        listed = _listing(environment)
        assert listed.returncode == 0 and not listed.stderr, listed.stderr
        assert "unet" in listed.stdout
    assert blocker.read_text() == "not a folder"


def test_a_name_given_exactly_still_prints_its_arguments(tmp_path):
    environment = {**os.environ, "I2I_CACHE_DIR": str(tmp_path / "cache")}
    _listing(environment)
    shown = _listing(environment, "patchgan").stdout
    assert "discriminator pix2pix:patchgan:" in shown and "n_layers" in shown
