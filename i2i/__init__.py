"""i2i: paired image-to-image translation, assembled from plugins.

The core defines what a training method (:mod:`i2i.methods`), a generator, discriminator,
loss and dataset must provide (:mod:`i2i.interfaces`), keeps a registry of them filled by
plugins (:mod:`i2i.registry`, :mod:`i2i.plugins`), reads recipes (:mod:`i2i.config`) and
trains (:mod:`i2i.train`).
It knows no particular model or method: pix2pix and CycleGAN are plugins, found like any other.

To extend i2i, write a plugin: a module with functions marked ``@i2i.hookimpl`` named
after the hooks in :mod:`i2i.hookspecs`, each returning ``{name: factory}``; declare it
under the ``i2i.plugins`` entry-point group of your package. ``i2i plugins`` lists it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from i2i.hookspecs import hookimpl

if TYPE_CHECKING:  # `import i2i` stays light: torch loads with the first model
    from i2i.inference.model import Model

__version__ = "0.1.0"


def load(path: str, device: str = "cpu", download: bool = False) -> Model:
    """Load a trained model to translate images from Python (see ``docs/using-models.md``).

    ``path`` is an i2i ``.safetensors`` checkpoint, a run directory, an official
    ``*_net_G.pth``, an exported ``.onnx``, a hub-layout folder, or a Hugging Face hub name
    (``"ORG/NAME"``, ``"hf://ORG/NAME@REV"``), read from the local hub cache and downloaded
    only with ``download=True``; ``model(image)`` takes a PIL image, a NumPy array or a
    tensor (or a list of them) and returns the same type at the input's size.
    """
    from i2i.hub import allow_downloads, is_hub_name
    from i2i.inference.model import Model

    name = str(path)
    if is_hub_name(name, bare=True):
        allow_downloads(download)
        name = name if name.startswith("hf://") else f"hf://{name}"
    return Model(name, device)


def create(kind: str, node: dict, **shared: object) -> object:
    """Build a registered component from ``{name: ..., **kwargs}`` (e.g. ``create("generator",
    {"name": "unet"}, in_channels=3, out_channels=3)``)."""
    from i2i.plugins import default_registry

    return default_registry().build(kind, node, **shared)


def list_components(kind: str | None = None, pattern: str = "*") -> list[str]:
    """Registered names of ``kind`` (else ``kind:name`` of all kinds) matching ``pattern``."""
    from i2i.plugins import default_registry

    registry = default_registry()
    if kind:
        return registry.names(kind, pattern)
    return [f"{c.kind}:{c.name}" for c in registry.components(None, pattern)]


__all__ = ["__version__", "create", "hookimpl", "list_components", "load"]
