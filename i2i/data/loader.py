"""Batches of decoded pairs: the epoch sampler, collation and the hop to the device."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from i2i.errors import DataError, quoted
from i2i.interfaces import PairedSample


class EpochSampler(Sampler[int]):
    """The order of an epoch, drawn from ``(seed, epoch)`` alone, so it can be replayed.

    Because the order depends on nothing else, a run can restart at any position of any
    epoch (``start``), and several processes can take disjoint slices (``rank``/``world``):
    rank r takes positions r, r + world, ..., so consecutive local batches of
    ``batch_size / world`` make up exactly the global batches one process would draw. Each
    process gets the same count: an epoch leaves out its last ``length % world`` positions
    (different samples each epoch, since the order is drawn anew).

    Args:
        length: dataset size.
        seed: base seed of the run.
        shuffle: draw a permutation per epoch (else dataset order).
        rank: this process's index among ``world`` processes.
        world: number of processes sharing the epoch.
    """

    def __init__(
        self, length: int, seed: int, shuffle: bool = True, rank: int = 0, world: int = 1
    ) -> None:
        self.length, self.seed, self.shuffle = length, seed, shuffle
        self.rank, self.world = rank, world
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Select the epoch and the position in its order (counted over all ranks) to start at."""
        self.epoch, self.start = epoch, start

    def order(self) -> list[int]:
        """The whole epoch's order, every rank's positions."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            return torch.randperm(self.length, generator=generator).tolist()
        return list(range(self.length))

    def share(self) -> list[int]:
        """This rank's indices from ``start`` on; every rank gets as many."""
        rest = self.order()[self.start :]
        rest = rest[: len(rest) - len(rest) % self.world]
        return rest[self.rank :: self.world]

    def __iter__(self) -> Iterator[int]:
        return iter(self.share())

    def __len__(self) -> int:
        return len(self.share())


class SkipUnreadable(Dataset):
    """Wraps a dataset so that a pair that cannot be read yields None instead of failing.

    :func:`collate_pairs` drops the Nones and counts them (``batch["skipped"]``).
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    @property
    def sizes(self) -> tuple[int, int]:
        """An unpaired dataset's ``(|A|, |B|)``."""
        return self.dataset.sizes  # type: ignore[attr-defined]

    @property
    def aligned(self) -> bool:
        """Whether the wrapped dataset's i-th A and B show one scene."""
        return bool(getattr(self.dataset, "aligned", True))

    def __getitem__(self, index: int) -> PairedSample | None:
        try:
            return self.dataset[index]
        except DataError:
            return None


def collate_pairs(samples: Sequence[PairedSample | None], paired: bool = True) -> dict[str, Any]:
    """Stack samples into a batch, dropping skipped (None) ones; the A and B of a pair must
    share one size (``paired``; unpaired A and B images are resized apart)."""
    skipped = sum(sample is None for sample in samples)
    samples = [sample for sample in samples if sample is not None]
    if not samples:
        return {"A": None, "B": None, "name": [], "skipped": skipped}
    for sample in samples if paired else ():
        a, b = sample["A"].shape, sample["B"].shape
        if a[-2:] != b[-2:]:
            raise DataError(
                f"pair {quoted(sample['name'])}: A is {a[-1]}x{a[-2]} but B is {b[-1]}x{b[-2]}; "
                "A and B of a pair must be the same size"
            )
    for side in ("A", "B"):
        kinds = {(tuple(s[side].shape), s[side].dtype) for s in samples}
        if len(kinds) > 1:
            described = ", ".join(
                f"{quoted(s['name'])} {'x'.join(map(str, s[side].shape))} {s[side].dtype}"
                for s in samples
            )
            raise DataError(
                f"the {side} images of one batch differ in channels, size or depth "
                f"({described}); use data.batch_size=1, or images of one kind"
            )
    return {
        "A": torch.stack([s["A"] for s in samples]),
        "B": torch.stack([s["B"] for s in samples]),
        "name": [s["name"] for s in samples],
        "skipped": skipped,
    }


def collate_unpaired(samples: Sequence[PairedSample | None]) -> dict[str, Any]:
    """:func:`collate_pairs` for unpaired data: A and B need not share a size."""
    return collate_pairs(samples, paired=False)


def make_loader(
    dataset: Dataset,
    batch_size: int,
    num_workers: int,
    sampler: Sampler[int],
    pin_memory: bool,
    seed: int = 0,
    paired: bool = True,
) -> DataLoader:
    """A loader whose workers decode pairs into uint8 tensors.

    It draws its workers' base seed from its own generator: drawing it from torch's global
    one, as by default, would shift the training stream each time an epoch starts, and a
    resumed run, starting mid-epoch, could not replay it. Its workers ignore SIGINT and SIGTERM
    (see :func:`leave_stopping_to_the_main_process`).
    """
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_pairs if paired else collate_unpaired,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
        prefetch_factor=4 if num_workers > 0 else None,
        generator=torch.Generator().manual_seed(seed),
        worker_init_fn=leave_stopping_to_the_main_process if num_workers > 0 else None,
    )


def stop_workers(loader: DataLoader) -> None:
    """Shut the loader's persistent workers down now (they ignore SIGTERM; see below).

    A loader's workers otherwise end when its iterator is collected; after an error the
    traceback keeps it alive until the interpreter's exit, where multiprocessing would stop
    them with SIGTERM, which they ignore, and wait for them forever.
    """
    iterator = getattr(loader, "_iterator", None)  # persistent workers live in it
    if iterator is not None and hasattr(iterator, "_shutdown_workers"):
        iterator._shutdown_workers()


def leave_stopping_to_the_main_process(_worker: int) -> None:
    """In a loader worker: ignore SIGINT and SIGTERM; the main process stops the run.

    A cluster signals every process of a job at once (SLURM's preemption, ``scontrol requeue``,
    the time limit), and a terminal's Ctrl-C reaches the whole process group. A worker killed
    by it would make the main process fail with torch's "DataLoader worker is killed" before
    it could save its checkpoint; ignoring the signal lets the main process finish its step,
    checkpoint, and shut the workers down itself.
    """
    import signal

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)


def split_direction(batch: dict[str, Any], direction: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (input, target) of a batch: (A, B) for AtoB, (B, A) for BtoA."""
    if direction == "AtoB":
        return batch["A"], batch["B"]
    if direction == "BtoA":
        return batch["B"], batch["A"]
    raise DataError(f"data.direction must be 'AtoB' or 'BtoA', got '{direction}'")
