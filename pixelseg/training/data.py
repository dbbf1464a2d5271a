"""Mini-batches for training: a resumable, rank-aware sampler and the DataLoaders.

:class:`EpochSampler` gives the sample order of every epoch as a pure function of (seed,
epoch, shuffle mode), shards it across DDP processes like ``DistributedSampler`` (padding
with repeated samples to a multiple of the number of processes), and can skip the samples
a resumed run has already seen in the current epoch. :class:`ResumableLoader` exposes that
through ``state_dict``/``load_state_dict``, which Lightning saves in every checkpoint, so
resuming mid-epoch continues with the same next mini-batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils.data import DataLoader, Sampler, default_collate

from pixelseg.errors import DataError

__all__ = ["EpochSampler", "ResumableLoader", "collate_pairs", "make_loader"]


class EpochSampler(Sampler[int]):
    """Indices of one epoch for one process.

    Args:
        length: number of samples in the dataset.
        shuffle: "once" (one permutation drawn from ``seed``, reused every epoch),
            "every-epoch" (a permutation per epoch, from ``seed`` and the epoch), "never".
        seed: base seed of the permutations.
        rank, world_size: this process and the number of processes (DDP).
        pad: repeat samples so that every process gets the same number (training, as
            ``DistributedSampler``); False (validation) gives every sample to exactly one process.
    """

    def __init__(self, length: int, shuffle: str = "once", seed: int = 0, rank: int = 0, world_size: int = 1,
                 pad: bool = True) -> None:
        self.length = int(length)
        self.pad = pad
        self.shuffle = shuffle
        self.seed = int(seed)
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.skip = 0  # samples of this process to skip on the next pass (resume)

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of each epoch."""
        self.epoch = int(epoch)

    def order(self) -> list[int]:
        """The full (all-process) order of the current epoch, before sharding."""
        if self.shuffle == "never":
            return list(range(self.length))
        generator = torch.Generator()
        generator.manual_seed(self.seed + (self.epoch if self.shuffle == "every-epoch" else 0))
        return torch.randperm(self.length, generator=generator).tolist()

    def _shard(self) -> list[int]:
        order = self.order()
        if not self.pad:
            return order[self.rank :: self.world_size]
        per_rank = -(-self.length // self.world_size)
        total = per_rank * self.world_size
        order = (order * (-(-total // max(1, len(order)))))[:total] if order else order
        return order[self.rank : total : self.world_size]

    def __iter__(self):
        indices = self._shard()
        skip, self.skip = self.skip, 0
        return iter(indices[skip:])

    def __len__(self) -> int:
        if not self.pad:
            return len(range(self.rank, self.length, self.world_size))
        return -(-self.length // self.world_size)


class ResumableLoader(DataLoader):
    """A DataLoader whose position in the epoch is saved in Lightning checkpoints.

    ``progress`` is a callable returning (epoch, mini-batches completed in that epoch), set
    by the training module; on ``load_state_dict`` the sampler returns to that epoch and skips
    that many mini-batches on its next pass.
    """

    progress: Callable[[], tuple[int, int]] | None = None

    def state_dict(self) -> dict:
        epoch, done = self.progress() if self.progress is not None else (0, 0)
        return {"epoch": int(epoch), "batches_done": int(done), "batch_size": int(self.batch_size or 1)}

    def load_state_dict(self, state: dict) -> None:
        sampler = self.sampler
        if isinstance(sampler, EpochSampler):
            # Lightning may create the iterator before calling set_epoch: set both here.
            sampler.set_epoch(int(state.get("epoch", 0)))
            sampler.skip = int(state.get("batches_done", 0)) * int(state.get("batch_size", self.batch_size or 1))


def collate_pairs(batch):
    """``default_collate`` with a clear error when the images of a mini-batch differ in size."""
    try:
        return default_collate(batch)
    except RuntimeError as exc:
        shapes = sorted({tuple(item[0].shape) for item in batch if hasattr(item[0], "shape")})
        raise DataError(
            f"the images of a mini-batch must share one size, got {', '.join('x'.join(map(str, s)) for s in shapes)}; "
            "resize them (e.g. ds.transform(pixelseg.data.transforms.Resize((h, w)))) or crop them "
            "(Augmenter(crop_size=...))"
        ) from exc


def make_loader(dataset, batch_size: int, sampler: Sampler | None, num_workers: int, pin_memory: bool,
                seed: int | None, resumable: bool = False) -> DataLoader:
    """A DataLoader with persistent workers (when ``num_workers > 0``) and seeded worker RNGs."""
    generator = None
    if seed is not None:
        generator = torch.Generator()
        generator.manual_seed(int(seed))
    cls = ResumableLoader if resumable else DataLoader
    kwargs = {}
    if num_workers > 0:
        kwargs.update(persistent_workers=True, prefetch_factor=2)
    return cls(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        shuffle=False,
        num_workers=num_workers,
        pin_memory=pin_memory,
        collate_fn=collate_pairs,
        generator=generator,
        drop_last=False,
        **kwargs,
    )
