"""`i2i plugin new`: the template package installs, registers and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from i2i.cli import main
from tests.helpers import one_line_error, pip_install_into


@pytest.mark.slow
def test_a_new_plugin_installs_and_passes_its_own_tests(tmp_path):
    created = CliRunner().invoke(main, ["plugin", "new", "demo-gan", "--dir", str(tmp_path)])
    assert created.exit_code == 0, created.output
    package = tmp_path / "i2i-demo-gan"
    assert (package / "i2i_demo_gan" / "plugin.py").is_file()
    again = CliRunner().invoke(main, ["plugin", "new", "demo-gan", "--dir", str(tmp_path)])
    assert "exists; choose another name" in one_line_error(again)
    assert "use lower-case" in one_line_error(CliRunner().invoke(main, ["plugin", "new", "Bad!"]))

    listing, tests = _install_list_and_test(package, tmp_path, "--strict")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    assert "demo_gan_generator" in listing.stdout and "i2i-demo-gan 0.1.0" in listing.stdout
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "3 passed" in tests.stdout


def _install_list_and_test(package, tmp_path, *listing_options):
    """Install ``package`` as pip installs it, beside this environment's i2i; then
    ``i2i plugins LISTING_OPTIONS`` and the package's own tests, as that user runs them."""
    site = tmp_path / "site"
    pip_install_into(site, package)
    environment = {**os.environ, "PYTHONPATH": str(site)}
    listing = subprocess.run(
        [sys.executable, "-m", "i2i", "plugins", *listing_options],
        capture_output=True,
        text=True,
        env=environment,
    )
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=package,
    )
    return listing, tests


@pytest.mark.slow
def test_a_new_method_plugin_installs_and_passes_its_own_tests(tmp_path):
    made = CliRunner().invoke(
        main, ["plugin", "new", "my-gan", "--kind", "method", "--dir", str(tmp_path)]
    )
    assert made.exit_code == 0, made.output
    package = tmp_path / "i2i-my-gan"
    assert (package / "i2i_my_gan" / "method.py").is_file()
    assert (package / "recipes" / "my_gan.yaml").is_file()
    listing, tests = _install_list_and_test(package, tmp_path, "--kind", "method")
    assert "my_gan" in listing.stdout and "i2i-my-gan 0.1.0" in listing.stdout, listing.stdout
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "2 passed" in tests.stdout
