import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.swap_bank import NO_DONOR, NO_LANDMARKS, SWAPPED
from fercl_cli.swap.plan import choose_sources, parse_frames, plan_swaps


def test_frames_spec():
    assert parse_frames("all") is None
    assert parse_frames("sampled:3") == 3
    for bad in ("sampled:0", "some", "sampled:x", "sampled:-1"):
        with pytest.raises(FerclError, match="--frames"):
            parse_frames(bad)


def test_sources_are_all_rows_or_evenly_spread_per_clip():
    start, stop = np.array([0, 10, 12, 12]), np.array([10, 12, 12, 15])  # clip 2 is empty
    assert choose_sources(start, stop, None).tolist() == list(range(15))
    assert choose_sources(start, stop, 3).tolist() == [0, 4, 9, 10, 11, 12, 13, 14]


def _world():
    identity = np.repeat([0, 1, 2], [50, 5, 1])  # very unequal identities
    usable = np.ones(56, bool)
    usable[[3, 51]] = False
    return identity, usable


def test_donors_come_from_other_identities_with_usable_landmarks_uniformly_over_identities():
    identity, usable = _world()
    plan = plan_swaps(np.arange(56), usable, identity, per_frame=4, seed=0)
    assert plan.donors.shape == (56, 4) and plan.donor_identity.dtype == np.int32
    assert plan.status[3] == NO_LANDMARKS and plan.status[51] == NO_LANDMARKS
    assert (plan.donors[[3, 51]] == -1).all()
    ok = plan.status == SWAPPED
    assert ok.sum() == 54
    donors = plan.donors[ok]
    assert usable[donors].all()
    np.testing.assert_array_equal(identity[donors], plan.donor_identity[ok])
    assert (identity[donors] != identity[np.arange(56)[ok], None]).all()
    # identity 0's sources draw identities 1 and 2 about equally, though 2 has a single frame
    from_zero = plan.donor_identity[ok & (identity == 0)]
    assert 0.35 < (from_zero == 2).mean() < 0.65


def test_the_donors_of_one_source_are_distinct_identities_while_there_are_enough():
    identity = np.repeat(np.arange(6), 5)
    usable = np.ones(30, bool)
    plan = plan_swaps(np.arange(30), usable, identity, per_frame=4, seed=1)
    for row in range(30):
        heads = plan.donor_identity[row]
        assert len(set(heads.tolist())) == 4 and identity[row] not in heads
    # more donors than other identities: repeats are allowed, the source's own identity never
    plan = plan_swaps(np.arange(30), usable, identity, per_frame=7, seed=1)
    assert (plan.donor_identity != identity[:, None]).all() and (plan.donor_identity >= 0).all()


def test_plan_is_reproducible_and_seeded():
    identity, usable = _world()
    first = plan_swaps(np.arange(56), usable, identity, 2, seed=5)
    again = plan_swaps(np.arange(56), usable, identity, 2, seed=5)
    other = plan_swaps(np.arange(56), usable, identity, 2, seed=6)
    np.testing.assert_array_equal(first.donors, again.donors)
    assert (first.donors != other.donors).any()


def test_a_single_identity_has_no_donors():
    plan = plan_swaps(np.arange(4), np.ones(4, bool), np.zeros(4, int), 1, seed=0)
    assert (plan.status == NO_DONOR).all() and (plan.donors == -1).all()
    with pytest.raises(FerclError, match="--per-frame 0"):
        plan_swaps(np.arange(4), np.ones(4, bool), np.zeros(4, int), 0, seed=0)
