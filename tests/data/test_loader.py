"""The epoch sampler and collation."""

from __future__ import annotations

import pytest
import torch

from i2i.data import EpochSampler, collate_pairs, split_direction
from i2i.errors import DataError


def test_epoch_order_depends_only_on_seed_and_epoch():
    first, second = EpochSampler(50, seed=3), EpochSampler(50, seed=3)
    first.set_epoch(2)
    second.set_epoch(2)
    assert list(first) == list(second)
    assert sorted(first) == list(range(50))
    second.set_epoch(3)
    assert list(first) != list(second)


def test_sampler_resumes_mid_epoch_and_shards_by_rank():
    whole = EpochSampler(20, seed=0)
    whole.set_epoch(1)
    order = list(whole)
    whole.set_epoch(1, start=7)
    assert list(whole) == order[7:] and len(whole) == 13
    shards = [EpochSampler(20, seed=0, rank=r, world=2) for r in range(2)]
    for shard in shards:
        shard.set_epoch(1)
    assert sorted(list(shards[0]) + list(shards[1])) == list(range(20))
    assert not set(shards[0]) & set(shards[1])


def test_ranks_draw_the_global_batches_of_one_process_evenly():
    whole = EpochSampler(21, seed=5)
    whole.set_epoch(2)
    order = whole.order()
    shards = [EpochSampler(21, seed=5, rank=r, world=2) for r in range(2)]
    for shard in shards:
        shard.set_epoch(2)
    local = [list(shard) for shard in shards]
    assert len(local[0]) == len(local[1]) == 10  # the 21st position is left out this epoch
    for k in range(5):  # a global batch of 4 is two local batches of 2
        global_batch = order[4 * k : 4 * k + 4]
        assert sorted(local[0][2 * k : 2 * k + 2] + local[1][2 * k : 2 * k + 2]) == sorted(
            global_batch
        )
    for shard in shards:  # resuming at global position 8 continues both ranks together
        shard.set_epoch(2, start=8)
    assert sorted(list(shards[0]) + list(shards[1])) == sorted(order[8:20])


def _sample(name: str, size: int) -> dict:
    return {
        "A": torch.zeros(3, size, size, dtype=torch.uint8),
        "B": torch.ones(3, size, size, dtype=torch.uint8),
        "name": name,
    }


def test_collate_and_direction():
    batch = collate_pairs([_sample("a", 4), _sample("b", 4)])
    assert batch["A"].shape == (2, 3, 4, 4) and batch["name"] == ["a", "b"]
    source, target = split_direction(batch, "BtoA")
    assert int(source.max()) == 1 and int(target.max()) == 0


@pytest.mark.fault
def test_collate_refuses_mixed_sizes_naming_the_files():
    with pytest.raises(
        DataError, match=r"differ in channels, size or depth \('a' .*'b' .*data.batch_size=1"
    ):
        collate_pairs([_sample("a", 4), _sample("b", 6)])
