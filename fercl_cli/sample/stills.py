"""Still photos for the evaluation sets: each identity shows each class a few times, posed and lit at random."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from fercl_cli.sample.identities import Identity
from fercl_cli.sample.motion import FrameState, still_state

APEX_INTENSITY = (0.7, 1.0)


@dataclass(frozen=True)
class Still:
    """One photo to render: who, in which state, and its position among the photos of its class."""

    identity: Identity
    state: FrameState
    rank_in_class: int


def stills(
    identities: Sequence[Identity], expressions: Sequence[str], per_class: int, seed: int, stream: int
) -> Iterator[Still]:
    """``per_class`` photos of every identity for every expression (apex intensity in 0.7–1.0; neutral 0).

    Deterministic per ``(seed, stream)``; ``rank_in_class`` counts the photos of one expression across
    identities (0, 1, 2, ...), which the writers use to assign splits evenly.
    """
    rng = np.random.default_rng([seed, stream])
    ranks = dict.fromkeys(expressions, 0)
    for identity in identities:
        for expression in expressions:
            for _ in range(per_class):
                intensity = 0.0 if expression == "neutral" else float(rng.uniform(*APEX_INTENSITY))
                yield Still(identity, still_state(rng, expression, intensity), ranks[expression])
                ranks[expression] += 1
