"""Plugin discovery through real entry points, and isolation of broken plugins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import i2i
from i2i.plugins import load_plugins, register_plugin, reset_plugins
from tests.helpers import pip_install_into, plant_distribution

TINY_PLUGIN = Path(__file__).parent / "fixtures" / "tiny_plugin"

GOOD = """
    from i2i import hookimpl

    def tiny_generator(in_channels, out_channels, scale=1.0):
        '''Multiplies by a scale.'''
        return scale

    @hookimpl
    def i2i_generators():
        return {"planted": tiny_generator}
"""


def test_builtin_sets_arrive_through_entry_points():
    plugins = load_plugins()
    names = {info.name for info in plugins.loaded}
    assert {"pix2pix", "i2i-data"} <= names
    owners = {c.name: c.plugin for c in plugins.registry.components()}
    assert owners["unet"] == "pix2pix" and owners["patchgan"] == "pix2pix"
    assert owners["aligned"] == "i2i-data"


def test_core_does_not_import_the_pix2pix_plugin():
    code = (
        "import i2i, i2i.train.loop, i2i.cli, i2i.config, i2i.data, sys; "
        "print('i2i_pix2pix' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_planted_distribution_is_discovered(tmp_path, monkeypatch):
    plant_distribution(tmp_path, "planted_plugin", GOOD, {"planted": "planted_plugin"})
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = load_plugins()
    component = plugins.registry.get("generator", "planted")
    assert component.plugin == "planted"
    assert component.summary == "Multiplies by a scale."
    assert any(i.name == "planted" and i.distribution == "planted_plugin" for i in plugins.loaded)


def test_broken_plugin_is_reported_and_others_load(tmp_path, monkeypatch):
    plant_distribution(tmp_path, "planted_plugin", GOOD, {"planted": "planted_plugin"})
    plant_distribution(
        tmp_path, "broken_plugin", "import not_a_module_anywhere\n", {"broken": "broken_plugin"}
    )
    plant_distribution(
        tmp_path,
        "typo_plugin",
        """
        from i2i import hookimpl

        @hookimpl
        def i2i_generatorz():
            return {}

        @hookimpl
        def i2i_losses():
            return {"typo_loss": lambda: None}
    """,
        {"typo": "typo_plugin"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = load_plugins()
    problems = {p.plugin: p.message for p in plugins.problems}
    assert "ModuleNotFoundError" in problems["broken"]
    assert "typo" not in problems  # a hook this i2i does not know rejects only that hook
    notes = {p.plugin: p.message for p in plugins.notes}
    assert "implements hook 'i2i_generatorz', which this i2i" in notes["typo"]
    assert plugins.registry.get("loss", "typo_loss").plugin == "typo"
    assert plugins.registry.get("generator", "planted").plugin == "planted"
    assert plugins.registry.get("generator", "unet").plugin == "pix2pix"


def test_hook_that_raises_is_isolated(tmp_path, monkeypatch):
    plant_distribution(
        tmp_path,
        "raising_plugin",
        """
        from i2i import hookimpl

        @hookimpl
        def i2i_losses():
            raise RuntimeError("boom")
    """,
        {"raising": "raising_plugin"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = load_plugins()
    assert any(p.plugin == "raising" and "boom" in p.message for p in plugins.problems)
    assert "l1" in plugins.registry.names("loss")


CLASHING = """
    from i2i import hookimpl

    def impostor(in_channels, out_channels):
        '''Not the U-Net.'''
        return object()

    @hookimpl
    def i2i_generators():
        return {"unet": impostor, "shared": impostor}
"""


def test_a_clash_with_a_built_in_leaves_it_the_name(tmp_path, monkeypatch):
    plant_distribution(tmp_path, "clash_plugin", CLASHING, {"clash": "clash_plugin"})
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = load_plugins()
    registry = plugins.registry
    assert registry.get("generator", "unet").plugin == "pix2pix"  # whatever the load order
    assert registry.get("generator", "pix2pix:unet").plugin == "pix2pix"
    assert registry.get("generator", "clash:unet").summary == "Not the U-Net."
    (clash,) = [c for c in registry.clashes if c.name == "unet"]
    assert set(clash.plugins) == {"pix2pix", "clash"} and clash.owner == "pix2pix"
    assert "stays the built-in plugin 'pix2pix's, write 'clash:unet' for the other" in str(clash)
    assert not plugins.problems  # neither plugin is broken
    assert registry.get("generator", "encoder_decoder").plugin == "pix2pix"


def test_a_clash_between_two_plugins_refuses_the_bare_name_naming_both(tmp_path, monkeypatch):
    import i2i.errors

    plant_distribution(tmp_path, "clash_plugin", CLASHING, {"clash": "clash_plugin"})
    plant_distribution(tmp_path, "other_plugin", CLASHING, {"other": "other_plugin"})
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = load_plugins().registry
    with pytest.raises(
        i2i.errors.UnknownComponentError,
        match=r"generator 'shared' is registered by 2 plugins; name one: '(clash|other):shared'",
    ):
        registry.build("generator", {"name": "shared"}, in_channels=3, out_channels=3)
    assert registry.get("generator", "other:shared").plugin == "other"


def test_plugins_strict_fails_on_a_clash_or_a_broken_plugin(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}

    def listing() -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "i2i", "plugins", "--strict"]
        return subprocess.run(command, capture_output=True, text=True, env=environment)

    healthy = listing()
    assert healthy.returncode == 0, healthy.stderr
    plant_distribution(tmp_path, "clash_plugin", CLASHING, {"clash": "clash_plugin"})
    clashing = listing()
    assert clashing.returncode == 1 and "CLASH: generator 'unet'" in clashing.stdout
    assert "clash:unet" in clashing.stdout and "Not the U-Net." in clashing.stdout
    (tmp_path / "clash_plugin.py").write_text("import not_a_module_anywhere\n")
    broken = listing()
    assert broken.returncode == 1 and "BROKEN: failed to import" in broken.stdout


def test_environment_switches(monkeypatch):
    monkeypatch.setenv("I2I_PLUGINS", "i2i-data")
    assert load_plugins().registry.names("generator") == []
    monkeypatch.delenv("I2I_PLUGINS")
    monkeypatch.setenv("I2I_DISABLE_PLUGINS", "pix2pix")
    assert "patchgan" not in load_plugins().registry.names("discriminator")
    monkeypatch.setenv("I2I_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert load_plugins().loaded == []


def test_register_plugin_by_hand():
    class HandPlugin:
        @i2i.hookimpl
        def i2i_losses(self):
            return {"zero": lambda: lambda inputs: 0.0}

    register_plugin(HandPlugin(), "hand")
    assert "zero" in i2i.list_components("loss")


@pytest.mark.slow
def test_pip_installed_plugin_package_shows_in_cli(tmp_path):
    """A real third-party package, built and installed by pip, is listed by `i2i plugins`."""
    target = tmp_path / "site"
    pip_install_into(target, TINY_PLUGIN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *sys.path])}
    listing = subprocess.run(
        [sys.executable, "-m", "i2i", "plugins"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "tiny             tiny-i2i-plugin 0.0.1" in listing
    row = next(
        line for line in listing.splitlines() if " tiny " in line and "discriminator" in line
    )
    assert row.split()[:3] == ["discriminator", "tiny", "tiny"]


@pytest.mark.fault
def test_only_the_plugins_shipped_with_i2i_are_labelled_built_in(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from i2i.cli import main

    plant_distribution(tmp_path, "planted_plugin", GOOD, {"planted": "planted_plugin"})
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugins()
    listing = CliRunner().invoke(main, ["plugins"]).output.splitlines()
    rows = {line.split()[0]: line for line in listing if line.startswith("  ") and "0." in line}
    assert rows["planted"].rstrip().endswith("planted_plugin 0.1")
    assert rows["pix2pix"].rstrip().endswith("(built-in)")
    assert rows["i2i-loggers"].rstrip().endswith("(built-in)")
