"""Values no command should take: non-finite numbers, keys defined twice, names with newlines."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from i2i.cli import main
from i2i.errors import RecipeError

pytestmark = pytest.mark.fault


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_no_command_takes_a_plain_float_that_would_let_inf_and_nan_through():
    floats = [
        (" ".join(path), option.name)
        for path, command in _commands(main)
        for option in command.params
        if isinstance(option.type, click.types.FloatParamType)
    ]
    assert floats == [], "use i2i.cli.base.POSITIVE_FLOAT (or a finite type) for these"


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "0"])
def test_serve_refuses_a_non_finite_upload_limit_in_one_line(value):
    result = CliRunner().invoke(main, ["serve", "run", "--max-upload-mb", value])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "must be a finite number above 0" in result.output


def test_a_study_naming_a_variant_twice_is_refused_naming_both_lines(tmp_path):
    from i2i.study.schema import load_study

    (tmp_path / "base.yaml").write_text("seed: 0\n")
    study = tmp_path / "twice.yaml"
    study.write_text("recipe: base.yaml\nvariants:\n  L1: []\n  GAN: []\n  L1: [seed=1]\n")
    with pytest.raises(RecipeError) as error:
        load_study(study)
    assert str(error.value) == (
        f"study '{study}' is not valid YAML: line 5: key 'L1' is defined twice (lines 3 and 5); "
        "keep one"
    )


def test_a_recipe_defining_a_key_twice_is_refused_but_merge_keys_may_be_overridden(tmp_path):
    from i2i.config import load_recipe

    recipe = tmp_path / "twice.yaml"
    recipe.write_text("seed: 0\ntrain:\n  max_steps: 5\n  max_steps: 50\n")
    with pytest.raises(RecipeError, match=r"line 4: key 'max_steps' is defined twice"):
        load_recipe(recipe, [])
    merged = tmp_path / "merged.yaml"
    merged.write_text("base: &b {max_steps: 5, device: cpu}\ntrain:\n  <<: *b\n  max_steps: 7\n")
    from i2i.config.yamlfile import load_yaml

    assert load_yaml(merged.read_text())["train"] == {"max_steps": 7, "device": "cpu"}


def test_a_plugin_name_ending_in_a_newline_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["plugin", "new", "edges\n", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and not list(tmp_path.iterdir()), result.output
    assert "plugin name 'edges\\n': use lower-case letters" in result.output


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("seed: 0\ntrain:\n\tmax_steps: 5\n", "line 3, column 1: a tab; YAML indents with spaces"),
        ("seed: 0\ntrain: {max_steps: 5\nlog: {}\n", "a '{' opened on line 2 is not closed"),
        ("seed: [0\n", "a '[' opened on line 1 is not closed"),
        ("seed: 'x\n", "a quote opened on line 1 is not closed"),
        ("seed: a: b\n", "line 1, column 8: a second ':' on one line"),
    ],
)
def test_a_broken_recipe_says_what_is_wrong_and_where(tmp_path, text, said):
    from i2i.config import load_recipe

    recipe = tmp_path / "broken.yaml"
    recipe.write_text(text)
    with pytest.raises(RecipeError) as error:
        load_recipe(recipe, [])
    assert str(error.value).startswith(f"recipe '{recipe}' is not valid YAML: ")
    assert said in str(error.value)
