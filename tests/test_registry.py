"""The registry: lookups, suggestions, argument checks, ownership."""

from __future__ import annotations

import pytest
from torch import nn

from i2i.errors import ComponentBuildError, UnknownComponentError
from i2i.registry import Registry


class Widget(nn.Module):
    """A widget for tests."""

    def __init__(self, in_channels: int, width: int = 4, depth: int = 2) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError("depth must be positive")
        self.width, self.depth = width, depth


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    for name in ("unet", "unet_small", "resnet9", "resnet6", "resnet12"):
        registry.add("generator", name, Widget, plugin="test")
    return registry


def test_unknown_name_lists_known_and_closest(registry):
    with pytest.raises(UnknownComponentError) as caught:
        registry.get("generator", "unte")
    message = str(caught.value)
    assert "Did you mean 'unet'?" in message
    assert "Known generators: resnet6, resnet9, resnet12, unet, unet_small" in message
    assert "\n" not in message


def test_build_from_node_passes_arguments(registry):
    widget = registry.build("generator", {"name": "unet", "width": 7}, in_channels=3)
    assert isinstance(widget, Widget) and widget.width == 7


def test_misspelled_argument_names_the_closest_one(registry):
    with pytest.raises(UnknownComponentError) as caught:
        registry.build("generator", {"name": "unet", "widht": 7}, "model.generator", in_channels=3)
    message = str(caught.value)
    assert message.startswith("model.generator.widht:")
    assert "Did you mean 'width'?" in message and "plugin 'test'" in message


def test_unknown_name_in_node_names_the_recipe_key(registry):
    with pytest.raises(UnknownComponentError, match=r"^model.generator.name: unknown generator"):
        registry.build("generator", {"name": "resnet7"}, "model.generator", in_channels=3)


def test_factory_refusing_a_value_is_reported_with_the_key(registry):
    with pytest.raises(ComponentBuildError, match="model.generator: .*depth must be positive"):
        registry.build("generator", {"name": "unet", "depth": 0}, "model.generator", in_channels=3)


def test_missing_required_argument(registry):
    registry.add("loss", "needs_scale", lambda scale: scale, plugin="test")
    with pytest.raises(UnknownComponentError, match="needs argument.*scale"):
        registry.build("loss", {"name": "needs_scale"}, "loss.terms.x")


def test_same_name_from_two_plugins_is_refused_naming_both(registry):
    registry.add("generator", "unet", Widget, plugin="other")
    with pytest.raises(UnknownComponentError, match="name one: 'test:unet' or 'other:unet'"):
        registry.get("generator", "unet")
    assert registry.get("generator", "other:unet").plugin == "other"
    (clash,) = registry.clashes
    assert clash.plugins == ("test", "other") and clash.owner is None
    registry.builtin.add("test")  # a built-in plugin keeps its name
    registry.add("generator", "unet_small", Widget, plugin="other")
    assert registry.get("generator", "unet_small").plugin == "test"
    with pytest.raises(ValueError, match="registers generator 'unet' twice"):
        registry.add("generator", "unet", Widget, plugin="other")


def test_wildcard_listing_in_natural_order(registry):
    assert registry.names("generator", "resnet*") == ["resnet6", "resnet9", "resnet12"]
    assert [c.plugin for c in registry.components("generator", "unet*")] == ["test", "test"]


def test_unknown_kind(registry):
    with pytest.raises(UnknownComponentError, match="kinds: generator, discriminator"):
        registry.names("encoder")
