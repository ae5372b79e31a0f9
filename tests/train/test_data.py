"""Pretraining batches: FaceSwap positives never carry the head of a person in the batch."""

from __future__ import annotations

import numpy as np

from fercl_cli.store.reader import FaceStore
from fercl_cli.train.data import DataConfig, PretrainBatches
from fercl_cli.train.sampling import ClipSampler, SamplerConfig


class _RecordingBank:
    """A swap source whose swaps are all-255 images, recording which identities each call avoided."""

    def __init__(self, size: int) -> None:
        self.size, self.avoided = size, []

    def sample(self, rows, rng, avoid=None):
        self.avoided.append(np.asarray(avoid))
        n = len(rows)
        images = np.full((n, self.size, self.size, 3), 255, np.uint8)
        return images, np.zeros((n, 68, 2), np.float32), np.ones(n, bool)


def test_swapped_positives_avoid_every_person_in_the_batch(tiny_store):
    store = FaceStore(tiny_store)
    try:
        sampler = ClipSampler(
            store.clip_start, store.clip_stop, store.fps, SamplerConfig(), store.clip_identity
        )
        bank = _RecordingBank(store.crop_size)
        config = DataConfig(batch_clips=2, hard_neg=True, swap_p=1.0, swap_q=1.0)
        batches = PretrainBatches(store, sampler, config, bank)
        for index in range(batches.num_batches(0)):
            item = batches[(0, index)]
            in_batch = set(store.clip_identity[item["clip"].numpy()].tolist())
            assert set(bank.avoided[-1].tolist()) == in_batch
            n = len(item["clip"])
            # P and NP views (the last two quarters) are swapped, A and NA never
            assert item["swapped"].tolist() == [False] * 2 * n + [True] * 2 * n
            assert (item["images"][2 * n :] == 255).all()
    finally:
        store.close()
