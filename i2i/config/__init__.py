"""Recipes: the schema (:mod:`i2i.config.schema`) and how files and overrides are read.

To add a key, add a field to a dataclass in ``schema.py`` with a one-line docstring below it;
the loader validates it and the config reference picks it up.
"""

from i2i.config.load import load_recipe, merge_recipe, recipe_to_dict, recipe_to_yaml
from i2i.config.schema import Recipe

__all__ = ["Recipe", "load_recipe", "merge_recipe", "recipe_to_dict", "recipe_to_yaml"]
