"""Loading a generator from an i2i checkpoint, a foreign ``.pth`` file or an ``.onnx`` file."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from i2i.checkpoint import load_checkpoint, write_checkpoint
from i2i.errors import CheckpointError
from i2i.interfaces import ConvertedGenerator
from i2i.registry import Registry


@dataclass
class LoadedGenerator:
    """A generator ready to translate, whatever file it came from.

    Attributes:
        run: callable mapping a float ``(N, C, H, W)`` batch in [-1, 1] to its translation.
        module: the ``nn.Module`` (None for ONNX), for train/eval mode and export.
        in_channels: input channels.
        out_channels: output channels.
        size_multiple: input sides must be multiples of this.
        node: the recipe node the generator was built from (None for ONNX).
        source: a short description of where it came from.
        recipe: the training recipe, when the checkpoint holds one.
        fixed_mode: the test-time mode an exported graph was built in (None: chosen per run).
        direction: the direction it translates (a two-direction checkpoint holds one per
            direction).
    """

    run: Callable[[Tensor], Tensor]
    module: nn.Module | None
    in_channels: int
    out_channels: int
    size_multiple: int
    node: dict | None = None
    source: str = ""
    recipe: dict[str, Any] = field(default_factory=dict)
    fixed_mode: str | None = None
    direction: str = "AtoB"


def _from_module(module: nn.Module, node: dict, source: str, recipe: dict) -> LoadedGenerator:
    return LoadedGenerator(
        module,
        module,
        module.in_channels,
        module.out_channels,
        module.size_multiple,
        node,
        source,
        recipe,
    )


def read_foreign_state(path: Path) -> dict[str, Tensor]:
    """A plain state_dict from a ``.pth``/``.pt``/``.bin`` file, never unpickling objects."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols on stderr
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"'{path}' holds Python objects beyond tensors and was not unpickled "
            "(unpickling could run code); only plain state_dicts are loaded"
        ) from None
    except (OSError, RuntimeError, EOFError) as error:
        raise CheckpointError(f"cannot read '{path}': {error}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"'{path}' is not a state_dict of tensors")
    return {key.removeprefix("module."): value for key, value in state.items()}


def convert_foreign(path: Path, registry: Registry) -> ConvertedGenerator:
    """Ask every plugin's weight converter to recognise a foreign state_dict."""
    state = read_foreign_state(path)
    for component in registry.components("converter"):
        converted = component.factory(state)
        if converted is not None:
            return converted
    known = ", ".join(registry.names("converter")) or "none installed"
    raise CheckpointError(
        f"no weight converter recognises '{path}' (converters: {known}); "
        "is it a generator checkpoint of a supported implementation?"
    )


def _build(registry: Registry, node: dict, in_channels: int, out_channels: int) -> nn.Module:
    return registry.build(
        "generator", node, "generator", in_channels=in_channels, out_channels=out_channels
    )


def _load_weights(module: nn.Module, state: dict[str, Tensor], path: Path) -> None:
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise CheckpointError(f"weights in '{path}' do not fit their generator: {first}") from None


def _build_with_weights(
    registry: Registry, node: dict, channels: tuple[int, int], state: dict[str, Tensor], path: Path
) -> nn.Module:
    """Build the generator and load ``state`` into it."""
    # Building on the meta device would skip the random initialisation (0.7 s for unet_256),
    # but its first use imports torch's reference kernels, which costs 3 s: a net loss.
    module = _build(registry, node, *channels)
    _load_weights(module, state, path)
    return module


def load_generator(
    path: str | Path, registry: Registry, device: str = "cpu", direction: str | None = None
) -> LoadedGenerator:
    """Load the generator of an i2i checkpoint, a foreign ``.pth`` or an ``.onnx`` file.

    ``direction`` picks the network of a two-direction checkpoint (CycleGAN's G_A for AtoB,
    G_B for BtoA); by default, the direction the checkpoint was trained for.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint '{path}' not found")
    if path.suffix == ".onnx":
        from i2i.inference.onnx import load_onnx

        return load_onnx(path, device)
    if path.suffix == ".safetensors":
        _, meta = load_checkpoint(path, prefix="\0")  # the metadata alone
        recipe = meta.get("recipe", {})
        model = recipe.get("model", {})
        if "generator" not in model:
            raise CheckpointError(f"'{path}' records no model.generator; was it written by i2i?")
        direction = direction or recipe.get("data", {}).get("direction", "AtoB")
        role, channels = translator_of(meta, model, direction)
        tensors, _ = load_checkpoint(path, prefix=f"{role}.")  # not D or the optimisers
        if not tensors:
            raise CheckpointError(f"'{path}' holds no '{role}' weights")
        own = {k.removeprefix(f"{role}."): v for k, v in tensors.items()}
        module = _build_with_weights(registry, dict(model["generator"]), channels, own, path)
        loaded = _from_module(
            module.to(device), dict(model["generator"]), f"i2i {path.name}", recipe
        )
        loaded.direction = direction
        return loaded
    converted = convert_foreign(path, registry)
    channels = (converted.in_channels, converted.out_channels)
    module = _build_with_weights(registry, converted.node, channels, converted.state_dict, path)
    recipe = {
        "model": {
            "generator": converted.node,
            "in_channels": converted.in_channels,
            "out_channels": converted.out_channels,
        }
    }
    loaded = _from_module(module.to(device), converted.node, f"converted {path.name}", recipe)
    loaded.direction = direction or "AtoB"
    return loaded


def translator_of(
    meta: dict[str, Any], model: dict[str, Any], direction: str
) -> tuple[str, tuple[int, int]]:
    """The role and channels of the network that translates ``direction`` in a checkpoint.

    Checkpoints of one-generator methods (and those written before methods were plugins)
    have the role 'generator' for both directions.
    """
    entry = meta.get("translators", {}).get(direction)
    if not entry:
        return "generator", (model["in_channels"], model["out_channels"])
    channels = (
        entry.get("in_channels") or model["in_channels"],
        entry.get("out_channels") or model["out_channels"],
    )
    return entry["role"], channels


def convert_to_checkpoint(source: Path, target: Path, registry: Registry) -> Path:
    """Write a foreign generator as an i2i checkpoint (generator weights and recipe node)."""
    loaded = load_generator(source, registry)
    if loaded.module is None:
        raise CheckpointError(f"'{source}' is an ONNX model; only weight files can be converted")
    if target.suffix != ".safetensors":
        raise CheckpointError(f"'{target}': the converted checkpoint must end in .safetensors")
    tensors = {f"generator.{k}": v.contiguous() for k, v in loaded.module.state_dict().items()}
    meta = {"step": 0, "recipe": loaded.recipe, "converted_from": source.name}
    return write_checkpoint(target, tensors, meta)
