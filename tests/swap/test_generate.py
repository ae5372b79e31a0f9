import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.swap_bank import NO_LANDMARKS, SWAPPED, SwapBank
from fercl_cli.swap import generate
from fercl_cli.swap.face_swap import swap_face
from fercl_cli.swap.generate import build_bank
from tests.factories.stores import write_empty_store, write_portrait_store, write_store_without_landmarks


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    # 4 identities × 3 frames; identity 1's last frame has no landmarks
    return write_portrait_store(
        tmp_path_factory.mktemp("store") / "faces.h5", frames=3, no_landmarks=((1, 2),)
    )


def _bank_arrays(path):
    bank = SwapBank(path)
    return [(s.source, s.donor, s.image, s.landmarks) for s in map(bank.swap, range(len(bank)))]


def test_bank_holds_k_swaps_per_frame_onto_other_identities(store, tmp_path):
    seen = []
    summary = build_bank(
        store, tmp_path / "swaps.h5", per_frame=2, seed=3, progress=lambda d, t: seen.append((d, t))
    )
    assert summary.planned_sources == 12 and summary.swaps == summary.total_swaps == 22
    assert summary.skipped == {"no landmarks": 1, "no donor of another identity": 0}
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)
    faces, bank = FaceStore(store), SwapBank(tmp_path / "swaps.h5")
    identity = faces.clip_identity[faces.column("clip")]
    assert bank.status()[5] == NO_LANDMARKS and bank.count(5) == 0
    assert (bank.status()[np.arange(12) != 5] == SWAPPED).all()
    for i in range(len(bank)):
        swap = bank.swap(i)
        assert identity[swap.donor] != identity[swap.source] and swap.donor_identity == identity[swap.donor]
        assert faces.has_landmarks(swap.donor) and swap.donor != 5
    first = bank.swap(bank.swaps_of(7)[1])
    expected = swap_face(
        faces.image(first.donor), faces.landmarks(first.donor), faces.image(7), faces.landmarks(7)
    )
    np.testing.assert_array_equal(first.image, expected.image)
    np.testing.assert_allclose(first.landmarks, expected.landmarks)


def test_sampled_frames_and_parallel_workers_give_the_same_bank(store, tmp_path):
    one = build_bank(store, tmp_path / "one.h5", frames="sampled:2", seed=1, workers=1)
    two = build_bank(store, tmp_path / "two.h5", frames="sampled:2", seed=1, workers=2)
    assert one.planned_sources == 8 and one.total_swaps == two.total_swaps == 7  # row 5 has no landmarks
    assert SwapBank(tmp_path / "one.h5").count(1) == 0  # frame 1 of 3 is not sampled
    for a, b in zip(_bank_arrays(tmp_path / "one.h5"), _bank_arrays(tmp_path / "two.h5"), strict=True):
        assert a[:2] == b[:2]
        np.testing.assert_array_equal(a[2], b[2])


def test_an_interrupted_run_resumes_to_the_same_bank(store, tmp_path, monkeypatch):
    build_bank(store, tmp_path / "whole.h5", seed=2)
    monkeypatch.setattr(generate, "BATCH_SOURCES", 4)
    monkeypatch.setattr(generate, "COMMIT_EVERY_S", -1.0)  # commit after every batch

    def stop_after_two_batches(done, total):
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_bank(store, tmp_path / "part.h5", seed=2, progress=stop_after_two_batches)
    resumed = build_bank(store, tmp_path / "part.h5", seed=2)
    assert resumed.resumed_sources == 8 and resumed.swaps == 4 and resumed.total_swaps == 11
    for a, b in zip(_bank_arrays(tmp_path / "whole.h5"), _bank_arrays(tmp_path / "part.h5"), strict=True):
        assert a[:2] == b[:2]
        np.testing.assert_array_equal(a[2], b[2])
    with pytest.raises(FerclError, match="other settings"):
        build_bank(store, tmp_path / "part.h5", seed=3)


def test_bad_inputs_give_clear_errors(store, tmp_path):
    with pytest.raises(FerclError, match="no frames"):
        build_bank(write_empty_store(tmp_path / "empty.h5"), tmp_path / "a.h5")
    with pytest.raises(FerclError, match="no frame has landmarks"):
        build_bank(write_store_without_landmarks(tmp_path / "bare.h5"), tmp_path / "b.h5")
    with pytest.raises(FerclError, match="--feather"):
        build_bank(store, tmp_path / "c.h5", feather_px=-1)
    with pytest.raises(FerclError, match="--workers"):
        build_bank(store, tmp_path / "c.h5", workers=0)
    with pytest.raises(FerclError, match="no such face store"):
        build_bank(tmp_path / "absent.h5", tmp_path / "c.h5")
    assert not (tmp_path / "c.h5").exists()
