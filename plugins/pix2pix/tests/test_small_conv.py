"""The small-input convolutions compute what torch's convolutions compute."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from i2i_pix2pix.small_conv import SmallInputConv2d, SmallInputConvTranspose2d


def _compare(fast: nn.Module, plain: nn.Module, input: torch.Tensor) -> None:
    plain.load_state_dict(fast.state_dict())
    assert fast.state_dict().keys() == plain.state_dict().keys()
    outputs, grads = [], []
    for module in (fast, plain):
        x = input.clone().requires_grad_(True)
        output = module(x)
        (output * torch.linspace(-1, 1, output.numel()).view_as(output)).sum().backward()
        outputs.append(output)
        grads.append([x.grad, *(p.grad for p in module.parameters())])
        module.zero_grad()
    assert outputs[0].shape == outputs[1].shape
    assert torch.allclose(outputs[0], outputs[1], atol=1e-5)
    for fast_grad, plain_grad in zip(*grads):
        assert torch.allclose(fast_grad, plain_grad, atol=1e-4)


@pytest.mark.parametrize("size", [1, 2, 3, 8])
@pytest.mark.parametrize("bias", [True, False])
def test_transposed_matches_torch(size, bias):
    torch.manual_seed(size)
    fast = SmallInputConvTranspose2d(16, 8, 4, 2, 1, bias=bias)
    plain = nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=bias)
    _compare(fast, plain, torch.randn(2, 16, size, size))
    odd = SmallInputConvTranspose2d(4, 6, 3, 2, 1, output_padding=1, bias=bias)
    _compare(
        odd,
        nn.ConvTranspose2d(4, 6, 3, 2, 1, output_padding=1, bias=bias),
        torch.randn(1, 4, size, size + 1),
    )


@pytest.mark.parametrize("size", [2, 4])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_matches_torch(size, bias):
    torch.manual_seed(size)
    fast = SmallInputConv2d(16, 8, 4, 2, 1, bias=bias)
    fast.max_pixels = 64
    _compare(fast, nn.Conv2d(16, 8, 4, 2, 1, bias=bias), torch.randn(3, 16, size, size))
    odd = SmallInputConv2d(5, 7, 3, 1, 1, bias=bias)
    odd.max_pixels = 64
    _compare(odd, nn.Conv2d(5, 7, 3, 1, 1, bias=bias), torch.randn(1, 5, size, size + 2))


def test_large_inputs_take_the_ordinary_path(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.nn.functional, "fold", lambda *a, **k: calls.append(1))
    layer = SmallInputConvTranspose2d(4, 4, 4, 2, 1)
    assert layer(torch.randn(1, 4, 16, 16)).shape == (1, 4, 32, 32)
    assert not calls
