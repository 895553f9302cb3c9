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
from torch.overrides import TorchFunctionMode

from i2i.checkpoint import load_checkpoint, tensor_shapes, write_checkpoint
from i2i.errors import CheckpointError, quoted
from i2i.interfaces import ConvertedGenerator
from i2i.outputs import OutputFolder
from i2i.provenance import differences, provenance
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
        min_size: the smallest side it takes (its ``min_size``, else ``size_multiple``).
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
    min_size: int = 0

    def __post_init__(self) -> None:
        self.min_size = max(self.min_size, self.size_multiple)

    def check_mode(self, mode: str, name: str) -> None:
        """Refuse a test-time ``mode`` that an exported graph (fixed in one mode) cannot run."""
        fixed = self.fixed_mode
        if fixed is None or fixed == mode:
            return
        how = "i2i export --eval" if mode == "eval" else "i2i export (without --eval)"
        flag = "with --eval" if fixed == "eval" else "without --eval"
        raise CheckpointError(
            f"{quoted(name)} was exported in {fixed} mode and cannot run in {mode} mode; "
            f"run it {flag}, or export it again with {how}"
        )


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
        min_size=getattr(module, "min_size", module.size_multiple),
    )


def resolve_checkpoint(path: Path | str) -> Path:
    """The file a ``-c`` argument means: a run directory gives its best checkpoint (where
    ``checkpoint.best`` tracks one), else its latest; a hub-layout folder or a hub name
    (``hf://ORG/NAME``) its ``model.safetensors``; anything unusable fails in one line."""
    from i2i.checkpoint import list_checkpoints
    from i2i.hub import hub_folder, is_hub_folder, is_hub_name, weights_of

    if isinstance(path, str) and is_hub_name(path):
        return weights_of(hub_folder(path))
    path = Path(path)
    if is_hub_folder(path):
        return weights_of(path)
    if path.is_dir():
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        best = folder / "best.safetensors"
        if best.is_file():
            return best
        found = list_checkpoints(folder)
        if not found:
            raise CheckpointError(
                f"{quoted(path)} is a folder without checkpoints; give a run directory that "
                "has some, or a checkpoint file"
            )
        return found[-1]
    if not path.is_file():
        raise CheckpointError(f"checkpoint {quoted(path)} not found")
    if path.suffix == ".json" and path.with_suffix(".safetensors").is_file():
        raise CheckpointError(
            f"{quoted(path)} is the metadata sidecar of a checkpoint; pass the weights, "
            f"{quoted(path.with_suffix('.safetensors'))}"
        )
    if path.suffix not in (".safetensors", ".onnx", ".pth", ".pt", ".bin", ".ckpt"):
        raise CheckpointError(
            f"{quoted(path)} is not a checkpoint (.safetensors, .pth or .onnx); give the file "
            "i2i run, i2i convert or i2i export wrote, or a run directory"
        )
    return path


def read_foreign_state(path: Path) -> dict[str, Tensor]:
    """A plain state_dict from a ``.pth``/``.pt``/``.bin`` file, never unpickling objects."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols on stderr
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"{quoted(path)} holds Python objects beyond tensors and was not unpickled "
            "(unpickling could run code); only plain state_dicts are loaded"
        ) from None
    except (OSError, RuntimeError, EOFError) as error:
        raise CheckpointError(f"cannot read {quoted(path)}: {error}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"{quoted(path)} is not a state_dict of tensors")
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
        f"no weight converter recognises {quoted(path)} (converters: {known}); "
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
        raise CheckpointError(
            f"weights in {quoted(path)} do not fit their generator: {first}"
        ) from None


class _OverBudget(Exception):
    """Building the skeleton took far more torch calls than the file's tensors can explain."""


_CREATORS = frozenset({"empty", "zeros", "ones", "full", "tensor", "rand", "randn", "arange"})


class _SkipInitialisation(TorchFunctionMode):
    """Make in-place initialisers (``normal_``, ``zero_``, ...) no-ops on meta tensors.

    On the meta device they would only cost time (torch routes them through its Python
    reference kernels, 1 s on first use), and their values are never read. With a
    ``budget``, building stops after that many tensors are created (a hostile depth of 10^9
    layers would otherwise run for ever); a module creates about one per tensor it holds.
    """

    def __init__(self, budget: int | None = None) -> None:
        super().__init__()
        self.budget = budget

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: D105
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if self.budget is not None and name in _CREATORS:
            self.budget -= 1
            if self.budget < 0:  # raised where modules create tensors, outside any context
                raise _OverBudget
        if name.endswith("_") and not name.endswith("__"):
            target = args[0] if args else kwargs.get("tensor")
            if isinstance(target, Tensor) and target.is_meta:
                return target
        return func(*args, **kwargs)


def _skeleton(
    registry: Registry, node: dict, channels: tuple[int, int], tensors: int, path: Path
) -> nn.Module:
    """The generator built on the meta device: its shapes, without allocating any memory.

    A recipe that needs far more torch calls than ``tensors`` (the file's count) explains
    is refused: the file cannot hold weights for it.
    """
    grad = torch.is_grad_enabled()
    try:
        with _SkipInitialisation(budget=4 * tensors + 100), torch.device("meta"):
            return _build(registry, node, *channels)
    except _OverBudget:
        raise CheckpointError(
            f"weights in {quoted(path)} do not fit the generator its recipe describes: it "
            f"would be far larger than the {tensors} tensors the file holds"
        ) from None
    finally:
        torch.set_grad_enabled(grad)  # in case a plugin's constructor was stopped mid-way


def _shapes(tensors: dict[str, Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in tensors.items()}


def _fill(
    skeleton: nn.Module,
    registry: Registry,
    node: dict,
    channels: tuple[int, int],
    state: dict[str, Tensor],
    path: Path,
) -> nn.Module:
    """Load ``state`` into the checked skeleton, building it for real only if it must."""
    try:
        skeleton.load_state_dict(state, assign=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise CheckpointError(
            f"weights in {quoted(path)} do not fit their generator: {first}"
        ) from None
    if not any(t.is_meta for t in (*skeleton.parameters(), *skeleton.buffers())):
        return skeleton  # every tensor now comes from the file: no random init needed
    module = _build(registry, node, *channels)  # it has state beyond the weights
    _load_weights(module, state, path)
    return module


def _build_with_weights(
    registry: Registry, node: dict, channels: tuple[int, int], state: dict[str, Tensor], path: Path
) -> nn.Module:
    """Build the generator ``node`` describes and load ``state``, checking shapes first."""
    skeleton = _skeleton(registry, node, channels, len(state), path)
    _check_shapes(_shapes(skeleton.state_dict()), _shapes(state), path)
    return _fill(skeleton, registry, node, channels, state, path)


def _check_shapes(
    expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], path: Path
) -> None:
    """Refuse weights whose names or shapes differ from those of the generator to be built."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = [k for k in expected if k in found and expected[k] != found[k]]
    if not (missing or extra or wrong):
        return
    if wrong:
        key = wrong[0]
        detail = f"'{key}' is {list(found[key])} in the file but {list(expected[key])} in the model"
    elif missing:
        detail = f"{len(missing)} tensor(s) missing, e.g. '{missing[0]}'"
    else:
        detail = f"{len(extra)} unexpected tensor(s), e.g. '{extra[0]}'"
    raise CheckpointError(
        f"weights in {quoted(path)} do not fit the generator its recipe describes: {detail}"
    )


def load_generator(
    path: str | Path, registry: Registry, device: str = "cpu", direction: str | None = None
) -> LoadedGenerator:
    """Load the generator of an i2i checkpoint, a foreign ``.pth`` or an ``.onnx`` file.

    ``direction`` picks the network of a two-direction checkpoint (CycleGAN's G_A for AtoB,
    G_B for BtoA); by default, the direction the checkpoint was trained for.
    """
    path = resolve_checkpoint(path)
    if path.suffix == ".onnx":
        from i2i.inference.onnx import load_onnx

        return load_onnx(path, device)
    if path.suffix == ".safetensors":
        _, meta = load_checkpoint(path, prefix="\0")  # the metadata alone
        recipe = meta.get("recipe", {})
        model = _recorded_model(meta, path)
        trained = recipe.get("data", {}).get("direction")
        roles = {entry.get("role") for entry in (meta.get("translators") or {}).values()}
        refuse_untrained_direction(len(roles) <= 1, direction, trained, path)
        direction = direction or trained or "AtoB"
        role, channels = translator_of(meta, model, direction)
        prefix = f"{role}."
        shapes = {
            k.removeprefix(prefix): v
            for k, v in tensor_shapes(path).items()
            if k.startswith(prefix)
        }
        if not shapes:
            raise CheckpointError(f"{quoted(path)} holds no '{role}' weights")
        node = dict(model["generator"])
        skeleton = _skeleton(registry, node, channels, len(shapes), path)
        # Checked against the header before a byte of weights is read or allocated.
        _check_shapes(_shapes(skeleton.state_dict()), shapes, path)
        tensors, _ = load_checkpoint(path, prefix=prefix)  # not D or the optimisers
        own = {k.removeprefix(prefix): v for k, v in tensors.items()}
        module = _fill(skeleton, registry, node, channels, own, path)
        loaded = _from_module(
            module.to(device), dict(model["generator"]), f"i2i {path.name}", recipe
        )
        loaded.direction = direction
        _warn_on_other_versions(recipe, registry, path)
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


def refuse_untrained_direction(
    one_network: bool, direction: str | None, trained: str | None, path: Path
) -> None:
    """Refuse ``direction`` for a one-network checkpoint trained the other way.

    A one-direction method (pix2pix) records the same network for both directions; asked for
    the other one it would translate the wrong kind of input without a word. Checkpoints
    that do not record their direction (the authors' .pth files) are taken at their word.
    """
    if direction is None or trained is None or not one_network or direction == trained:
        return
    raise CheckpointError(
        f"{quoted(path.name)} was trained {trained} only (its recipe's data.direction): it has "
        f"no network for {direction}; translate {trained}, or train a model with "
        f"data.direction={direction}"
    )


def _warn_on_other_versions(recipe: dict[str, Any], registry: Registry, path: Path) -> None:
    """Warn when the generator's plugin (or i2i) is not the version that trained it."""
    saved = recipe.get("provenance")
    if not isinstance(saved, dict):
        return
    now = provenance({"model": {"generator": recipe["model"]["generator"]}}, registry)
    kept = {"i2i": saved.get("i2i"), "components": (saved.get("components") or {})}
    for change in differences(kept, now):
        warnings.warn(f"{path.name} was trained with other versions: {change}", stacklevel=3)


def _recorded_model(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    """The header's ``recipe.model``, with every value the loader reads checked for type."""

    def need(ok: bool, key: str, what: str, value: Any) -> None:
        if not ok:
            raise CheckpointError(
                f"{quoted(path)}: header key '{key}' must be {what}, not {value!r:.60}; "
                "the file is damaged or was not written by i2i"
            )

    recipe = meta.get("recipe", {})
    model = recipe.get("model")
    if not isinstance(model, dict) or "generator" not in model:
        raise CheckpointError(f"{quoted(path)} records no model.generator; was it written by i2i?")
    generator = model["generator"]
    need(isinstance(generator, dict), "recipe.model.generator", "a mapping", generator)
    need(
        isinstance(generator.get("name"), str),
        "recipe.model.generator.name",
        "a name",
        generator.get("name"),
    )
    for key in ("in_channels", "out_channels"):
        value = model.get(key)
        need(_positive_int(value), f"recipe.model.{key}", "a positive integer", value)
    data = recipe.get("data", {})
    need(isinstance(data, dict), "recipe.data", "a mapping", data)
    direction = data.get("direction", "AtoB")
    need(direction in ("AtoB", "BtoA"), "recipe.data.direction", "AtoB or BtoA", direction)
    translators = meta.get("translators", {})
    for name, entry in translators.items():
        key = f"translators.{name}"
        need(
            isinstance(entry, dict) and isinstance(entry.get("role"), str),
            key,
            "a mapping with a role",
            entry,
        )
        for channels in ("in_channels", "out_channels"):
            value = entry.get(channels)
            need(
                value is None or _positive_int(value),
                f"{key}.{channels}",
                "a positive integer",
                value,
            )
    return model


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


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


def convert_to_checkpoint(
    source: Path, target: Path, registry: Registry, overwrite: bool = False
) -> Path:
    """Write a foreign generator as an i2i checkpoint (generator weights and recipe node).

    ``target`` (and its ``.json`` sidecar) never replaces ``source``, nor an existing file
    that is not an earlier conversion of it unless ``overwrite`` (:mod:`i2i.outputs`).
    """
    outputs = OutputFolder(target.parent, "convert", source, overwrite=overwrite, inputs=[source])
    outputs.check([target, target.with_suffix(".json")])
    loaded = load_generator(source, registry)
    if loaded.module is None:
        raise CheckpointError(
            f"{quoted(source)} is an ONNX model; only weight files can be converted"
        )
    if target.suffix != ".safetensors":
        raise CheckpointError(
            f"{quoted(target)}: the converted checkpoint must end in .safetensors"
        )
    tensors = {f"generator.{k}": v.contiguous() for k, v in loaded.module.state_dict().items()}
    meta = {"step": 0, "recipe": loaded.recipe, "converted_from": source.name}
    return write_checkpoint(target, tensors, meta, outputs)
