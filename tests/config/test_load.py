"""Recipes: schema validation, overrides, one-line errors with the closest key."""

from __future__ import annotations

from pathlib import Path

import pytest

from i2i.config import load_recipe, recipe_to_yaml
from i2i.config.load import schema_keys
from i2i.errors import RecipeError

RECIPES = sorted((Path(__file__).parents[2] / "recipes").glob("*.yaml"))


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_every_shipped_recipe_loads(recipe):
    assert load_recipe(recipe).seed == 0


def test_required_keys_exist():
    keys = set(schema_keys())
    assert {
        "seed",
        "run.dir",
        "data.root",
        "data.direction",
        "model.generator",
        "model.discriminator",
        "train.max_steps",
    } <= keys


def test_overrides_apply_with_types():
    recipe = load_recipe(
        None,
        [
            "train.max_steps=5",
            "model.generator.name=encoder_decoder",
            "data.direction=BtoA",
            "model.generator.ngf=32",
        ],
    )
    assert recipe.train.max_steps == 5
    assert recipe.model.generator == {"name": "encoder_decoder", "ngf": 32}
    assert recipe.data.direction == "BtoA"


@pytest.mark.parametrize(
    ("override", "suggestion"),
    [
        ("trian.max_steps=5", "train.max_steps"),
        ("train.max_step=5", "train.max_steps"),
        ("data.directoin=AtoB", "data.direction"),
        ("sed=3", "seed"),
    ],
)
def test_misspelled_override_names_the_closest_key(override, suggestion):
    with pytest.raises(RecipeError) as caught:
        load_recipe(None, [override])
    message = str(caught.value)
    assert f"Did you mean '{suggestion}'?" in message and override in message
    assert "\n" not in message


def test_misspelled_key_in_a_file_names_the_file_and_key(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("train:\n  max_step: 5\n")
    with pytest.raises(RecipeError, match=r"r.yaml.*'train.max_step'.*'train.max_steps'"):
        load_recipe(recipe)


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("data.direction=CtoD", "expected one of ['AtoB', 'BtoA']"),
        ("seed=abc", "could not be converted to Integer"),
        ("data.crop_size=512", "smaller than data.crop_size=512"),
        ("data.batch_size=0", "data.batch_size: must be at least 1"),
        ("loss.terms.l1.weight=heavy", "loss.terms.l1.weight: must be a number"),
        ("justaword", "is not of the form key=value"),
    ],
)
def test_bad_values_are_one_line_errors(override, fragment):
    with pytest.raises(RecipeError) as caught:
        load_recipe(None, [override])
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(RecipeError, match="not found"):
        load_recipe(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(RecipeError, match="bad.yaml.*not valid YAML"):
        load_recipe(bad)


def test_maps_root_follows_the_environment(monkeypatch):
    maps = Path(__file__).parents[2] / "recipes" / "pix2pix_maps.yaml"
    monkeypatch.delenv("I2I_MAPS_ROOT", raising=False)
    assert load_recipe(maps).data.root == "datasets/maps"
    monkeypatch.setenv("I2I_MAPS_ROOT", "/data/maps")
    assert load_recipe(maps).data.root == "/data/maps"
    assert load_recipe(maps, ["data.root=elsewhere"]).data.root == "elsewhere"


def test_resolved_yaml_round_trips(tmp_path):
    recipe = load_recipe(None, ["train.max_steps=7", "model.generator.depth=6"])
    written = tmp_path / "config.yaml"
    written.write_text(recipe_to_yaml(recipe))
    assert load_recipe(written) == recipe


def test_tilde_removes_a_component_argument():
    recipe = load_recipe(None, ["model.discriminator.n_layers=2", "~model.discriminator.n_layers"])
    assert recipe.model.discriminator == {"name": "patchgan"}
    with pytest.raises(RecipeError, match="no key 'model.discriminator.ndf' to remove"):
        load_recipe(None, ["~model.discriminator.ndf"])
    with pytest.raises(RecipeError, match="part of the recipe schema"):
        load_recipe(None, ["~train.max_steps"])


def test_mapping_replaces_a_component_but_merges_into_a_section():
    recipe = load_recipe(
        None,
        [
            "model.discriminator.n_layers=2",
            "model.discriminator={name: tiny}",
            "train={max_steps: 3}",
            "train.epochs=7",
        ],
    )
    assert recipe.model.discriminator == {"name": "tiny"}
    assert recipe.train.max_steps == 3 and recipe.train.epochs == 7
    assert recipe.train.optimizer.lr == 2e-4  # the section kept its other keys
