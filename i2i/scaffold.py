"""``i2i plugin new NAME``: a plugin package that installs, registers and passes its tests.

The package holds one component of each common kind (a generator, a discriminator, a loss
term), the hooks that register them, and a test suite built on :mod:`i2i.testing`, so an
author starts from something green and replaces the examples.
"""

from __future__ import annotations

import re
from pathlib import Path

from i2i import __version__
from i2i.errors import I2IError, quoted
from i2i.files import write_text_atomic

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "i2i-{name}"
version = "0.1.0"
description = "i2i plugin: {name}"
requires-python = ">=3.10"
dependencies = ["i2i>={i2i_version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# The entry point is what makes i2i find the plugin; its name is the plugin's name, and
# every component is also reachable as {name}:<component>.
[project.entry-points."i2i.plugins"]
{name} = "{module}.plugin"

[tool.setuptools.packages.find]
include = ["{module}*"]
"""

_README = """\
# i2i-{name}

A plugin for i2i (image-to-image translation). Components:

| kind | name | arguments |
|---|---|---|
| generator | `{prefix}_generator` | `width=16`, `blocks=2` |
| discriminator | `{prefix}_discriminator` | `width=16` |
| loss term | `{prefix}_total_variation` | none |

Its tests train through the pix2pix method, so install i2i with its reference plugin
(from i2i's repository: `pip install -e . -e plugins/pix2pix`), then:

```bash
pip install -e ".[test]"
pytest                     # the contract checks of i2i.testing, and a two-step training run
i2i plugins --strict       # lists the components; fails on a broken plugin or a name clash
i2i run recipes/quickstart.yaml "model.generator={{name: {prefix}_generator}}"  # i2i's quickstart
```
"""

_INIT = '''\
"""i2i plugin {name}: replace the example components with your own."""

from {module}.components import ExampleDiscriminator, ExampleGenerator, TotalVariation

__all__ = ["ExampleDiscriminator", "ExampleGenerator", "TotalVariation"]
'''

_PLUGIN = '''\
"""The hooks i2i calls: each returns {{component name: factory}}."""

from __future__ import annotations

from i2i import hookimpl

from {module}.components import ExampleDiscriminator, ExampleGenerator, TotalVariation


@hookimpl
def i2i_generators():
    """Generators: factory(in_channels, out_channels, **recipe arguments)."""
    return {{"{prefix}_generator": ExampleGenerator}}


@hookimpl
def i2i_discriminators():
    """Discriminators: factory(in_channels, **recipe arguments)."""
    return {{"{prefix}_discriminator": ExampleDiscriminator}}


@hookimpl
def i2i_losses():
    """Losses: factory(**recipe arguments); the recipe's weight is applied by the method."""
    return {{"{prefix}_total_variation": TotalVariation}}
'''

_COMPONENTS = '''\
"""Example components, one per common kind, meeting the contracts of i2i.interfaces."""

from __future__ import annotations

import torch
from torch import nn

from i2i.interfaces import DiscriminatorOutput, LossInputs


class ExampleGenerator(nn.Module):
    """A small residual convolutional generator (replace it with yours).

    Args:
        in_channels: input channels (given by i2i from model.in_channels).
        out_channels: output channels (from model.out_channels).
        width: channels of the hidden layers.
        blocks: residual blocks.
    """

    size_multiple = 1  # any side works: no downsampling

    def __init__(self, in_channels: int, out_channels: int, width: int = 16, blocks: int = 2):
        super().__init__()
        if width < 1 or blocks < 0:
            raise ValueError(f"width must be ≥ 1 and blocks ≥ 0, got {{width}}, {{blocks}}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Conv2d(width, width, 3, padding=1)) for _ in range(blocks)
        )
        self.head = nn.Conv2d(width, out_channels, 3, padding=1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(N, in, H, W) in [-1, 1] → (N, out, H, W) in [-1, 1]."""
        features = self.stem(image)
        for block in self.blocks:
            features = features + block(features)
        return torch.tanh(self.head(features))


class ExampleDiscriminator(nn.Module):
    """A two-layer patch discriminator (replace it with yours).

    Args:
        in_channels: channels it sees (output, plus input when model.conditional).
        width: channels of the hidden layer.
    """

    def __init__(self, in_channels: int, width: int = 16):
        super().__init__()
        self.in_channels = in_channels
        self.body = nn.Sequential(nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2))
        self.head = nn.Conv2d(width, 1, 4, 1, 1)

    def forward(self, image: torch.Tensor) -> DiscriminatorOutput:
        """One logit map, and the features behind it (for feature-matching losses)."""
        features = self.body(image)
        return DiscriminatorOutput(logits=[self.head(features)], features=[[features]])


class TotalVariation:
    """Mean absolute difference of neighbouring output pixels: favours smooth outputs."""

    def __call__(self, inputs: LossInputs) -> torch.Tensor:
        """The unweighted scalar term (the recipe's weight is applied by the method)."""
        output = inputs.output
        across = (output[..., :, 1:] - output[..., :, :-1]).abs().mean()
        down = (output[..., 1:, :] - output[..., :-1, :]).abs().mean()
        return across + down
'''

_TESTS = '''\
"""The plugin's components meet i2i's contracts, and train through i2i run."""

from __future__ import annotations

import subprocess
import sys

from i2i.testing import check_discriminator, check_generator, check_plugin


def test_every_component_meets_its_contract():
    checked = check_plugin("{name}")
    assert "generator {name}:{prefix}_generator" in checked


def test_the_components_meet_it_with_other_arguments():
    check_generator("{name}:{prefix}_generator", {{"width": 4, "blocks": 0}}, in_channels=1)
    check_discriminator("{name}:{prefix}_discriminator", {{"width": 4}}, in_channels=2)


def test_two_training_steps_through_the_command_line(tmp_path):
    overrides = [
        "data.dataset={{name: synthetic_shapes, size: 32, length: 8}}",
        "data.load_size=32", "data.crop_size=32", "data.num_workers=0",
        "model.generator={{name: {name}:{prefix}_generator, width: 8}}",
        "model.discriminator={{name: {name}:{prefix}_discriminator}}",
        "loss.terms.{prefix}_total_variation.weight=0.1",
        "train.max_steps=2", "train.device=cpu", "log.progress=false", "log.val_images=2",
        f"run.dir={{tmp_path / 'run'}}",
    ]
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 0\\n")
    result = subprocess.run(
        [sys.executable, "-m", "i2i", "run", str(recipe), *overrides],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "checkpoints" / "step_00000002.safetensors").is_file()
'''


def new_plugin(name: str, parent: Path, kind: str = "components") -> Path:
    """Write the package of plugin ``name`` into ``parent/i2i-NAME``; returns that folder.

    ``kind`` is ``components`` (a generator, a discriminator, a loss term) or ``method`` (a
    training method, its recipe and tests). Nothing existing is replaced: the folder must
    not exist yet.
    """
    if not _NAME.fullmatch(name):
        raise I2IError(
            f"plugin name {name!r}: use lower-case letters, digits, '-' or '_', starting with "
            "a letter (e.g. edges, my-gan)"
        )
    module = "i2i_" + name.replace("-", "_")
    folder = parent / f"i2i-{name}"
    if folder.exists():
        raise I2IError(f"{quoted(folder)} exists; choose another name or folder (nothing written)")
    values = {
        "name": name,
        "module": module,
        "prefix": name.replace("-", "_"),
        "i2i_version": __version__,
    }
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"{module}/__init__.py": _INIT,
        f"{module}/plugin.py": _PLUGIN,
        f"{module}/components.py": _COMPONENTS,
        f"tests/test_{module}.py": _TESTS,
    }
    if kind == "method":
        from i2i.scaffold_method import method_files

        files = {"pyproject.toml": _PYPROJECT, **method_files(module, values["prefix"])}
    for relative, template in files.items():
        write_text_atomic(folder / relative, template.format(**values))
    return folder
