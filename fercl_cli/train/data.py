"""Pretraining batches read from the face store (and the swap bank), one whole batch per item.

A DataLoader item is ``(epoch, batch)``: the worker draws that epoch's plan (deterministic in seed,
epoch, rank; cached per worker), reads the batch's frames with one sorted read, optionally swaps the
positive views' frames for FaceSwap results from the bank (onto heads of people outside the batch, so a
swapped positive never carries a head that is also in the batch), and returns uint8 frames. Augmentation
runs afterwards on the training device (``views.py``), batched.

View layout: ``[A, NA, P, NP]`` with HardNeg, ``[A, P]`` without (B clips → 4B or 2B views).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from fercl_cli.train.sampling import ClipSampler, EpochPlan

if TYPE_CHECKING:
    from fercl_cli.store.reader import FaceStore


class SwapSource(Protocol):
    """A FaceSwap bank: random swapped versions of given source frames."""

    def sample(
        self, rows: np.ndarray, rng: np.random.Generator, avoid: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For frame ``rows`` int [n], a swap onto a head whose identity is not in ``avoid`` (int [k]):
        images uint8 [n,S,S,3], crop landmarks float32 [n,68,2], and found bool [n] (False where the
        bank has no such swap for that row; those entries are undefined)."""
        ...


@dataclass(frozen=True)
class DataConfig:
    """What a batch holds. ``swap_p``/``swap_q``: probability that a P / NP view is a FaceSwap result."""

    batch_clips: int
    hard_neg: bool
    descriptor: str | None = None
    swap_p: float = 0.0
    swap_q: float = 0.0
    seed: int = 0


class PretrainBatches(torch.utils.data.Dataset):
    """Map-style dataset over ``(epoch, batch)`` keys.

    Each item is a dict of tensors: ``images`` uint8 [V,S,S,3] RGB, ``landmarks`` float32 [V,68,2]
    crop px, ``rows`` int64 [V] store rows, ``clip`` int64 [B] clip ids, ``swapped`` bool [V], and with
    a descriptor kind ``descriptors`` float32 [V,D] + ``descriptor_valid`` bool [V] (all-zero rows in
    the store mark frames without a usable descriptor). V = 4B with HardNeg, else 2B.
    """

    def __init__(
        self, store: FaceStore, sampler: ClipSampler, config: DataConfig, swaps: SwapSource | None = None
    ) -> None:
        self.store = store
        self.sampler = sampler
        self.config = config
        self.swaps = swaps
        self._plan: tuple[int, EpochPlan] | None = None

    def plan(self, epoch: int) -> EpochPlan:
        """This rank's plan for ``epoch`` (cached: one epoch at a time)."""
        if self._plan is None or self._plan[0] != epoch:
            self._plan = (epoch, self.sampler.epoch(epoch))
        return self._plan[1]

    def num_batches(self, epoch: int) -> int:
        """Batches this rank runs in ``epoch`` (the short last batch included)."""
        return self.plan(epoch).num_batches(self.config.batch_clips)

    def __len__(self) -> int:
        return self.num_batches(0)

    def rows_of(self, batch: EpochPlan) -> np.ndarray:
        """Store rows of the batch's views in layout order, int64 [V]."""
        parts = [batch.anchor, batch.neg_anchor, batch.positive, batch.neg_positive]
        if not self.config.hard_neg:
            parts = [batch.anchor, batch.positive]
        return np.concatenate(parts).astype(np.int64)

    def _read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unique, inverse = np.unique(rows, return_inverse=True)
        return self.store.images(unique)[inverse], self.store.landmarks(unique)[inverse]

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, index = key
        size = self.config.batch_clips
        batch = self.plan(epoch).select(slice(index * size, (index + 1) * size))
        n = len(batch)
        if n == 0:
            raise IndexError(f"batch {index} is past the end of epoch {epoch}")
        rows = self.rows_of(batch)
        images, landmarks = self._read(rows)
        swapped = np.zeros(len(rows), bool)
        if self.swaps is not None and (self.config.swap_p > 0 or self.config.swap_q > 0):
            rng = np.random.default_rng([self.config.seed, epoch, index, self.sampler.rank, 7])
            views = len(rows) // n
            positive_views = [2, 3] if views == 4 else [1]
            chance = np.zeros(len(rows))
            for view, p in zip(positive_views, (self.config.swap_p, self.config.swap_q), strict=False):
                chance[view * n : (view + 1) * n] = p
            want = rng.random(len(rows)) < chance
            if want.any():
                picked = np.flatnonzero(want)
                in_batch = np.unique(self.store.clip_identity[batch.clip])
                swap_images, swap_landmarks, found = self.swaps.sample(rows[picked], rng, in_batch)
                hit = picked[found]
                images[hit], landmarks[hit] = swap_images[found], swap_landmarks[found]
                swapped[hit] = True
        item = {
            "images": torch.from_numpy(images),
            "landmarks": torch.from_numpy(np.ascontiguousarray(landmarks, dtype=np.float32)),
            "rows": torch.from_numpy(rows),
            "clip": torch.from_numpy(batch.clip.astype(np.int64)),
            "swapped": torch.from_numpy(swapped),
        }
        if self.config.descriptor is not None:
            unique, inverse = np.unique(rows, return_inverse=True)
            desc = self.store.descriptors(self.config.descriptor, unique)[inverse].astype(np.float32)
            item["descriptors"] = torch.from_numpy(desc)
            item["descriptor_valid"] = torch.from_numpy(np.abs(desc).sum(axis=1) > 0)
        return item


class BatchKeys(torch.utils.data.Sampler):
    """Yields ``(epoch, b)`` keys through several epochs, so one DataLoader (and its persistent workers)
    serves the whole run. ``schedule`` lists ``(epoch, num_batches)``; the first epoch starts at ``start``."""

    def __init__(self, schedule: list[tuple[int, int]], start: int = 0) -> None:
        self.schedule, self.start = schedule, start

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for i, (epoch, count) in enumerate(self.schedule):
            yield from ((epoch, b) for b in range(self.start if i == 0 else 0, count))

    def __len__(self) -> int:
        return sum(count for _, count in self.schedule) - (self.start if self.schedule else 0)
