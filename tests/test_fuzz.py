"""Property tests: random recipes and random checkpoint headers give one-line errors, never
tracebacks (hypothesis throws what a careless or hostile file could hold at the loaders)."""

from __future__ import annotations

import json
import struct

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from i2i.checkpoint import load_checkpoint
from i2i.config.load import load_recipe, schema_keys
from i2i.errors import I2IError
from i2i.inference.load import load_generator
from i2i.plugins import default_registry

pytestmark = pytest.mark.fault
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["unet", "patchgan", "AtoB", "${data.crop_size}", "${oops}", "~", "???"]),
)
keys = st.one_of(st.sampled_from(sorted(schema_keys())), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _nest(flat: dict[str, object]) -> dict:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}`` (the last writer wins where keys collide)."""
    tree: dict = {}
    for dotted, value in flat.items():
        node = tree
        *parents, leaf = dotted.split(".") or [dotted]
        for parent in parents:
            if not isinstance(node.get(parent), dict):
                node[parent] = {}
            node = node[parent]
        node[leaf] = value
    return tree


def _one_line(error: I2IError) -> None:
    assert str(error).strip() and "\n" not in str(error).strip(), repr(str(error))


@FUZZ
@given(st.dictionaries(keys, values, max_size=6))
def test_random_recipes_load_or_fail_in_one_line(tmp_path, flat):
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(_nest(flat)))
    try:
        load_recipe(path)
    except I2IError as error:
        _one_line(error)


@FUZZ
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_random_bytes_as_a_recipe_fail_in_one_line(tmp_path, payload):
    path = tmp_path / "recipe.yaml"
    path.write_bytes(payload)
    try:
        load_recipe(path)
    except I2IError as error:
        _one_line(error)


tensor_entries = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(["F32", "F16", "I64", "BOOL", "U8", "Q9", ""]),
        "shape": st.lists(st.integers(-2, 2**40), max_size=4),
        "data_offsets": st.lists(st.integers(-2, 2**40), min_size=0, max_size=3),
    }
)
model_meta = st.fixed_dictionaries(
    {
        "step": st.one_of(st.integers(-5, 10), st.text(max_size=3)),
        "recipe": st.one_of(
            values,
            st.fixed_dictionaries(
                {
                    "model": st.fixed_dictionaries(
                        {
                            "generator": st.one_of(
                                values,
                                st.fixed_dictionaries(
                                    {"name": st.sampled_from(["unet", "resnet_9blocks", "x"])},
                                    optional={"ngf": values, "depth": values, "norm": values},
                                ),
                            ),
                            "in_channels": values,
                            "out_channels": values,
                        }
                    )
                },
                optional={"data": values},
            ),
        ),
    },
    optional={"translators": values},
)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["generator.w", "generator.down.0.0.weight", "x"]),
        tensor_entries,
        max_size=3,
    ),
    st.one_of(model_meta.map(json.dumps), values.map(json.dumps), st.text(max_size=20)),
    st.binary(max_size=64),
    st.integers(0, 3),
)
def test_random_safetensors_headers_load_or_fail_in_one_line(
    tmp_path, entries, meta, payload, length_error
):
    header = json.dumps({**entries, "__metadata__": {"i2i": meta}}).encode()
    declared = len(header) + [0, 1, -1, 2**40][length_error]
    path = tmp_path / "random.safetensors"
    path.write_bytes(struct.pack("<Q", max(declared, 0)) + header + payload)
    for load in (load_checkpoint, lambda p: load_generator(p, default_registry())):
        try:
            load(path)
        except I2IError as error:
            _one_line(error)


@FUZZ
@given(st.one_of(model_meta, values))
def test_random_metadata_in_a_valid_file_loads_or_fails_in_one_line(tiny_checkpoint, meta):
    from safetensors.torch import save_file

    tensors, _ = load_checkpoint(tiny_checkpoint)
    path = tiny_checkpoint.with_name("random_meta.safetensors")
    save_file(tensors, str(path), metadata={"i2i": json.dumps(meta)})
    try:
        load_generator(path, default_registry())
    except I2IError as error:
        _one_line(error)
