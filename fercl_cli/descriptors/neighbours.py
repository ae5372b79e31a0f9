"""How well a descriptor's nearest neighbours share expression rather than identity.

A mouth-eye descriptor for MaskFN should find frames with the same expression, not frames of the same
person: over all valid frames, the rate at which the cosine nearest neighbour (another valid frame,
optionally from another clip) has the same expression label should be higher than the rate at which it
has the same identity, and both should be compared with chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NeighbourRates:
    """Fractions over the queried frames (valid frames with at least one candidate).

    Attributes:
        expression: nearest neighbour has the same expression label.
        identity: nearest neighbour has the same identity label.
        chance_expression: mean fraction of a frame's candidates with its expression.
        chance_identity: mean fraction of a frame's candidates with its identity.
        frames: number of frames queried.
    """

    expression: float
    identity: float
    chance_expression: float
    chance_identity: float
    frames: int

    def to_dict(self) -> dict[str, float | int]:
        """Plain values for JSON."""
        return dict(self.__dict__)


def _share(labels: np.ndarray, rows: np.ndarray, allowed: np.ndarray) -> float:
    """Sum over ``rows`` of the fraction of each row's allowed candidates that share its label."""
    same = (labels[None, :] == labels[rows, None]) & allowed
    return float((same.sum(axis=1) / allowed.sum(axis=1)).sum())


def neighbour_rates(
    values: np.ndarray,
    valid: np.ndarray,
    expression: np.ndarray,
    identity: np.ndarray,
    exclude: np.ndarray | None = None,
    block: int = 1024,
) -> NeighbourRates:
    """Expression and identity agreement of each valid frame with its cosine nearest neighbour.

    Args:
        values: float [N, D] descriptors.
        valid: bool [N]; invalid frames are neither queried nor candidates.
        expression: int [N] expression labels.
        identity: int [N] identity labels.
        exclude: optional int [N] group labels (e.g. clip); candidates in the query's own group are
            skipped (frames of one clip trivially share identity and often expression).
        block: query rows per similarity block (bounds memory to block × N).

    Returns:
        :class:`NeighbourRates`. Ties go to the lowest row.
    """
    values = np.asarray(values, dtype=np.float32)
    n = len(values)
    valid = np.asarray(valid, dtype=bool)
    expression, identity = np.asarray(expression), np.asarray(identity)
    group = np.arange(n) if exclude is None else np.asarray(exclude)
    for name, arr in (
        ("valid", valid),
        ("expression", expression),
        ("identity", identity),
        ("exclude", group),
    ):
        if arr.shape != (n,):
            raise ValueError(f"{name} must have shape [{n}], got {arr.shape}")
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    unit = values / np.where(norms > 0, norms, 1.0)
    same_expr = same_id = chance_expr = chance_id = 0.0
    queried = 0
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        rows = rows[valid[rows]]
        if not len(rows):
            continue
        allowed = (
            valid[None, :] & (group[None, :] != group[rows, None]) & (rows[:, None] != np.arange(n)[None, :])
        )
        has = allowed.any(axis=1)
        rows, allowed = rows[has], allowed[has]
        if not len(rows):
            continue
        sims = np.where(allowed, unit[rows] @ unit.T, -np.inf)
        nearest = sims.argmax(axis=1)
        same_expr += float((expression[nearest] == expression[rows]).sum())
        same_id += float((identity[nearest] == identity[rows]).sum())
        chance_expr += _share(expression, rows, allowed)
        chance_id += _share(identity, rows, allowed)
        queried += len(rows)
    if not queried:
        raise ValueError("no valid frame has a valid candidate to compare with")
    return NeighbourRates(
        expression=same_expr / queried,
        identity=same_id / queried,
        chance_expression=chance_expr / queried,
        chance_identity=chance_id / queried,
        frames=queried,
    )
