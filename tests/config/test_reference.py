"""The config reference in docs/ is generated from the schema and must be current."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from i2i.config import schema
from i2i.config.load import schema_keys
from i2i.config.reference import config_reference, field_docs

DOC = Path(__file__).parents[2] / "docs" / "config-reference.md"


def test_committed_reference_is_current():
    assert DOC.read_text() == config_reference(), (
        "docs/config-reference.md is stale: run `i2i config reference > docs/config-reference.md`"
    )


def test_every_leaf_key_is_documented():
    text = config_reference()
    sections = {f.name for f in dataclasses.fields(schema.Recipe) if f.name != "seed"}
    for key in schema_keys():
        if key not in sections and key not in ("train.optimizer", "checkpoint.best"):
            assert f"| `{key}` |" in text, key


def test_every_schema_field_has_a_docstring():
    for cls in (
        schema.RunConfig,
        schema.DataConfig,
        schema.ModelConfig,
        schema.LossConfig,
        schema.OptimizerConfig,
        schema.TrainConfig,
        schema.LogConfig,
        schema.CheckpointConfig,
    ):
        assert set(field_docs(cls)) == {f.name for f in dataclasses.fields(cls)}, cls.__name__
