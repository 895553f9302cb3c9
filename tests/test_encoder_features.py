"""encoder_features: the documented way to read a generator's intermediate activations."""

from __future__ import annotations

import pytest
import torch

from i2i.interfaces import encoder_features
from i2i.plugins import default_registry
from i2i.testing import ContractError, check_generator


@pytest.mark.parametrize(
    "node", [{"name": "unet", "depth": 5, "ngf": 8}, {"name": "resnet_6blocks", "ngf": 8}]
)
def test_each_level_is_what_the_forward_pass_computes_there(node):
    torch.manual_seed(0)
    generator = default_registry().build("generator", node, in_channels=3, out_channels=3)
    generator.eval()
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    seen: list[torch.Tensor] = []
    stages = generator.down if node["name"] == "unet" else None
    if stages is not None:  # the U-Net: each down level's output
        hooks = [
            m.register_forward_hook(lambda _m, _i, out: seen.append(out.clone())) for m in stages
        ]
    else:  # the ResNet: the output of the layer that ends each stage
        ends = [generator.model[end - 1] for end in generator.stage_ends]
        hooks = [
            m.register_forward_hook(lambda _m, _i, out: seen.append(out.clone())) for m in ends
        ]
    with torch.no_grad():
        generator(image)
        for hook in hooks:
            hook.remove()
        levels = list(range(1, generator.encoder_layers + 1))
        asked = encoder_features(generator, image, levels)
    assert len(asked) == len(seen) == generator.encoder_layers
    assert all(torch.equal(a, b) for a, b in zip(asked, seen))
    assert torch.equal(encoder_features(generator, image, [0])[0], image)


def test_a_generator_without_features_or_a_missing_level_is_named():
    generator = torch.nn.Conv2d(3, 3, 1)
    with pytest.raises(TypeError, match="Conv2d has no features"):
        encoder_features(generator, torch.zeros(1, 3, 8, 8), [1])
    unet = default_registry().build(
        "generator", {"name": "unet", "depth": 3, "ngf": 4}, in_channels=3, out_channels=3
    )
    with pytest.raises(ValueError, match=r"encoder levels \[4\] do not exist: .* 0 to 3"):
        encoder_features(unet, torch.zeros(1, 3, 8, 8), [1, 4])


def test_the_contract_check_catches_features_that_lose_the_order():
    import i2i
    from i2i.plugins import register_plugin
    from i2i_pix2pix import UNetGenerator

    class Sorted(UNetGenerator):
        def features(self, image, layers):
            return super().features(image, sorted(layers))  # ignores the order asked

    class Plugin:
        @i2i.hookimpl
        def i2i_generators(self):
            return {"sorted_unet": Sorted}

    register_plugin(Plugin(), "sorted")
    with pytest.raises(ContractError, match="encoder level 3 must be|level 0 must be the input"):
        check_generator("sorted_unet", {"depth": 3, "ngf": 4})


@pytest.mark.parametrize(
    "node", [{"name": "unet", "depth": 4, "ngf": 4}, {"name": "resnet_6blocks", "ngf": 4}]
)
def test_features_trace_whole_under_torch_compile_with_the_eager_values_and_gradients(node):
    # fullgraph=True fails on any graph break; aot_eager traces forward and backward as the
    # inductor backend would, without its minutes of C++ compilation on a CPU.
    torch.manual_seed(0)
    generator = default_registry().build("generator", node, in_channels=3, out_channels=3)
    image = torch.rand(2, 3, 16, 16) * 2 - 1
    layers = [0, 1, generator.encoder_layers]

    def energy(network, batch):
        return sum(f.square().mean() for f in encoder_features(network, batch, layers))

    eager = energy(generator, image)
    eager_grads = torch.autograd.grad(eager, list(generator.parameters()), allow_unused=True)
    compiled = torch.compile(energy, backend="aot_eager", fullgraph=True)
    traced = compiled(generator, image)
    traced_grads = torch.autograd.grad(traced, list(generator.parameters()), allow_unused=True)
    assert torch.allclose(traced, eager, atol=1e-6)
    for got, expected in zip(traced_grads, eager_grads):
        assert (got is None) == (expected is None)  # the decoder's stay unused either way
        assert got is None or torch.allclose(got, expected, atol=1e-6)


def test_features_look_through_the_compile_and_ddp_wrappers_a_step_gives_them(tmp_path):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    torch.manual_seed(0)
    generator = default_registry().build(
        "generator", {"name": "unet", "depth": 3, "ngf": 4}, in_channels=3, out_channels=3
    )
    image = torch.rand(1, 3, 8, 8)
    expected = encoder_features(generator, image, [1, 3])
    compiled = torch.compile(generator, backend="aot_eager")
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1
    )
    try:
        wrapped = DistributedDataParallel(compiled)
        for network in (compiled, wrapped):
            got = encoder_features(network, image, [1, 3])
            assert all(torch.equal(a, b) for a, b in zip(got, expected))
        with pytest.raises(ValueError, match="0 to 3"):
            encoder_features(wrapped, image, [4])
    finally:
        dist.destroy_process_group()
