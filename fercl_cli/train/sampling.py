"""TimeAug / HardNeg frame sampling over the face store's clip index (one item = one clip).

Per epoch every clip draws, from its own frames (rows ``clip_start[c] .. clip_stop[c] - 1`` of a frame
table sorted by (clip, time)):

- anchor ``a`` uniform over the clip's frames;
- TimeAug offset ``d`` from :func:`timeaug_offsets` with :func:`offset_weights`; positive ``a ± d``
  (coin flip when both fit, else the side that fits, else the clip is skipped this epoch);
- HardNeg: far frame ``n`` uniform over the frames at least :func:`hardneg_min_gap` frames from ``a``,
  and its own positive ``n ± d'`` drawn the same way.

With TimeAug off the positive is the anchor frame itself (plain SimCLR: two augmentations of one image).
Draws depend only on (seed, epoch), are re-drawn every epoch, and are the same on every rank; ranks then
take disjoint shards, so the union over ranks is the epoch. Pure numpy: no torch, no h5py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace

import numpy as np

OFFSET_MODES = ("a", "b", "c")
HARDNEG_MIN_SECONDS = 3.0
TIMEAUG_WINDOW_SECONDS = 1.0

# Why a clip yields no item this epoch, in the order the rules are checked; code 0 means "kept".
SKIP_REASONS = ("empty", "no_positive", "no_neg_anchor", "no_neg_positive")
N_UNIFORMS = 6  # anchor, offset, side, far frame, far offset, far side


def timeaug_offsets(fps: float) -> np.ndarray:
    """TimeAug offsets in frames, ``floor(arange(fps·1 s) + sqrt(fps·1 s))``: {2,...,6} at 25/6 fps.

    Returns int64 [K], increasing. Raises ``ValueError`` if ``fps`` is not positive and finite or an
    offset would be 0 (fps < 1: the positive would be the anchor itself).
    """
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive finite number of frames per second, got {fps!r}")
    window = fps * TIMEAUG_WINDOW_SECONDS
    offsets = np.floor(np.arange(window) + math.sqrt(window)).astype(np.int64)
    if offsets[0] < 1:
        raise ValueError(f"fps {fps!r} gives a TimeAug offset of 0 frames; TimeAug needs fps >= 1")
    return offsets


def offset_weights(mode: str, n: int) -> np.ndarray:
    """Probabilities of the ``n`` TimeAug offsets (float64 [n], sum 1), smallest offset first.

    Mode ``a``: uniform; ``b``: proportional to 1..n (far offsets likelier); ``c`` (paper default):
    proportional to n..1 (near offsets likelier). At n = 5: b = [1,2,3,4,5]/15, c = [5,4,3,2,1]/15.
    """
    if mode not in OFFSET_MODES:
        raise ValueError(f"offset mode must be one of {OFFSET_MODES}, got {mode!r}")
    if n < 1:
        raise ValueError(f"need at least one offset, got n={n}")
    if mode == "a":
        raw = np.ones(n)
    elif mode == "b":
        raw = np.arange(1, n + 1, dtype=np.float64)
    else:
        raw = np.arange(n, 0, -1, dtype=np.float64)
    return raw / raw.sum()


def hardneg_min_gap(fps: float) -> int:
    """Minimum distance in frames between an anchor and its HardNeg far frame: ``int(3 s · fps)`` (12 at 25/6)."""
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive finite number of frames per second, got {fps!r}")
    return int(HARDNEG_MIN_SECONDS * fps)


@dataclass(frozen=True)
class SamplerConfig:
    """What the sampler draws. ``offset_mode`` is a|b|c (see :func:`offset_weights`); ``seed`` fixes all epochs."""

    time_aug: bool = True
    hard_neg: bool = True
    offset_mode: str = "c"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.offset_mode not in OFFSET_MODES:
            raise ValueError(f"offset_mode must be one of {OFFSET_MODES}, got {self.offset_mode!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed}")


@dataclass(frozen=True)
class FrameDraw:
    """Frame positions within each clip (int64 [C], 0-based; -1 where not drawn) and the skip reason.

    ``reason`` int8 [C]: 0 kept, else ``1 + SKIP_REASONS.index(rule)`` of the first rule that failed.
    ``neg_anchor``/``neg_positive`` are all -1 when HardNeg is off.
    """

    anchor: np.ndarray
    positive: np.ndarray
    neg_anchor: np.ndarray
    neg_positive: np.ndarray
    reason: np.ndarray


def _side(
    a: np.ndarray, d: np.ndarray, length: np.ndarray, u_side: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``a ± d`` inside [0, length): coin flip (u < 0.5 → +d) when both fit; returns (frame, fits)."""
    fits_minus = a - d >= 0
    fits_plus = a + d < length
    plus = np.where(fits_minus & fits_plus, u_side < 0.5, fits_plus)
    return np.where(plus, a + d, a - d), fits_minus | fits_plus


def frames_from_uniforms(
    lengths: np.ndarray,
    uniforms: np.ndarray,
    *,
    offsets: np.ndarray,
    weights: np.ndarray,
    min_gap: int,
    time_aug: bool,
    hard_neg: bool,
) -> FrameDraw:
    """The pure mapping from uniform variates to frames, vectorised over clips.

    ``lengths`` int64 [C] frames per clip; ``uniforms`` float64 [6, C] in [0, 1), rows: anchor, offset,
    side, far frame, far offset, far side. A frame index is ``floor(u · count)``; an offset is
    ``offsets[searchsorted(cumsum(weights), u, 'right')]``.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if uniforms.shape != (N_UNIFORMS, lengths.shape[0]):
        raise ValueError(f"uniforms must have shape ({N_UNIFORMS}, {lengths.shape[0]}), got {uniforms.shape}")
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0

    def pick(u: np.ndarray, count: np.ndarray) -> np.ndarray:
        return np.minimum(np.floor(u * count).astype(np.int64), np.maximum(count - 1, 0))

    def offset(u: np.ndarray) -> np.ndarray:
        return offsets[np.searchsorted(cumulative, u, side="right")]

    reason = np.zeros(lengths.shape[0], dtype=np.int8)
    anchor = pick(uniforms[0], lengths)
    if time_aug:
        positive, ok = _side(anchor, offset(uniforms[1]), lengths, uniforms[2])
    else:
        positive, ok = anchor.copy(), np.ones_like(reason, dtype=bool)
    reason[~ok & (reason == 0)] = 2

    neg_anchor = np.full_like(anchor, -1)
    neg_positive = np.full_like(anchor, -1)
    if hard_neg:
        left = np.clip(anchor - min_gap + 1, 0, None)  # frames 0 .. a - gap
        right = np.clip(lengths - (anchor + min_gap), 0, None)  # frames a + gap .. length - 1
        k = pick(uniforms[3], left + right)
        neg_anchor = np.where(k < left, k, anchor + min_gap + (k - left))
        reason[(left + right == 0) & (reason == 0)] = 3
        if time_aug:
            neg_positive, ok = _side(neg_anchor, offset(uniforms[4]), lengths, uniforms[5])
        else:
            neg_positive, ok = neg_anchor.copy(), np.ones_like(ok)
        reason[~ok & (reason == 0)] = 4
    reason[lengths == 0] = 1

    kept = reason == 0
    return FrameDraw(
        anchor=np.where(kept, anchor, -1),
        positive=np.where(kept, positive, -1),
        neg_anchor=np.where(kept, neg_anchor, -1),
        neg_positive=np.where(kept, neg_positive, -1),
        reason=reason,
    )


@dataclass(frozen=True)
class EpochPlan:
    """The items of one epoch (or one shard, or one batch) as global frame-table rows, all int64 [K].

    ``neg_anchor``/``neg_positive`` are None with HardNeg off; ``identity`` is None when the sampler got no
    ``clip_identity``. ``skipped`` counts clips per rule of :data:`SKIP_REASONS` over the whole epoch;
    ``dropped`` counts valid clips left out so every rank gets the same number of items.
    """

    anchor: np.ndarray
    positive: np.ndarray
    neg_anchor: np.ndarray | None
    neg_positive: np.ndarray | None
    clip: np.ndarray
    identity: np.ndarray | None
    skipped: dict[str, int] = field(default_factory=dict)
    dropped: int = 0

    def __len__(self) -> int:
        return int(self.anchor.shape[0])

    def select(self, index: slice | np.ndarray) -> EpochPlan:
        """The items at ``index`` (a slice or an integer array), counts carried over."""
        per_item = {
            f.name: (None if getattr(self, f.name) is None else getattr(self, f.name)[index])
            for f in fields(self)
            if f.name not in ("skipped", "dropped")
        }
        return replace(self, **per_item)

    def num_batches(self, batch_size: int) -> int:
        """Number of batches of ``batch_size`` clips, the short last batch included."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        return -(-len(self) // batch_size)

    def batches(self, batch_size: int) -> Iterator[EpochPlan]:
        """Consecutive groups of ``batch_size`` clips in plan order; the short last batch is kept."""
        for b in range(self.num_batches(batch_size)):
            yield self.select(slice(b * batch_size, (b + 1) * batch_size))


def _validate_index(
    clip_start: np.ndarray, clip_stop: np.ndarray, clip_identity: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    start = np.asarray(clip_start)
    stop = np.asarray(clip_stop)
    if start.ndim != 1 or start.shape != stop.shape:
        raise ValueError(
            f"clip_start and clip_stop must be 1-D of equal length, got {start.shape}, {stop.shape}"
        )
    if not (np.issubdtype(start.dtype, np.integer) and np.issubdtype(stop.dtype, np.integer)):
        raise ValueError(f"clip_start/clip_stop must be integer row indices, got {start.dtype}, {stop.dtype}")
    if (start < 0).any() or (stop < start).any():
        raise ValueError("clip rows must satisfy 0 <= clip_start <= clip_stop for every clip")
    identity = None
    if clip_identity is not None:
        identity = np.asarray(clip_identity)
        if identity.shape != start.shape or not np.issubdtype(identity.dtype, np.integer):
            raise ValueError(f"clip_identity must be integer of shape {start.shape}, got {identity.shape}")
        identity = identity.astype(np.int64)
    return start.astype(np.int64), stop.astype(np.int64), identity


def draw_epoch(
    clip_start: np.ndarray,
    clip_stop: np.ndarray,
    fps: float,
    config: SamplerConfig,
    epoch: int,
    clip_identity: np.ndarray | None = None,
) -> EpochPlan:
    """All items of ``epoch`` (every rank's), in a random order; skipped clips removed and counted.

    Random stream: ``rng = numpy.random.default_rng([seed, epoch])``; ``rng.random((6, C))`` feeds
    :func:`frames_from_uniforms`, then ``rng.permutation(K)`` orders the K kept clips.
    """
    if epoch < 0:
        raise ValueError(f"epoch must be non-negative, got {epoch}")
    start, stop, identity = _validate_index(clip_start, clip_stop, clip_identity)
    window_offsets = timeaug_offsets(fps) if config.time_aug else np.ones(1, dtype=np.int64)
    rng = np.random.default_rng([config.seed, epoch])
    draw = frames_from_uniforms(
        stop - start,
        rng.random((N_UNIFORMS, start.shape[0])),
        offsets=window_offsets,
        weights=offset_weights(config.offset_mode, window_offsets.shape[0]),
        min_gap=hardneg_min_gap(fps),
        time_aug=config.time_aug,
        hard_neg=config.hard_neg,
    )
    kept = np.flatnonzero(draw.reason == 0)
    order = kept[rng.permutation(kept.shape[0])]
    base = start[order]
    return EpochPlan(
        anchor=base + draw.anchor[order],
        positive=base + draw.positive[order],
        neg_anchor=base + draw.neg_anchor[order] if config.hard_neg else None,
        neg_positive=base + draw.neg_positive[order] if config.hard_neg else None,
        clip=order.astype(np.int64),
        identity=None if identity is None else identity[order],
        skipped={name: int((draw.reason == code).sum()) for code, name in enumerate(SKIP_REASONS, start=1)},
    )


def shard(plan: EpochPlan, rank: int, world_size: int) -> EpochPlan:
    """Rank ``rank``'s items: ``plan[rank::world_size]`` after dropping the last ``len % world_size`` items.

    Every rank gets the same number of items (so the same number of batches, which DDP needs), and the
    ranks' global batch ``b`` is the contiguous slice ``b·B·W .. (b+1)·B·W`` of the plan. Dropping rather
    than padding: a padded repeat would put the same clip (same frames) twice in one global batch, as a
    false negative. Fewer than ``world_size`` clips are dropped, different ones each epoch.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
    usable = len(plan) - len(plan) % world_size
    part = plan.select(np.arange(rank, usable, world_size))
    return replace(part, dropped=plan.dropped + len(plan) - usable)


class ClipSampler:
    """TimeAug/HardNeg sampler for one rank: ``sampler.epoch(e)`` is this rank's :class:`EpochPlan`.

    ``clip_start``/``clip_stop`` int [C]: row ranges of each clip in a frame table sorted by (clip, time);
    ``fps``: the store's frame rate (25/6 for VoxCeleb1 frames); ``clip_identity`` int [C], optional,
    carried per item. Example::

        sampler = ClipSampler(start, stop, 25 / 6, SamplerConfig(), rank=0, world_size=1)
        for batch in sampler.epoch(3).batches(128):
            rows = np.concatenate([batch.anchor, batch.neg_anchor, batch.positive, batch.neg_positive])
    """

    def __init__(
        self,
        clip_start: np.ndarray,
        clip_stop: np.ndarray,
        fps: float,
        config: SamplerConfig,
        clip_identity: np.ndarray | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        self.clip_start, self.clip_stop, self.clip_identity = _validate_index(
            clip_start, clip_stop, clip_identity
        )
        if config.time_aug:
            timeaug_offsets(fps)  # raises on an fps that gives no usable offset
        hardneg_min_gap(fps)  # raises on a non-positive fps
        self.fps = float(fps)
        self.config = config
        self.rank = rank
        self.world_size = world_size

    def __len__(self) -> int:
        """Number of clips in the index (an upper bound on items per epoch over all ranks)."""
        return int(self.clip_start.shape[0])

    def epoch(self, epoch: int) -> EpochPlan:
        """This rank's items of ``epoch``; deterministic in (seed, epoch, rank, world_size)."""
        plan = draw_epoch(self.clip_start, self.clip_stop, self.fps, self.config, epoch, self.clip_identity)
        return shard(plan, self.rank, self.world_size)
