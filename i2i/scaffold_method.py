"""``i2i plugin new NAME --kind method``: a training-method plugin that passes its tests.

The package holds a minimal paired method (a conditional GAN with the recipe's weighted
terms, written against :mod:`i2i.methods` alone), its hook, a recipe, and tests built on
:func:`i2i.testing.check_method` plus a two-step run of its recipe.
"""

from __future__ import annotations

README = """\
# i2i-{name}

A training method for i2i (image-to-image translation): `method: {{name: {prefix}}}`.
`{module}/method.py` holds it: a conditional GAN whose G step adds the recipe's weighted
`loss.terms` (L1 by default), written against `i2i.methods` alone. Replace its
`train_step` with your method's iteration.

Its tests train it on generated data, so install i2i with its reference plugin (from i2i's
repository: `pip install -e . -e plugins/pix2pix`), then:

```bash
pip install -e ".[test]"
pytest                     # check_method (train, checkpoint, resume, compare) and a CLI run
i2i run recipes/{prefix}.yaml
```
"""

INIT = '''\
"""i2i method plugin {name}: replace the example method with yours."""

from {module}.method import ExampleMethod

__all__ = ["ExampleMethod"]
'''

PLUGIN = '''\
"""The hook i2i calls: {{method name: factory(components, **recipe arguments)}}."""

from __future__ import annotations

from i2i import hookimpl

from {module}.method import ExampleMethod


@hookimpl
def i2i_methods():
    """Training methods; a recipe picks one with method: {{name: {prefix}}}."""
    return {{"{prefix}": ExampleMethod}}
'''

METHOD = '''\
"""A minimal paired training method (replace its iteration with yours)."""

from __future__ import annotations

import torch

from i2i.interfaces import LossInputs
from i2i.methods import TrainingMethod


class ExampleMethod(TrainingMethod):
    """A conditional GAN: D sees (input, image); G adds the recipe's weighted loss.terms.

    Args:
        d_every: update D every this many steps (1: every step).
    """

    data = "paired"  # batches hold "input" and "target"; "unpaired" gives "A" and "B"

    def __init__(self, components, d_every: int = 1):
        super().__init__()
        if d_every < 1:
            raise ValueError(f"d_every must be 1 or more, got {{d_every}}")
        model = components.recipe.model
        self.d_every, self.steps = d_every, 0
        self.networks["generator"] = components.generator()
        self.networks["discriminator"] = components.discriminator(
            model.in_channels + model.out_channels
        )
        self.adversarial, self.adversarial_weight = components.adversarial()
        if self.adversarial is None:
            raise ValueError("needs loss.adversarial with a weight above 0")
        self.terms = components.terms()
        for role in ("generator", "discriminator"):
            self.optimizers[f"optimizer_{{role[0]}}"] = components.adam(self.networks[role])

    def train_step(self, batch, networks, tools):
        """One iteration: D (every d_every steps), then G with D frozen."""
        x, y = batch["input"], batch["target"]
        generator, discriminator = networks["generator"], networks["discriminator"]
        with tools.autocast():
            output = generator(x)
        losses = {{}}
        self.steps += 1
        if self.steps % self.d_every == 0:
            tools.requires_grad(discriminator, True)
            with tools.autocast():
                fake = discriminator(torch.cat([x, output.detach()], 1))
                real = discriminator(torch.cat([x, y], 1))
                loss_d = self.adversarial.discriminator_loss(real=real, fake=fake)
            tools.update(loss_d, self.optimizers["optimizer_d"], "d")
            losses["d"] = loss_d.detach()
        tools.requires_grad(discriminator, False)
        with tools.autocast():
            judged = tools.unwrapped(discriminator)(torch.cat([x, output], 1))
            loss_g = self.adversarial_weight * self.adversarial.generator_loss(judged)
            inputs = LossInputs(input=x, output=output, target=y, fake=judged, real=None)
            for label, term in self.terms.items():
                value = term.loss(inputs)
                losses[label] = value.detach()
                loss_g = loss_g + term.weight * value
        tools.update(loss_g, self.optimizers["optimizer_g"], "g")
        tools.end_step()
        losses["g"] = loss_g.detach()
        return losses

    def extra_state(self):
        """The step counter (d_every's phase), saved in checkpoints for exact resume."""
        return {{"steps": torch.tensor(self.steps)}}

    def load_extra_state(self, tensors):
        """Restore extra_state's counter."""
        self.steps = int(tensors["steps"])
'''

RECIPE = """\
# {prefix} on generated 32x32 pairs: i2i run recipes/{prefix}.yaml
seed: 0
method: {{name: {prefix}, d_every: 1}}
data:
  dataset: {{name: synthetic_shapes, size: 32, length: 64}}
  load_size: 36
  crop_size: 32
  batch_size: 4
  num_workers: 0
model:
  generator: {{name: unet, depth: 5, ngf: 16}}
  discriminator: {{name: patchgan, ndf: 16, n_layers: 2}}
train: {{max_steps: 200, device: auto}}
log: {{every: 20, sample_every: 100, val_images: 4}}
"""

TESTS = '''\
"""The method meets i2i's contract and trains from its recipe through the command line."""

import subprocess
import sys
from pathlib import Path

from i2i.testing import check_method

RECIPE = Path(__file__).parents[1] / "recipes" / "{prefix}.yaml"


def test_the_method_trains_checkpoints_and_resumes_exactly():
    check_method("{prefix}")
    check_method("{prefix}", {{"d_every": 2}}, steps=3)


def test_two_steps_of_its_recipe_through_the_command_line(tmp_path):
    overrides = ["train.max_steps=2", "train.device=cpu", "log.progress=false"]
    result = subprocess.run(
        [sys.executable, "-m", "i2i", "run", str(RECIPE), *overrides,
         f"run.dir={{tmp_path / 'run'}}"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "checkpoints" / "step_00000002.safetensors").is_file()
'''


def method_files(module: str, prefix: str) -> dict[str, str]:
    """The method package's files (relative path → template)."""
    return {
        "README.md": README,
        f"{module}/__init__.py": INIT,
        f"{module}/plugin.py": PLUGIN,
        f"{module}/method.py": METHOD,
        f"recipes/{prefix}.yaml": RECIPE,
        f"tests/test_{module}.py": TESTS,
    }
