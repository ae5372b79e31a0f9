import math

import numpy as np
import pytest
from scipy import stats

from fercl_cli.train.sampling import (
    N_UNIFORMS,
    SKIP_REASONS,
    ClipSampler,
    SamplerConfig,
    draw_epoch,
    frames_from_uniforms,
    hardneg_min_gap,
    offset_weights,
    shard,
    timeaug_offsets,
)

FPS = 25 / 6


def reference_frames(lengths, uniforms, offsets, weights, min_gap, time_aug, hard_neg):
    """Slow, obvious per-clip version of ``frames_from_uniforms``: list of (reason, a, p, n, np)."""
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0

    def offset(u):
        k = 0
        while u >= cumulative[k]:
            k += 1
        return int(offsets[k])

    def index(u, count):
        return min(math.floor(u * count), count - 1)

    def side(a, d, length, u):
        fits = [f for f in (a - d, a + d) if 0 <= f < length]
        if len(fits) == 2:
            return a + d if u < 0.5 else a - d
        return fits[0] if fits else None

    out = []
    for c, length in enumerate(int(n) for n in lengths):
        u = uniforms[:, c]
        if length == 0:
            out.append((1, -1, -1, -1, -1))
            continue
        a = index(u[0], length)
        p = side(a, offset(u[1]), length, u[2]) if time_aug else a
        if p is None:
            out.append((2, -1, -1, -1, -1))
            continue
        n = q = -1
        if hard_neg:
            far = [f for f in range(length) if abs(f - a) >= min_gap]
            if not far:
                out.append((3, -1, -1, -1, -1))
                continue
            n = far[index(u[3], len(far))]
            q = side(n, offset(u[4]), length, u[5]) if time_aug else n
            if q is None:
                out.append((4, -1, -1, -1, -1))
                continue
        out.append((0, a, p, n, q))
    return out


def test_offsets_and_gap_follow_the_paper_formula():
    assert timeaug_offsets(FPS).tolist() == [2, 3, 4, 5, 6]
    assert timeaug_offsets(25.0).tolist() == list(range(5, 30))
    assert hardneg_min_gap(FPS) == 12
    assert hardneg_min_gap(25.0) == 75
    with pytest.raises(ValueError, match="offset of 0"):
        timeaug_offsets(0.5)
    with pytest.raises(ValueError, match="positive"):
        timeaug_offsets(float("nan"))


def test_offset_weight_modes():
    np.testing.assert_allclose(offset_weights("a", 5), np.full(5, 0.2))
    np.testing.assert_allclose(offset_weights("b", 5), np.array([1, 2, 3, 4, 5]) / 15)
    np.testing.assert_allclose(offset_weights("c", 5), np.array([5, 4, 3, 2, 1]) / 15)
    with pytest.raises(ValueError, match="one of"):
        offset_weights("d", 5)


@pytest.mark.parametrize("time_aug", [True, False])
@pytest.mark.parametrize("hard_neg", [True, False])
def test_vectorised_mapping_matches_reference_loops(time_aug, hard_neg):
    rng = np.random.default_rng(7)
    lengths = rng.integers(0, 40, 600)
    uniforms = rng.random((N_UNIFORMS, lengths.shape[0]))
    uniforms[:, :4] = np.array([0.0, 0.5, 0.4999999999, 1 - 2**-53])  # boundary values
    offsets, weights = timeaug_offsets(FPS), offset_weights("c", 5)
    draw = frames_from_uniforms(
        lengths, uniforms, offsets=offsets, weights=weights, min_gap=12, time_aug=time_aug, hard_neg=hard_neg
    )
    got = list(
        zip(
            draw.reason.tolist(),
            draw.anchor.tolist(),
            draw.positive.tolist(),
            draw.neg_anchor.tolist(),
            draw.neg_positive.tolist(),
            strict=True,
        )
    )
    assert got == reference_frames(lengths, uniforms, offsets, weights, 12, time_aug, hard_neg)
    # At 25/6 fps a far frame's positive always fits (a clip with a far frame has >= 13 frames).
    assert set(draw.reason.tolist()) == {0, 1} | ({2} if time_aug else set()) | ({3} if hard_neg else set())


def test_far_positive_rule_matches_reference_where_it_can_fail():
    # Unreachable with the paper's fps-derived offsets and gap; reachable with a short gap, long offsets.
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 12, 400)
    uniforms = rng.random((N_UNIFORMS, 400))
    offsets, weights = np.array([4, 5]), offset_weights("a", 2)
    draw = frames_from_uniforms(
        lengths, uniforms, offsets=offsets, weights=weights, min_gap=2, time_aug=True, hard_neg=True
    )
    expected = reference_frames(lengths, uniforms, offsets, weights, 2, True, True)
    assert draw.reason.tolist() == [e[0] for e in expected]
    assert draw.neg_positive.tolist() == [e[4] for e in expected]
    assert 4 in draw.reason.tolist()


def _index(n_clips, rng, low=0, high=60):
    lengths = rng.integers(low, high, n_clips)
    stop = np.cumsum(lengths)
    return stop - lengths, stop


def test_constraints_hold_for_every_item():
    start, stop = _index(3000, np.random.default_rng(1))
    plan = draw_epoch(start, stop, FPS, SamplerConfig(seed=3), epoch=5)
    lo, hi = start[plan.clip], stop[plan.clip]
    for rows in (plan.anchor, plan.positive, plan.neg_anchor, plan.neg_positive):
        assert ((lo <= rows) & (rows < hi)).all()
    assert np.isin(np.abs(plan.positive - plan.anchor), [2, 3, 4, 5, 6]).all()
    assert np.isin(np.abs(plan.neg_positive - plan.neg_anchor), [2, 3, 4, 5, 6]).all()
    assert (np.abs(plan.neg_anchor - plan.anchor) >= 12).all()
    assert len(np.unique(plan.clip)) == len(plan)
    assert len(plan) + sum(plan.skipped.values()) == len(start)
    assert set(plan.skipped) == set(SKIP_REASONS)
    assert plan.skipped["empty"] == int((stop == start).sum())


def test_epoch_matches_reference_with_the_documented_stream():
    start, stop = _index(400, np.random.default_rng(2))
    config = SamplerConfig(seed=11)
    plan = draw_epoch(start, stop, FPS, config, epoch=4)
    rng = np.random.default_rng([11, 4])
    expected = reference_frames(
        stop - start,
        rng.random((N_UNIFORMS, 400)),
        timeaug_offsets(FPS),
        offset_weights("c", 5),
        12,
        True,
        True,
    )
    kept = [c for c, e in enumerate(expected) if e[0] == 0]
    order = np.array(kept)[rng.permutation(len(kept))]
    assert plan.clip.tolist() == order.tolist()
    for k, c in enumerate(order):
        _, a, p, n, q = expected[c]
        assert (plan.anchor[k], plan.positive[k], plan.neg_anchor[k], plan.neg_positive[k]) == tuple(
            start[c] + np.array([a, p, n, q])
        )
    counts = {name: sum(e[0] == code for e in expected) for code, name in enumerate(SKIP_REASONS, 1)}
    assert plan.skipped == counts


@pytest.mark.parametrize("mode", ["a", "b", "c"])
def test_offset_distribution_matches_weights(mode):
    n = 20000
    start = np.arange(n) * 100
    plan = draw_epoch(start, start + 100, FPS, SamplerConfig(offset_mode=mode, seed=0), epoch=0)
    assert len(plan) == n  # clips of 100 frames never fail a rule
    for first, second in ((plan.anchor, plan.positive), (plan.neg_anchor, plan.neg_positive)):
        counts = np.bincount(np.abs(second - first), minlength=7)[2:]
        assert stats.chisquare(counts, offset_weights(mode, 5) * n).pvalue > 1e-3
    local = plan.anchor - start[plan.clip]
    assert stats.chisquare(np.bincount(local, minlength=100)).pvalue > 1e-3
    both_fit = (local >= 6) & (local < 94)
    plus = (plan.positive > plan.anchor)[both_fit]
    assert stats.binomtest(int(plus.sum()), int(plus.size)).pvalue > 1e-3


def test_far_frame_is_uniform_over_allowed_frames():
    n, length = 30000, 30
    start = np.arange(n) * length
    plan = draw_epoch(start, start + length, FPS, SamplerConfig(seed=1), epoch=0)
    local_a = plan.anchor - start[plan.clip]
    local_n = plan.neg_anchor - start[plan.clip]
    at = local_a == 15  # allowed far frames: 0..3 and 27..29
    counts = np.bincount(local_n[at], minlength=length)
    assert set(np.flatnonzero(counts)) <= {0, 1, 2, 3, 27, 28, 29}
    assert stats.chisquare(counts[[0, 1, 2, 3, 27, 28, 29]]).pvalue > 1e-3


def test_time_aug_off_gives_the_anchor_frame_and_hard_neg_off_gives_no_far_frames():
    start, stop = _index(500, np.random.default_rng(4), low=1)
    plan = draw_epoch(start, stop, FPS, SamplerConfig(time_aug=False, hard_neg=False), epoch=0)
    assert len(plan) == 500 and (plan.positive == plan.anchor).all()
    assert plan.neg_anchor is None and plan.neg_positive is None
    plan = draw_epoch(start, stop, FPS, SamplerConfig(time_aug=False), epoch=0)
    assert (plan.neg_positive == plan.neg_anchor).all()
    assert plan.skipped["no_positive"] == 0 and plan.skipped["no_neg_positive"] == 0


def test_deterministic_and_redrawn_every_epoch():
    start, stop = _index(1000, np.random.default_rng(5))
    config = SamplerConfig(seed=9)
    first = draw_epoch(start, stop, FPS, config, epoch=2)
    again = draw_epoch(start, stop, FPS, config, epoch=2)
    for name in ("anchor", "positive", "neg_anchor", "neg_positive", "clip"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    other_epoch = draw_epoch(start, stop, FPS, config, epoch=3)
    other_seed = draw_epoch(start, stop, FPS, SamplerConfig(seed=10), epoch=2)
    for other in (other_epoch, other_seed):
        assert not np.array_equal(first.clip, other.clip)
        common = np.intersect1d(first.clip, other.clip)
        by_clip = lambda plan: dict(zip(plan.clip.tolist(), plan.anchor.tolist(), strict=True))  # noqa: E731
        assert np.mean([by_clip(first)[c] != by_clip(other)[c] for c in common]) > 0.5


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_rank_shards_are_disjoint_equal_and_cover_the_epoch(world_size):
    start, stop = _index(1001, np.random.default_rng(6))
    identity = np.arange(1001) % 37
    config = SamplerConfig(seed=2)
    full = draw_epoch(start, stop, FPS, config, epoch=1, clip_identity=identity)
    shards = [
        ClipSampler(start, stop, FPS, config, clip_identity=identity, rank=r, world_size=world_size).epoch(1)
        for r in range(world_size)
    ]
    assert len({len(s) for s in shards}) == 1
    clips = np.concatenate([s.clip for s in shards])
    assert len(np.unique(clips)) == len(clips)
    assert shards[0].dropped == len(full) % world_size < world_size
    assert set(clips) | set(full.clip[len(full) - shards[0].dropped :]) == set(full.clip)
    anchor_of = dict(zip(full.clip.tolist(), full.anchor.tolist(), strict=True))
    for s in shards:
        assert [anchor_of[c] for c in s.clip] == s.anchor.tolist()
        np.testing.assert_array_equal(s.identity, identity[s.clip])
        assert s.skipped == full.skipped
    # Global batch b of all ranks is a contiguous slice of the epoch.
    batch = 16
    global_first = np.concatenate([next(s.batches(batch)).clip for s in shards])
    assert set(global_first) == set(full.clip[: batch * world_size])


def test_batches_keep_the_short_last_batch():
    start, stop = _index(50, np.random.default_rng(8), low=30)
    plan = ClipSampler(start, stop, FPS, SamplerConfig()).epoch(0)
    assert len(plan) == 50
    batches = list(plan.batches(16))
    assert [len(b) for b in batches] == [16, 16, 16, 2] and plan.num_batches(16) == 4
    np.testing.assert_array_equal(np.concatenate([b.neg_positive for b in batches]), plan.neg_positive)
    assert [len(b) for b in plan.batches(1)] == [1] * 50
    with pytest.raises(ValueError, match="batch_size"):
        plan.num_batches(0)


def test_too_few_clips_for_the_ranks_gives_empty_shards():
    plan = draw_epoch(np.array([0]), np.array([40]), FPS, SamplerConfig(), epoch=0)
    part = shard(plan, rank=1, world_size=2)
    assert len(part) == 0 and part.dropped == 1 and list(part.batches(4)) == []


@pytest.mark.parametrize(
    ("start", "stop", "identity", "match"),
    [
        (np.array([0, 5]), np.array([5]), None, "equal length"),
        (np.array([3]), np.array([2]), None, "clip_stop"),
        (np.array([0.0]), np.array([2.0]), None, "integer"),
        (np.array([0]), np.array([2]), np.array([1, 2]), "clip_identity"),
    ],
)
def test_bad_index_is_rejected(start, stop, identity, match):
    with pytest.raises(ValueError, match=match):
        ClipSampler(start, stop, FPS, SamplerConfig(), clip_identity=identity)


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="offset_mode"):
        SamplerConfig(offset_mode="x")
    with pytest.raises(ValueError, match="rank"):
        ClipSampler(np.array([0]), np.array([3]), FPS, SamplerConfig(), rank=2, world_size=2)
    with pytest.raises(ValueError, match="fps"):
        ClipSampler(np.array([0]), np.array([3]), 0.0, SamplerConfig())
