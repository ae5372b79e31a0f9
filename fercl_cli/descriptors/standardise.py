"""Identity-centred, within-identity-standardised descriptors (used by ``geometry``).

Raw per-frame features carry the person as much as the expression: a wide mouth or deep-set eyes are
identity. Subtracting each identity's mean feature leaves how a frame departs from that person's
usual face, which is mostly expression (and speech and pose). Each dimension is then divided by its
pooled within-identity standard deviation, each part of the vector (e.g. measurements, shapes, HOG)
is weighted, and the result is L2-normalised.

Statistics are accumulated in a streaming pass (:meth:`GroupStandardiser.update`) and applied in a
second one (:meth:`GroupStandardiser.apply`), so a store of any size fits in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fercl_cli.descriptors import Descriptors
from fercl_cli.descriptors.inputs import normalised


class GroupStandardiser:
    """Accumulates per-group means and pooled within-group variances of raw features.

    Args:
        parts: ``(name, length, weight)`` of the consecutive parts of a raw feature vector; after
            standardisation part ``p`` is scaled by ``weight / sqrt(length)`` (so it weighs ``weight``).
        n_groups: number of groups (identities); group ids are 0..n_groups-1.
    """

    def __init__(self, parts: Sequence[tuple[str, int, float]], n_groups: int) -> None:
        if n_groups < 1:
            raise ValueError(f"need at least one group, got {n_groups}")
        self.parts = tuple(parts)
        self.dim = sum(length for _, length, _ in self.parts)
        self._count = np.zeros(n_groups, np.int64)
        self._sum = np.zeros((n_groups, self.dim))
        self._sum_sq = np.zeros((n_groups, self.dim))
        scale = [np.full(length, weight / np.sqrt(length)) for _, length, weight in self.parts]
        self._part_scale = np.concatenate(scale)

    def update(self, raw: np.ndarray, valid: np.ndarray, groups: np.ndarray) -> None:
        """Add raw features float [n, D] of the frames where ``valid``; ``groups`` int [n]."""
        raw, valid, groups = self._check(raw, valid, groups)
        x = raw[valid].astype(np.float64)
        g = groups[valid]
        self._count += np.bincount(g, minlength=len(self._count))
        np.add.at(self._sum, g, x)
        np.add.at(self._sum_sq, g, x * x)

    def _check(
        self, raw: np.ndarray, valid: np.ndarray, groups: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raw, valid, groups = np.asarray(raw), np.asarray(valid, bool), np.asarray(groups, np.int64)
        if (
            raw.ndim != 2
            or raw.shape[1] != self.dim
            or valid.shape != (len(raw),)
            or groups.shape != (len(raw),)
        ):
            raise ValueError(
                f"need raw [n, {self.dim}], valid [n] and groups [n], got {raw.shape}, {valid.shape}, {groups.shape}"
            )
        if len(groups) and (groups.min() < 0 or groups.max() >= len(self._count)):
            raise ValueError(f"group ids must be in 0..{len(self._count) - 1}")
        return raw, valid, groups

    def _statistics(self) -> tuple[np.ndarray, np.ndarray]:
        counts = np.maximum(self._count, 1)[:, None]
        mean = self._sum / counts
        within = (self._sum_sq - self._sum * mean).sum(axis=0)
        dof = max(int(self._count.sum() - (self._count > 0).sum()), 1)
        std = np.sqrt(np.maximum(within, 0.0) / dof)
        return mean, np.where(std > 1e-12, std, 1.0)

    def apply(self, raw: np.ndarray, valid: np.ndarray, groups: np.ndarray) -> Descriptors:
        """Standardised, weighted, L2-normalised descriptors of raw features [n, D]. Frames that are
        not ``valid``, or whose group has fewer than two valid frames (no reference), are flagged."""
        raw, valid, groups = self._check(raw, valid, groups)
        mean, std = self._statistics()
        values = (raw.astype(np.float64) - mean[groups]) / std * self._part_scale
        return normalised(values.astype(np.float32), valid & (self._count[groups] >= 2))
