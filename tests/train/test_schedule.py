"""The learning-rate schedule of the official implementation."""

from __future__ import annotations

import pytest

from i2i.train.schedule import lr_multiplier


def test_constant_then_linear_to_near_zero():
    assert [lr_multiplier(e, 100, 100) for e in (1, 50, 100)] == [1.0, 1.0, 1.0]
    assert lr_multiplier(101, 100, 100) == pytest.approx(1 - 1 / 101)
    assert lr_multiplier(150, 100, 100) == pytest.approx(1 - 50 / 101)
    assert lr_multiplier(200, 100, 100) == pytest.approx(1 / 101)
    steps = [lr_multiplier(e, 100, 100) for e in range(100, 201)]
    assert all(later < earlier for earlier, later in zip(steps, steps[1:]))
