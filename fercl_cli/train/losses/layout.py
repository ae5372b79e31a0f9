"""Index vectors for the paper's batch layout: B clips → views ``[A, NA, P, NP]`` (HardNeg) or ``[A, P]``.

Views sharing a ``pair`` id are each other's positive: (A_i, P_i) and (NA_i, NP_i). Views sharing a
``clip`` id come from the same clip: A_i, NA_i, P_i, NP_i. Ids are batch-local; :func:`gather_views`
makes them unique across ranks.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class ViewIndex(NamedTuple):
    """``pair`` and ``clip`` ids per view, int64 [M] with M = 4B (HardNeg) or 2B."""

    pair: torch.Tensor
    clip: torch.Tensor


def view_index(batch_size: int, hard_neg: bool, device: torch.device | str | None = None) -> ViewIndex:
    """Ids for ``batch_size`` clips laid out as ``[A, NA, P, NP]`` (``hard_neg``) or ``[A, P]``.

    HardNeg: pair = [0..B-1, B..2B-1, 0..B-1, B..2B-1], clip = [0..B-1] × 4.
    Without: pair = clip = [0..B-1] × 2. Example: ``view_index(2, True).pair`` → ``[0, 1, 2, 3, 0, 1, 2, 3]``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 clip, got {batch_size}")
    clips = torch.arange(batch_size, device=device)
    if hard_neg:
        anchors = torch.cat([clips, clips + batch_size])
        return ViewIndex(pair=anchors.repeat(2), clip=clips.repeat(4))
    return ViewIndex(pair=clips.repeat(2), clip=clips.repeat(2))
