"""Which frames get swapped and onto which heads: a deterministic plan from the store and a seed.

Sources are store rows; donors are drawn like the paper's "frame of a random other identity": an
identity uniformly among the *other* identities that have frames with usable landmarks, then one of
its usable frames uniformly. The K donors of one source are of K different identities (drawn without
replacement) while there are at least K other identities, so that training can pick a donor who is
not in its batch. The plan is the same every time for the same store, settings and seed,
which is what lets an interrupted ``fercl swap`` resume.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.store.swap_bank import NO_DONOR, NO_LANDMARKS, SWAPPED

_SAMPLED = re.compile(r"^sampled:(\d+)$")


def parse_frames(spec: str) -> int | None:
    """``"all"`` → None; ``"sampled:N"`` (N ≥ 1) → N frames per clip. FerclError otherwise."""
    if spec == "all":
        return None
    match = _SAMPLED.match(spec)
    if not match or int(match.group(1)) < 1:
        raise FerclError(f"--frames {spec!r}: use 'all' or 'sampled:N' with N >= 1 frames per clip")
    return int(match.group(1))


def choose_sources(clip_start: np.ndarray, clip_stop: np.ndarray, per_clip: int | None) -> np.ndarray:
    """Ascending int64 store rows: every row (``per_clip`` None), or ``per_clip`` rows per clip spread
    evenly over the clip (first and last frame included; all of a shorter clip)."""
    rows = []
    for start, stop in zip(np.asarray(clip_start), np.asarray(clip_stop), strict=True):
        n = int(stop - start)
        if n <= 0:
            continue
        if per_clip is None or per_clip >= n:
            rows.append(np.arange(start, stop, dtype=np.int64))
        else:
            rows.append(int(start) + np.unique(np.rint(np.linspace(0, n - 1, per_clip)).astype(np.int64)))
    return np.concatenate(rows) if rows else np.zeros(0, np.int64)


@dataclass(frozen=True)
class SwapPlan:
    """What ``fercl swap`` will do.

    Attributes:
        sources: int64 [b] ascending store rows chosen as expression sources.
        status: uint8 [b] ``SWAPPED``, ``NO_LANDMARKS`` or ``NO_DONOR`` per source.
        donors: int64 [b, K] donor rows (-1 where the source is not swapped).
        donor_identity: int32 [b, K] the donors' identity indices (-1 likewise).
    """

    sources: np.ndarray
    status: np.ndarray
    donors: np.ndarray
    donor_identity: np.ndarray


def plan_swaps(
    sources: np.ndarray, usable: np.ndarray, row_identity: np.ndarray, per_frame: int, seed: int
) -> SwapPlan:
    """Draw ``per_frame`` head donors for each source.

    Args:
        sources: int [b] store rows (ascending).
        usable: bool [N] rows with usable landmarks (sources without them are skipped; donors need them).
        row_identity: int [N] identity index of every store row.
        per_frame: K ≥ 1 swaps per source, onto K different identities when there are K others.
        seed: random seed (the plan depends only on the arguments).
    """
    if per_frame < 1:
        raise FerclError(f"--per-frame {per_frame}: make at least one swap per frame")
    sources = np.asarray(sources, np.int64)
    usable = np.asarray(usable, bool)
    row_identity = np.asarray(row_identity, np.int64)
    donor_rows = np.flatnonzero(usable)
    order = np.argsort(row_identity[donor_rows], kind="stable")
    donor_rows = donor_rows[order]
    identities, first, count = np.unique(row_identity[donor_rows], return_index=True, return_counts=True)
    status = np.where(usable[sources], SWAPPED, NO_LANDMARKS).astype(np.uint8)
    b = len(sources)
    donors = np.full((b, per_frame), -1, np.int64)
    donor_identity = np.full((b, per_frame), -1, np.int32)
    if len(identities) < 2:
        status[status == SWAPPED] = NO_DONOR
        return SwapPlan(sources=sources, status=status, donors=donors, donor_identity=donor_identity)
    rng = np.random.default_rng(seed)
    others = len(identities) - 1
    if per_frame <= others:
        pick = np.argsort(rng.random((b, others)), axis=1)[:, :per_frame]  # distinct identities
    else:
        pick = rng.integers(0, others, size=(b, per_frame))
    own = np.searchsorted(identities, row_identity[sources])  # the source identity's place (if usable)
    pick = pick + (pick >= own[:, None])  # never the source's own identity
    within = np.floor(rng.random((b, per_frame)) * count[pick]).astype(np.int64)
    swapped = status == SWAPPED
    donors[swapped] = donor_rows[first[pick] + within][swapped]
    donor_identity[swapped] = identities[pick][swapped]
    return SwapPlan(sources=sources, status=status, donors=donors, donor_identity=donor_identity)
