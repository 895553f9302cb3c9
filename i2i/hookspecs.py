"""Every hook an i2i plugin can implement, in one place.

A plugin is a module (or any object) with functions marked ``@i2i.hookimpl`` whose names
are the hooks below. It is found through the ``i2i.plugins`` entry-point group::

    [project.entry-points."i2i.plugins"]
    my-plugin = "my_package.plugin"

Each hook takes no arguments and *returns* what it contributes, a mapping of component name
to factory; nothing is registered as a side effect of an import. A factory is a class or
function whose keyword arguments are the recipe keys of the component (see
:mod:`i2i.interfaces` for what each kind must build); it refuses bad values by raising
``TypeError`` or ``ValueError``. Every component is also reachable as ``plugin:name``. A
hook this i2i does not know is reported and ignored; the plugin's other hooks still load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("i2i")
hookimpl = pluggy.HookimplMarker("i2i")

Factories = Mapping[str, Callable[..., Any]]


@hookspec
def i2i_methods() -> Factories:
    """Return training methods: ``{name: factory(components, **recipe_args)}``.

    The recipe's ``method`` node picks one (``{name: pix2pix}`` by default). The factory
    receives an :class:`i2i.methods.Components`, which builds the recipe's networks and
    objectives, and returns an :class:`i2i.methods.TrainingMethod`: its networks by role,
    its optimisers, and one training iteration (see :mod:`i2i.methods`).
    """


@hookspec
def i2i_generators() -> Factories:
    """Return generators: ``{name: factory(in_channels, out_channels, **recipe_args)}``.

    The factory builds an ``nn.Module`` meeting :class:`i2i.interfaces.Generator`.
    """


@hookspec
def i2i_discriminators() -> Factories:
    """Return discriminators: ``{name: factory(in_channels, **recipe_args)}``.

    The factory builds an ``nn.Module`` meeting :class:`i2i.interfaces.Discriminator`.
    """


@hookspec
def i2i_losses() -> Factories:
    """Return losses: ``{name: factory(**recipe_args)}``.

    The factory builds either an adversarial objective (:class:`i2i.interfaces.AdversarialLoss`,
    summed over scales, with any factor such as pix2pix's 0.5 on D's loss its own) or a
    generator loss term (:class:`i2i.interfaces.GeneratorLoss`, unweighted). The recipe's
    ``weight`` is removed from the node before the factory is called; the method applies it.
    """


@hookspec
def i2i_datasets() -> Factories:
    """Return paired datasets: ``{name: factory(root, split, **recipe_args)}``.

    The factory builds a :class:`i2i.interfaces.PairedDataset` whose items hold uint8 or
    uint16 ``(C, H, W)`` tensors of any channel count; an unreadable file raises
    :class:`i2i.errors.DataError` (what ``data.on_corrupt=skip`` skips).
    :func:`i2i.data.read_image` decodes files as the built-in datasets do.
    """


@hookspec
def i2i_weight_converters() -> Factories:
    """Return converters of foreign generator weights: ``{name: convert(state_dict)}``.

    ``convert`` receives a plain ``{key: tensor}`` state_dict read from a foreign file (read
    with ``weights_only=True``) and returns None when it does not recognise it, else a
    :class:`i2i.interfaces.ConvertedGenerator`: the recipe node of an equivalent registered
    generator and the state_dict in that generator's key names.
    """


@hookspec
def i2i_loggers() -> Factories:
    """Return experiment loggers: ``{name: factory(**recipe_args)}``.

    The recipe's ``log.loggers`` picks them (``[mlflow]``, ``[{name: wandb, project: p}]``).
    The factory builds an :class:`i2i.train.events.Subscriber` and fails early (raise
    ``ValueError``, or :class:`i2i.errors.RecipeError` naming what to install) on a missing
    package or a bad option. Rank 0 alone builds loggers. The core runs each on a thread of
    its own, reports its first exception as one warning and sends it nothing more, keeps
    what its ``resume_record()`` returns so a resumed run continues the same tracker run,
    and does not resend the steps it already delivered.
    """


HOOK_KINDS: dict[str, str] = {
    "i2i_methods": "method",
    "i2i_generators": "generator",
    "i2i_discriminators": "discriminator",
    "i2i_losses": "loss",
    "i2i_datasets": "dataset",
    "i2i_weight_converters": "converter",
    "i2i_loggers": "logger",
}
"""Which registry kind each contributing hook fills."""
