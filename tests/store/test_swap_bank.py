import pickle

import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.swap_bank import NO_LANDMARKS, NOT_CHOSEN, SWAPPED, SwapBank, SwapBankWriter
from tests.factories.stores import write_empty_store

S = 16


def _writer(path, seed=0):
    return SwapBankWriter(
        path,
        crop_size=S,
        store_frames=10,
        store_created="2026-01-01",
        store_path="faces.h5",
        config={"seed": seed},
    )


def _add(writer, rows, counts, status=None):
    m = int(np.sum(counts))
    ident = np.arange(m, dtype=np.int32)
    images = (np.arange(m)[:, None, None, None] * np.ones((1, S, S, 3))).astype(np.uint8)
    status = np.where(np.asarray(counts) > 0, SWAPPED, NO_LANDMARKS) if status is None else status
    writer.add(
        np.asarray(rows),
        status,
        np.asarray(counts),
        100 + ident,
        ident,
        images,
        np.zeros((m, 68, 2), np.float32),
    )


def test_random_access_by_source_row(tmp_path):
    with _writer(tmp_path / "swaps.h5") as w:
        _add(w, [1, 2, 5], [2, 0, 3])
        _add(w, [7], [1])
    bank = SwapBank(tmp_path / "swaps.h5")
    assert len(bank) == 6 and bank.count(5) == 3 and bank.count(2) == 0 and bank.count(0) == 0
    assert list(bank.swaps_of(5)) == [2, 3, 4]
    assert [bank.swap(i).source for i in range(6)] == [1, 1, 5, 5, 5, 7]
    swap = bank.swap(3)
    assert (
        swap.donor == 103
        and swap.donor_identity == 3
        and swap.image.shape == (S, S, 3)
        and swap.image[0, 0, 0] == 3
    )
    rng = np.random.default_rng(0)
    assert {bank.random_swap(5, rng).source for _ in range(10)} == {5}
    assert {int(bank.random_swap(5, rng).image[0, 0, 0]) for _ in range(30)} == {2, 3, 4}
    assert bank.random_swap(2, rng) is None
    assert bank.status()[[0, 1, 2, 7]].tolist() == [NOT_CHOSEN, SWAPPED, NO_LANDMARKS, SWAPPED]
    assert bank.summary() == {"swaps": 6, "swapped": 3, "no landmarks": 1, "no donor of another identity": 0}
    clone = pickle.loads(pickle.dumps(bank))  # DataLoader workers get a copy that reopens lazily
    np.testing.assert_array_equal(clone.swap(5).image, bank.swap(5).image)
    with pytest.raises(IndexError):
        bank.swap(6)


def test_sample_gives_a_random_swap_per_row_for_the_training_loader(tmp_path):
    with _writer(tmp_path / "swaps.h5") as w:
        _add(w, [1, 5], [1, 3])
    bank = SwapBank(tmp_path / "swaps.h5")
    images, landmarks, found = bank.sample(np.array([5, 0, 1, 5, 5, 5]), np.random.default_rng(1))
    assert images.shape == (6, S, S, 3) and landmarks.shape == (6, 68, 2)
    assert found.tolist() == [True, False, True, True, True, True]
    assert images[1].max() == 0 and images[2, 0, 0, 0] == 0
    assert (
        set(images[[0, 3, 4, 5], 0, 0, 0].tolist()) <= {1, 2, 3}
        and len(set(images[[0, 3, 4, 5], 0, 0, 0])) > 1
    )


def test_uncommitted_sources_are_lost_and_resume_continues(tmp_path):
    path = tmp_path / "swaps.h5"
    w = _writer(path)
    _add(w, [0, 1], [1, 1])
    w.commit()
    _add(w, [3], [2])
    w.discard()  # as if killed before the next commit
    w = _writer(path)
    assert (w.committed_sources, w.committed_swaps) == (2, 2)
    with pytest.raises(ValueError, match="ascending"):
        _add(w, [1], [1])
    _add(w, [4], [1])
    w.close()
    bank = SwapBank(path)
    assert len(bank) == 3 and bank.count(3) == 0 and bank.swap(2).source == 4


def test_resuming_with_other_settings_or_reading_a_foreign_file_is_refused(tmp_path):
    _writer(tmp_path / "swaps.h5").close()
    with pytest.raises(FerclError, match=r"other settings: config .*use a new --out"):
        _writer(tmp_path / "swaps.h5", seed=1)
    store = write_empty_store(tmp_path / "faces.h5")
    with pytest.raises(FerclError, match="faces.h5: not a fercl swap bank"):
        SwapBank(store)
    with pytest.raises(FerclError, match="no such swap bank"):
        SwapBank(tmp_path / "absent.h5")
    with pytest.raises(FerclError, match=r"made from another store \(10 frames.*run `fercl swap"):
        SwapBank(tmp_path / "swaps.h5", store=FaceStore(store))


def test_a_second_writer_on_one_bank_is_refused(tmp_path):
    path = tmp_path / "swaps.h5"
    with _writer(path) as first:
        _add(first, [0, 1], [1, 1])
        first.commit()
        with pytest.raises(FerclError, match="another process is writing this swap bank"):
            _writer(path)


def test_sample_avoids_heads_of_the_given_identities(tmp_path):
    # row 5 has swaps onto identities 1, 2, 3 (images 1, 2, 3); row 1 one swap onto identity 0
    with _writer(tmp_path / "swaps.h5") as w:
        _add(w, [1, 5], [1, 3])
    bank = SwapBank(tmp_path / "swaps.h5")
    rng = np.random.default_rng(0)
    images, _, found = bank.sample(np.array([5] * 40 + [1]), rng, avoid=np.array([1, 3, 0]))
    assert found[:40].all() and set(images[:40, 0, 0, 0].tolist()) == {2}
    assert not found[40] and images[40].max() == 0  # its only head is avoided: no swap
    images, _, found = bank.sample(np.array([5] * 40), rng, avoid=np.array([2]))
    assert set(images[:, 0, 0, 0].tolist()) == {1, 3}
    _, _, found = bank.sample(np.array([5]), rng, avoid=np.array([1, 2, 3]))
    assert not found.any()
