"""StepTools.update: one backward pass, one or several optimisers, the non-finite policy."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from i2i.methods import NonFiniteLoss, StepTools
from i2i.train.precision import Precision


def _two_nets():
    torch.manual_seed(0)
    g, f = nn.Linear(4, 4), nn.Linear(4, 2)
    return g, f


def _loss(g: nn.Module, f: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return f(torch.tanh(g(x))).pow(2).mean()


def test_several_optimisers_step_after_one_backward_as_by_hand():
    x = torch.randn(8, 4)
    g, f = _two_nets()
    g_hand, f_hand = copy.deepcopy(g), copy.deepcopy(f)
    optimizers = [torch.optim.Adam(g.parameters(), lr=0.1), torch.optim.Adam(f.parameters(), 0.1)]
    by_hand = [
        torch.optim.Adam(g_hand.parameters(), lr=0.1),
        torch.optim.Adam(f_hand.parameters(), lr=0.1),
    ]
    tools = StepTools(Precision("fp32", "cpu"))
    for _ in range(3):
        tools.update(_loss(g, f, x), optimizers, "nce")
        for optimizer in by_hand:
            optimizer.zero_grad()
        _loss(g_hand, f_hand, x).backward()
        for optimizer in by_hand:
            optimizer.step()
    for mine, theirs in ((g, g_hand), (f, f_hand)):
        assert all(torch.equal(a, b) for a, b in zip(mine.parameters(), theirs.parameters()))
    assert not torch.equal(g.weight, _two_nets()[0].weight)  # it did train


@pytest.mark.fault
def test_a_non_finite_loss_leaves_every_optimiser_unstepped_or_raises_naming_it():
    g, f = _two_nets()
    before = [p.detach().clone() for p in (*g.parameters(), *f.parameters())]
    optimizers = (torch.optim.SGD(g.parameters(), lr=1.0), torch.optim.SGD(f.parameters(), 1.0))
    nan = _loss(g, f, torch.full((2, 4), float("nan")))
    StepTools(Precision("fp32", "cpu"), skip_nonfinite=True).update(nan, optimizers, "nce")
    after = [p.detach() for p in (*g.parameters(), *f.parameters())]
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    with pytest.raises(NonFiniteLoss, match="loss 'nce' is nan"):
        nan = _loss(g, f, torch.full((2, 4), float("nan")))
        StepTools(Precision("fp32", "cpu")).update(nan, optimizers, "nce")
