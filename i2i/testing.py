"""Contract checks for plugin authors, to call from your own pytest suite.

Each check builds a component the way a recipe does (through the registry, so it also
proves your entry point and your arguments) and fails with an :class:`ContractError` (an
``AssertionError``, so pytest shows it as a failed assertion) saying what is wrong::

    from i2i.testing import check_plugin

    def test_my_plugin_meets_the_contracts():
        check_plugin("my-plugin")          # every component it registers

    def test_my_generator_with_arguments():
        check_generator("my_unet", {"ngf": 8})

What each check asserts is what the core relies on; ``docs/plugins.md`` states the same
obligations in prose.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from i2i.encoder_checks import check_features
from i2i.interfaces import (
    AdversarialLoss,
    Discriminator,
    DiscriminatorOutput,
    Generator,
    GeneratorLoss,
    LossInputs,
    PairedDataset,
)
from i2i.logger_checks import check_logger
from i2i.registry import Registry

DISCRIMINATOR_CHECK_SIZE = 64
"""Side of the images a discriminator is checked at, unless it declares ``min_size``."""


class ContractError(AssertionError):
    """A component does not do what its interface promises."""


def _require(condition: bool, what: str, message: str) -> None:
    if not condition:
        raise ContractError(f"{what}: {message}")


def _registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    from i2i.plugins import default_registry

    return default_registry()


def _scalar(value: Any, what: str) -> torch.Tensor:
    _require(torch.is_tensor(value), what, f"must return a tensor, got {type(value).__name__}")
    _require(value.shape == (), what, f"must return a scalar (shape ()), got {tuple(value.shape)}")
    _require(bool(torch.isfinite(value)), what, f"returned a non-finite value {value.item()}")
    return value


def _backpropagates(value: torch.Tensor, through: torch.Tensor, what: str) -> None:
    _require(value.requires_grad, what, "its value carries no gradient (is it detached?)")
    (gradient,) = torch.autograd.grad(value, through, retain_graph=True, allow_unused=True)
    _require(gradient is not None, what, "its value does not depend on its input")


def check_generator(
    name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    in_channels: int = 3,
    out_channels: int = 2,
    registry: Registry | None = None,
) -> torch.nn.Module:
    """Check the generator ``name`` built with ``arguments``; returns it.

    It must have ``in_channels``, ``out_channels`` and ``size_multiple`` (and may declare
    ``min_size``, the smallest side it takes, default ``size_multiple``); translate
    ``(N, in, H, W)`` to ``(N, out, H, W)`` in ``[-1, 1]`` for every H and W that are
    multiples of ``size_multiple`` from ``min_size`` up (checked at the smallest, and at a
    non-square size), in train and eval mode; and pass gradients back to its input.
    """
    what = f"generator '{name}'"
    node = {"name": name, **(arguments or {})}
    generator = _registry(registry).build(
        "generator", node, what, in_channels=in_channels, out_channels=out_channels
    )
    _require(isinstance(generator, torch.nn.Module), what, "must build an nn.Module")
    _require(
        isinstance(generator, Generator),
        what,
        "must have in_channels, out_channels and size_multiple attributes",
    )
    _require(
        (generator.in_channels, generator.out_channels) == (in_channels, out_channels),
        what,
        f"was asked for {in_channels}→{out_channels} channels but reports "
        f"{generator.in_channels}→{generator.out_channels}",
    )
    multiple = generator.size_multiple
    _require(isinstance(multiple, int) and multiple >= 1, what, "size_multiple must be an int ≥ 1")
    smallest = getattr(generator, "min_size", multiple)
    _require(
        isinstance(smallest, int) and smallest % multiple == 0,
        what,
        f"min_size must be a multiple of size_multiple {multiple}, got {smallest!r}",
    )
    for height, width in ((smallest, smallest), (smallest, smallest + multiple)):
        for train in (True, False):
            generator.train(train)
            image = torch.rand(2, in_channels, height, width) * 2 - 1
            image.requires_grad_(train)
            with torch.set_grad_enabled(train):
                output = generator(image)
            mode = "train" if train else "eval"
            _require(
                torch.is_tensor(output) and output.shape == (2, out_channels, height, width),
                what,
                f"in {mode} mode, a (2, {in_channels}, {height}, {width}) input must give "
                f"(2, {out_channels}, {height}, {width}), got "
                f"{tuple(output.shape) if torch.is_tensor(output) else type(output).__name__}",
            )
            values = output.detach()
            _require(bool(torch.isfinite(values).all()), what, f"non-finite output ({mode} mode)")
            _require(
                float(values.abs().max()) <= 1 + 1e-5,
                what,
                f"outputs must lie in [-1, 1] (tanh), got {float(values.abs().max()):.3g}",
            )
            if train:
                _backpropagates(output.mean(), image, what)
    if hasattr(generator, "features"):
        generator.train(True)
        check_features(generator, torch.rand(2, in_channels, smallest, smallest) * 2 - 1, what)
    return generator


def _size_of(module: Any) -> int:
    return max(getattr(module, "min_size", DISCRIMINATOR_CHECK_SIZE), 1)


def check_discriminator(
    name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    in_channels: int = 6,
    registry: Registry | None = None,
) -> torch.nn.Module:
    """Check the discriminator ``name`` built with ``arguments``; returns it.

    It must keep the ``in_channels`` it is given and return a
    :class:`~i2i.interfaces.DiscriminatorOutput`: one or more ``(N, 1, h, w)`` logit maps
    (one per scale) and, per scale, a list of feature tensors (maybe empty), with gradients
    reaching the image. It is checked at 64×64 (or its ``min_size``).
    """
    what = f"discriminator '{name}'"
    node = {"name": name, **(arguments or {})}
    discriminator = _registry(registry).build("discriminator", node, what, in_channels=in_channels)
    _require(isinstance(discriminator, torch.nn.Module), what, "must build an nn.Module")
    _require(isinstance(discriminator, Discriminator), what, "must have an in_channels attribute")
    _require(discriminator.in_channels == in_channels, what, "must keep the in_channels given")
    side = _size_of(discriminator)
    image = (torch.rand(2, in_channels, side, side) * 2 - 1).requires_grad_(True)
    output = discriminator.train()(image)
    _require(
        isinstance(output, DiscriminatorOutput),
        what,
        f"must return DiscriminatorOutput(logits, features), got {type(output).__name__}",
    )
    _require(bool(output.logits), what, "must return at least one logit map")
    _require(
        len(output.features) == len(output.logits),
        what,
        f"needs one feature list per scale: {len(output.logits)} logit maps, "
        f"{len(output.features)} feature lists",
    )
    for index, logits in enumerate(output.logits):
        _require(
            logits.dim() == 4 and logits.shape[:2] == (2, 1),
            what,
            f"logit map {index} must be (N, 1, h, w), got {tuple(logits.shape)}",
        )
        _require(
            all(torch.is_tensor(f) for f in output.features[index]),
            what,
            f"features of scale {index} must be tensors",
        )
    _backpropagates(sum(logits.mean() for logits in output.logits), image, what)
    return discriminator


def _verdict(scales: int, requires_grad: bool = True) -> DiscriminatorOutput:
    generator = torch.Generator().manual_seed(scales)
    logits = [torch.randn(2, 1, 4, 4, generator=generator) for _ in range(scales)]
    features = [[torch.randn(2, 8, 4, 4, generator=generator)] for _ in range(scales)]
    for tensor in [*logits, *(f for fs in features for f in fs)]:
        tensor.requires_grad_(requires_grad)
    return DiscriminatorOutput(logits, features)


def _repeated(verdict: DiscriminatorOutput) -> DiscriminatorOutput:
    return DiscriminatorOutput(verdict.logits * 2, verdict.features * 2)


def check_adversarial_loss(
    name: str, arguments: Mapping[str, Any] | None = None, *, registry: Registry | None = None
) -> AdversarialLoss:
    """Check the adversarial objective ``name``; returns it.

    ``discriminator_loss(real, fake)`` and ``generator_loss(fake)`` must return finite
    scalars with gradients reaching the logits, and sum over scales: a discriminator output
    with every scale twice gives twice the loss. (Any factor, such as pix2pix's 0.5 on D's
    loss, is the objective's own: the method uses the value as it is.)
    """
    what = f"adversarial loss '{name}'"
    loss = _registry(registry).build("loss", {"name": name, **(arguments or {})}, what)
    _require(
        isinstance(loss, AdversarialLoss),
        what,
        "must have discriminator_loss(real, fake) and generator_loss(fake)",
    )
    real, fake = _verdict(1), _verdict(1)
    d_loss = _scalar(loss.discriminator_loss(real=real, fake=fake), f"{what} discriminator_loss")
    g_loss = _scalar(loss.generator_loss(fake), f"{what} generator_loss")
    _backpropagates(d_loss, fake.logits[0], f"{what} discriminator_loss")
    _backpropagates(g_loss, fake.logits[0], f"{what} generator_loss")
    twice_d = loss.discriminator_loss(real=_repeated(real), fake=_repeated(fake))
    twice_g = loss.generator_loss(_repeated(fake))
    for label, once, twice in (("discriminator", d_loss, twice_d), ("generator", g_loss, twice_g)):
        _require(
            torch.allclose(twice, 2 * once, rtol=1e-4, atol=1e-6),
            what,
            f"{label}_loss must sum over scales: two identical scales gave {float(twice):.6g}, "
            f"one gave {float(once):.6g}",
        )
    return loss


def check_loss_term(
    name: str, arguments: Mapping[str, Any] | None = None, *, registry: Registry | None = None
) -> GeneratorLoss:
    """Check the generator loss term ``name``; returns it.

    Called with :class:`~i2i.interfaces.LossInputs` (D's outputs on two scales included),
    it must return a finite, unweighted scalar that carries a gradient (the recipe's
    ``weight`` is removed before the factory is called, and applied by the method).
    """
    what = f"loss term '{name}'"
    term = _registry(registry).build("loss", {"name": name, **(arguments or {})}, what)
    _require(
        isinstance(term, GeneratorLoss) and not isinstance(term, AdversarialLoss),
        what,
        "must be callable with LossInputs (adversarial objectives go under loss.adversarial)",
    )
    inputs = LossInputs(
        input=torch.rand(2, 3, 16, 16) * 2 - 1,
        output=(torch.rand(2, 3, 16, 16) * 2 - 1).requires_grad_(True),
        target=torch.rand(2, 3, 16, 16) * 2 - 1,
        fake=_verdict(2),
        real=_verdict(2, requires_grad=False),
    )
    value = _scalar(term(inputs), what)
    _require(value.requires_grad, what, "its value carries no gradient (is it detached?)")
    return term


def check_dataset(
    name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    root: str | Path | None = None,
    split: str = "train",
    registry: Registry | None = None,
    items: int = 4,
) -> PairedDataset:
    """Check the paired dataset ``name`` (on ``root``/``split``); returns it.

    ``len()`` and indexing must work; each item is ``{"A", "B", "name"}`` with A and B
    ``(C, H, W)`` tensors of dtype uint8, uint16 or float32 in [0, 1], of any channel count
    each, sharing H and
    W, and a string name. An unreadable file must raise :class:`~i2i.errors.DataError` (so
    ``data.on_corrupt=skip`` can skip it); the first ``items`` items are read.
    """
    what = f"dataset '{name}'"
    node = {"name": name, **(arguments or {})}
    dataset = _registry(registry).build(
        "dataset", node, what, root=None if root is None else str(root), split=split
    )
    _require(isinstance(dataset, PairedDataset), what, "must have __len__ and __getitem__")
    length = len(dataset)
    _require(isinstance(length, int) and length >= 0, what, "len() must be an int ≥ 0")
    for index in range(min(items, length)):
        item = dataset[index]
        label = f"{what} item {index}"
        _require(isinstance(item, Mapping), label, "must be a mapping with A, B and name")
        _require(isinstance(item.get("name"), str), label, "needs a string 'name'")
        for side in ("A", "B"):
            image = item.get(side)
            _require(torch.is_tensor(image), label, f"{side} must be a tensor")
            _require(image.dim() == 3, label, f"{side} must be (C, H, W), got {tuple(image.shape)}")
            _require(
                image.dtype in (torch.uint8, torch.uint16, torch.float32),
                label,
                f"{side} must be uint8, uint16 or float32 in [0, 1] (decoded, not normalised to "
                f"[-1, 1]), got {image.dtype}",
            )
        _require(
            item["A"].shape[-2:] == item["B"].shape[-2:],
            label,
            f"A is {tuple(item['A'].shape)} and B {tuple(item['B'].shape)}: they must share H, W",
        )
    return dataset


def check_method(
    name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    overrides: tuple[str, ...] = (),
    steps: int = 2,
) -> None:
    """Train the method ``name`` for ``steps`` on tiny synthetic data, resume it, compare.

    Its ``train_step`` must return finite scalar losses; its networks and optimisers must
    round-trip through a checkpoint (with ``extra_state``) so that a resumed run makes the
    same steps as an uninterrupted one; ``translator`` must name one of its networks.
    ``overrides`` are recipe overrides (an unpaired dataset, other networks).
    """
    from i2i.checkpoint import list_checkpoints, load_checkpoint
    from i2i.config import load_recipe
    from i2i.plugins import default_registry
    from i2i.train.loop import fit, prepare
    from i2i.train.resume import resume

    what = f"method '{name}'"
    node = ", ".join(
        f"{key}: {value}" for key, value in {"name": name, **(arguments or {})}.items()
    )
    tiny = [
        f"method={{{node}}}",
        "data.dataset={name: synthetic_shapes, size: 32, length: 8}",
        "data.load_size=32",
        "data.crop_size=32",
        "data.num_workers=0",
        "model.generator={name: unet, depth: 5, ngf: 4}",
        "model.discriminator={name: patchgan, ndf: 4, n_layers: 2}",
        "log.progress=false",
        "log.val_images=1",
        "train.device=cpu",
        *overrides,
    ]
    with tempfile.TemporaryDirectory() as folder:
        whole, part = Path(folder) / "whole", Path(folder) / "part"
        for run_dir, total in ((whole, 2 * steps), (part, steps)):
            recipe = load_recipe(None, [*tiny, f"run.dir={run_dir}", f"train.max_steps={total}"])
            run = prepare(recipe, run_dir, default_registry())
            for direction in ("AtoB", "BtoA"):
                role = run.method.translator(direction)
                _require(
                    role in run.method.networks,
                    what,
                    f"translator({direction!r}) is "
                    f"{role!r}, not one of its networks {sorted(run.method.networks)}",
                )
            fit(run)
        fit(resume(part, [f"train.max_steps={2 * steps}"], default_registry()))
        expected, _ = load_checkpoint(list_checkpoints(whole / "checkpoints")[-1])
        got, _ = load_checkpoint(list_checkpoints(part / "checkpoints")[-1])
        differing = [k for k in expected if k in got and not torch.equal(expected[k], got[k])]
        _require(
            expected.keys() == got.keys() and not differing,
            what,
            "a run resumed from a checkpoint does not continue as the uninterrupted one "
            f"({len(differing)} tensors differ, e.g. {differing[:2]}); save all its state in "
            "networks, optimizers and extra_state()",
        )


def check_plugin(plugin: str, *, registry: Registry | None = None) -> list[str]:
    """Run the check of its kind on every component ``plugin`` registers, with defaults.

    Components whose factory needs arguments, datasets (they need data), methods (see
    :func:`check_method`) and loggers (they need a place to write: :func:`check_logger`)
    are left to the author's own calls. Returns what was checked.
    """
    registry = _registry(registry)
    checked = []
    components = [c for c in registry.components(every=True) if c.plugin == plugin]
    if not components:
        raise ContractError(f"plugin '{plugin}' registers no components (is it installed?)")
    for component in components:
        name = component.qualified
        if component.required_arguments():
            continue
        if component.kind == "generator":
            check_generator(name, registry=registry)
        elif component.kind == "discriminator":
            check_discriminator(name, registry=registry)
        elif component.kind == "loss":
            built = registry.build("loss", {"name": name})
            if isinstance(built, AdversarialLoss):
                check_adversarial_loss(name, registry=registry)
            else:
                check_loss_term(name, registry=registry)
        else:
            continue
        checked.append(f"{component.kind} {name}")
    return checked


__all__ = [
    "ContractError",
    "check_adversarial_loss",
    "check_dataset",
    "check_discriminator",
    "check_generator",
    "check_logger",
    "check_loss_term",
    "check_method",
    "check_plugin",
]
