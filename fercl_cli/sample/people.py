"""Testbed people: each a new blend of several real faces, with its own face shape and skin tone.

Every person draws, from a generator seeded by ``(seed, purpose, index)``: 2–4 distinct real parents
(all of them when fewer exist), Dirichlet blend weights, a shape change (face width, jaw length, brow
height, eye size, nose length, mouth width) and a skin-tone change (brightness and per-channel gains inside
the face). The parents are warped to the weighted mean shape plus the change and cross-dissolved inside the
face (the main parent's hair is kept; backgrounds are replaced per clip by :mod:`fercl_cli.sample.scenes`).
A person is kept only if the face backend detects the neutral rendering (up to a few redraws).
"""

from __future__ import annotations

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.faces.types import FaceBackend
from fercl_cli.sample.identities import DERIVED, Identity, _detectable
from fercl_cli.sample.portrait import Portrait, face_mask, mirrored, reshape, turn

_TRIES = 6


def shape_change(landmarks: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """``landmarks`` (face frame [68, 2]) with a random person-level shape change, and a short description."""
    out = np.array(landmarks, dtype=np.float64)
    width = rng.uniform(0.92, 1.08)
    jaw = rng.uniform(-0.08, 0.1)
    brows = rng.uniform(-0.05, 0.05)
    eyes = rng.uniform(0.85, 1.15)
    nose = rng.uniform(0.92, 1.1)
    mouth = rng.uniform(0.9, 1.1)
    out[0:17, 0] *= width
    below = np.clip(out[0:17, 1] / max(out[8, 1], 1e-6), 0, 1)
    out[0:17, 1] += jaw * below  # longer or shorter chin, the jaw ends fixed
    out[48:68, 1] += 0.5 * jaw
    out[17:27, 1] += brows
    for eye in (slice(36, 42), slice(42, 48)):
        centre = out[eye].mean(axis=0)
        out[eye] = centre + eyes * (out[eye] - centre)
    out[27:36, 1] = out[27, 1] + nose * (out[27:36, 1] - out[27, 1])
    mouth_centre = out[48:68].mean(axis=0)
    out[48:68, 0] = mouth_centre[0] + mouth * (out[48:68, 0] - mouth_centre[0])
    described = f"width {width:.2f}, jaw {jaw:+.2f}, brows {brows:+.2f}, eyes {eyes:.2f}, nose {nose:.2f}"
    return out, described + f", mouth {mouth:.2f}"


def blend_many(portraits: list[Portrait], weights: np.ndarray, target: np.ndarray) -> np.ndarray:
    """float32 [S, S, 3]: every portrait warped to ``target`` and cross-dissolved by ``weights`` inside the
    face; outside it the first (main) parent."""
    warped = [reshape(p, target).astype(np.float32) for p in portraits]
    inside = sum(w * img for w, img in zip(weights, warped, strict=True))
    mask = face_mask(target, feather=0.12)[..., None]
    return warped[0] * (1 - mask) + inside * mask


def make_person(reals: list[Identity], rng: np.random.Generator, name: str, backend: FaceBackend) -> Identity:
    """One testbed person (see the module docstring) named ``name``."""
    if len(reals) < 2:
        raise FerclError("the testbed profile blends several real faces and needs at least two")
    for _ in range(_TRIES):
        k = int(rng.integers(2, min(4, len(reals)) + 1))
        chosen = [reals[i] for i in rng.choice(len(reals), size=k, replace=False)]
        weights = rng.dirichlet(np.full(k, 1.5))
        order = np.argsort(-weights)
        chosen, weights = [chosen[i] for i in order], weights[order]
        host = chosen[0].portrait
        portraits = [host]
        for parent in chosen[1:]:
            p = parent.portrait
            if abs(turn(host.landmarks) + turn(p.landmarks)) < abs(turn(host.landmarks) - turn(p.landmarks)):
                p = mirrored(p)
            portraits.append(p)
        mean = sum(w * p.landmarks for w, p in zip(weights, portraits, strict=True))
        target, shape = shape_change(mean, rng)
        image = blend_many(portraits, weights, target)
        gain = rng.uniform(0.78, 1.18) * rng.uniform(0.93, 1.07, size=3)
        skin = face_mask(target, feather=0.2)[..., None]
        image = image * (1 - skin) + image * gain.astype(np.float32) * skin
        portrait = Portrait(image=np.clip(np.round(image), 0, 255).astype(np.uint8), landmarks=target)
        if not _detectable(portrait, backend):
            continue
        parents = ", ".join(f"{c.name} {w:.2f}" for c, w in zip(chosen, weights, strict=True))
        skin_text = "/".join(f"{g:.2f}" for g in gain)
        return Identity(
            name=name,
            kind=DERIVED,
            gender=chosen[0].gender,
            nationality="Unknown",
            source=f"blend({parents}; {shape}; skin {skin_text})",
            portrait=portrait,
        )
    raise FerclError(f"could not make a detectable blended face for {name} in {_TRIES} tries")
