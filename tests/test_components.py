"""Every installed plugin's components meet the contracts of i2i.testing.

Each plugin under plugins/ runs its own checks too; this covers whatever is installed.
"""

from __future__ import annotations

import pytest

from i2i.plugins import load_plugins
from i2i.testing import ContractError, check_generator, check_loss_term, check_plugin

PLUGINS = load_plugins()


@pytest.mark.parametrize("plugin", [info.name for info in PLUGINS.loaded])
def test_installed_plugin_meets_the_contracts(plugin):
    if not any(c.plugin == plugin for c in PLUGINS.registry.components(every=True)):
        pytest.skip(f"plugin '{plugin}' registers no components")  # (none today)
    check_plugin(plugin, registry=PLUGINS.registry)


def test_a_broken_contract_is_reported_in_words():
    from torch import nn

    from i2i.registry import Registry

    class Shrinking(nn.Module):
        in_channels, out_channels, size_multiple = 3, 2, 4

        def __init__(self, in_channels: int, out_channels: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, 3)  # no padding: 2 px smaller

        def forward(self, image):
            return self.conv(image).tanh()

    registry = Registry()
    registry.add("generator", "shrinking", Shrinking, plugin="test")
    registry.add("loss", "detached", lambda: lambda inputs: inputs.output.detach().mean(), "test")
    with pytest.raises(ContractError, match=r"must give \(2, 2, 4, 4\), got \(2, 2, 2, 2\)"):
        check_generator("shrinking", registry=registry)
    with pytest.raises(ContractError, match="carries no gradient"):
        check_loss_term("detached", registry=registry)
