"""The people of the sample corpus: real faces found in the source photos, and derived blends of them.

Real identities are split between the pretraining clips (VoxCeleb layout) and the evaluation sets
(AffectNet, FER2013, LFW) in proportion to how many each asks for, so that the two groups share no real
person whenever there are at least two real faces. Each group's derived identities are blends of its own
real faces when it has two or more, otherwise of all real faces (then the groups share parents).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.faces.types import FaceBackend
from fercl_cli.sample.motion import NEUTRAL_STATE
from fercl_cli.sample.photos import FETCH_HINT, SourcePhoto
from fercl_cli.sample.portrait import (
    Portrait,
    blend_portraits,
    portrait_from_photo,
    turn,
)
from fercl_cli.sample.render import View, render

REAL = "real"
DERIVED = "derived"
# Blend weights tried in turn for every pair before random weights are drawn.
_WEIGHT_TIERS = (0.5, 0.35, 0.65)
_MAX_TURN_DIFFERENCE = 0.3  # IOD


@dataclass(frozen=True)
class Identity:
    """One person of the corpus.

    Attributes:
        name: VGGFace1-style folder name (``First_Last``).
        kind: ``"real"`` or ``"derived"``.
        gender: ``"m"`` or ``"f"`` (a derived identity takes its main parent's).
        nationality: as known for real people, else ``"Unknown"``.
        source: where the face comes from: ``package:file#n`` for a real face (n-th face from the left), or
            ``blend(A 0.50, B 0.50)`` for a derived one.
        portrait: the animated face.
    """

    name: str
    kind: str
    gender: str
    nationality: str
    source: str
    portrait: Portrait


def real_identities(
    photos: tuple[SourcePhoto, ...], backend: FaceBackend
) -> tuple[list[Identity], list[str]]:
    """The real faces of ``photos`` (each photo's expected number of faces, best detector scores, numbered
    left to right), and notes on photos where fewer faces were found."""
    found: list[Identity] = []
    notes: list[str] = []
    for photo in photos:
        faces = backend.detect(photo.image)[: len(photo.people)]
        if len(faces) < len(photo.people):
            notes.append(f"{photo.key}: {len(faces)} of {len(photo.people)} faces detected")
        faces = sorted(faces, key=lambda f: float(f.box[0] + f.box[2]))
        people = photo.people if len(faces) == len(photo.people) else photo.people[: len(faces)]
        for number, (face, person) in enumerate(zip(faces, people, strict=True), start=1):
            found.append(
                Identity(
                    name=person.name,
                    kind=REAL,
                    gender=person.gender,
                    nationality=person.nationality,
                    source=f"{photo.key}#{number}",
                    portrait=portrait_from_photo(photo.image, face.landmarks),
                )
            )
    return found, notes


_CHECK_VIEW = View(width=224, height=224, iod=50.0, eye_x=112.0, eye_y=98.0)


def _detectable(portrait: Portrait, backend: FaceBackend) -> bool:
    """Whether the backend finds the face, centred where it should be, in a neutral 224×224 rendering (the
    quality gate for blends)."""
    expected = np.array([_CHECK_VIEW.eye_x, _CHECK_VIEW.eye_y + 0.5 * _CHECK_VIEW.iod])
    for face in backend.detect(render(portrait, NEUTRAL_STATE, _CHECK_VIEW).image):
        centre = (face.box[:2] + face.box[2:]) / 2
        if np.linalg.norm(centre - expected) < 0.6 * _CHECK_VIEW.iod:
            return True
    return False


def turn_difference(a: Identity, b: Identity) -> float:
    """Difference of head turn (IOD) between two faces, allowing one to be mirrored."""
    ta, tb = turn(a.portrait.landmarks), turn(b.portrait.landmarks)
    return min(abs(ta - tb), abs(ta + tb))


def _candidates(
    parents: list[Identity], rng: np.random.Generator
) -> Iterator[tuple[Identity, Identity, float]]:
    """Endless (host, donor, weight) blend candidates.

    Pairs whose head turns match (within ``_MAX_TURN_DIFFERENCE``) come first, at each weight tier; then
    the other pairs, closest turns first; then random weights over the matching pairs (all pairs if none
    match). Blending a frontal face with a turned one ghosts the features.
    """
    pairs = list(combinations(range(len(parents)), 2))
    pairs = [pairs[k] for k in rng.permutation(len(pairs))]
    difference = {pair: turn_difference(parents[pair[0]], parents[pair[1]]) for pair in pairs}
    matching = [pair for pair in pairs if difference[pair] <= _MAX_TURN_DIFFERENCE]
    others = sorted((pair for pair in pairs if pair not in matching), key=difference.__getitem__)
    for group in (matching, others):
        for weight in _WEIGHT_TIERS:
            for i, j in group:
                host, donor = (i, j) if weight >= 0.5 else (j, i)
                yield parents[host], parents[donor], max(weight, 1 - weight)
    pool = matching or pairs
    while True:
        i, j = pool[int(rng.integers(len(pool)))]
        yield parents[i], parents[j], float(rng.uniform(0.5, 0.8))


def derived_identities(
    parents: list[Identity], count: int, rng: np.random.Generator, backend: FaceBackend, first_number: int
) -> list[Identity]:
    """``count`` blends of ``parents`` (at least two) that the backend detects, named ``Derived_NN``."""
    if count <= 0:
        return []
    if len(parents) < 2:
        raise ValueError("derived identities need at least two parents")
    out: list[Identity] = []
    tried = 0
    for host, donor, weight in _candidates(parents, rng):
        if len(out) == count:
            break
        tried += 1
        if tried > 20 * count + 20:
            raise FerclError(
                f"could only derive {len(out)} of {count} detectable blended faces; ask for fewer"
            )
        portrait = blend_portraits(host.portrait, donor.portrait, weight)
        if not _detectable(portrait, backend):
            continue
        out.append(
            Identity(
                name=f"Derived_{first_number + len(out):02d}",
                kind=DERIVED,
                gender=host.gender,
                nationality="Unknown",
                source=f"blend({host.name} {weight:.2f}, {donor.name} {1 - weight:.2f})",
                portrait=portrait,
            )
        )
    return out


@dataclass(frozen=True)
class Cast:
    """Who appears where: ``pretraining`` (VoxCeleb clips) and ``evaluation`` (AffectNet, FER2013, LFW)."""

    pretraining: list[Identity]
    evaluation: list[Identity]
    notes: list[str]


def cast(
    reals: list[Identity],
    n_pretraining: int,
    n_evaluation: int,
    rng: np.random.Generator,
    backend: FaceBackend,
) -> Cast:
    """Split ``reals`` (shuffled by ``rng``) between the groups and fill each with derived identities."""
    if not reals:
        raise FerclError(
            "no faces found in the package photos; pip install scikit-image matplotlib (the dev extra) "
            f"and/or {FETCH_HINT}"
        )
    total = n_pretraining + n_evaluation
    if len(reals) == 1 and total > 1:
        raise FerclError(
            f"only one real face was found ({reals[0].source}) and derived faces need two; install "
            f"scikit-image and matplotlib (the dev extra), or {FETCH_HINT}"
        )
    order = [reals[i] for i in rng.permutation(len(reals))]
    if len(order) >= total:
        n_eval_real = n_evaluation
    else:
        n_eval_real = min(n_evaluation, max(1, round(len(order) * n_evaluation / total)), len(order) - 1)
    n_pre_real = min(n_pretraining, len(order) - n_eval_real)
    pre_real = order[:n_pre_real]
    eval_real = order[n_pre_real : n_pre_real + n_eval_real]
    notes: list[str] = []
    groups = []
    number = 1
    for label, real, wanted in (
        ("pretraining", pre_real, n_pretraining),
        ("evaluation", eval_real, n_evaluation),
    ):
        parents = real if len(real) >= 2 else reals
        if wanted > len(real) and parents is reals:
            notes.append(
                f"{label} identities derive from all real faces (the group has {len(real)} of its own)"
            )
        derived = derived_identities(parents, wanted - len(real), rng, backend, number)
        number += len(derived)
        groups.append(real + derived)
    return Cast(pretraining=groups[0], evaluation=groups[1], notes=notes)
