"""The docs keep up with the code: every hook, every shipped recipe."""

from __future__ import annotations

import inspect
from pathlib import Path

from i2i import hookspecs

DOCS = Path(__file__).parents[1] / "docs"


def test_every_hook_is_in_the_plugin_guide():
    guide = (DOCS / "plugins.md").read_text()
    hooks = [
        name
        for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("i2i_")
    ]
    assert hooks and all(f"`{hook}()`" in guide for hook in hooks)


def test_every_hook_has_a_docstring():
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("i2i_"):
            assert inspect.getdoc(function), name


def test_every_recipe_is_in_the_recipe_guide():
    guide = (DOCS / "recipes.md").read_text()
    for recipe in (Path(__file__).parents[1] / "recipes").glob("*.yaml"):
        assert f"`recipes/{recipe.name}`" in guide, recipe.name


def test_cli_reference_is_current():
    from i2i.clidoc import cli_reference

    assert (DOCS / "cli.md").read_text() == cli_reference(), (
        "docs/cli.md is stale: run `python -m i2i.clidoc > docs/cli.md`"
    )


def test_component_reference_is_current():
    from i2i.componentdoc import component_reference

    assert (DOCS / "components.md").read_text() == component_reference(), (
        "docs/components.md is stale: run `python -m i2i.componentdoc > docs/components.md`"
    )


def test_the_sharpness_ratio_is_explained_above_and_below_one():
    text = (DOCS / "using-models.md").read_text()
    explained = text[text.index("`sharpness`") :][:900]
    for words in ("below 1", "above 1", "noise", "near 1"):
        assert words in explained, words


def _documented_recipe_files() -> set[str]:
    """Every ``recipes/....yaml`` path of this repository named in README.md and docs/*.md
    (``./recipes/...`` is a plugin package's own)."""
    import re

    pages = [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))]
    return {
        match
        for page in pages
        for match in re.findall(r"(?<![\w./-])recipes/[\w./-]+\.ya?ml", page.read_text())
    }


def test_every_recipe_and_study_the_docs_name_is_in_git_and_loads():
    import subprocess

    from i2i.config import load_recipe
    from i2i.plugins import default_registry
    from i2i.study.schema import load_study

    named = _documented_recipe_files()
    assert {"recipes/pix2pix_maps.yaml", "recipes/studies/objective.yaml"} <= named
    root = DOCS.parent
    tracked = subprocess.run(
        ["git", "ls-files", "--", *sorted(named)], cwd=root, capture_output=True, text=True
    ).stdout.split()
    assert sorted(tracked) == sorted(named), "named in the docs but not in git"
    for path in sorted(named):
        if path.startswith("recipes/studies/"):
            plan = load_study(root / path, [], default_registry())
            assert plan.runs, path
        else:
            assert load_recipe(root / path, []).model.generator, path
