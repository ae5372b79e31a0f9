"""Per-clip scenes for the testbed profile: a background and clothing drawn independently of the person.

A :class:`Scene` is composited behind a person's head in the master portrait (face frame, see
:mod:`fercl_cli.sample.portrait`): inside a feathered head-and-neck mask the person's own pixels (face and
hair) are kept, outside it the scene is painted: a two-colour linear gradient with a few soft blobs, and a
torso (clothing) below the neck in a colour and stripe pattern of its own. Everything is drawn from the
generator the caller passes, so a scene can be tied to a clip (the testbed) or to a person (the
deliberately bad testbed the gate tests use).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercl_cli.sample.portrait import MASTER_EYES, MASTER_IOD, MASTER_SIZE, Portrait

# Head ellipse (face frame, IOD): covers the face, forehead and most hair; the neck is a band below it.
HEAD_CENTRE = np.array([0.0, 0.15])
HEAD_RADII = np.array([1.15, 1.65])
NECK_HALF_WIDTH = 0.45
NECK_BOTTOM = 2.35
TORSO_TOP = 2.15  # face-frame y where the clothing starts


@dataclass(frozen=True)
class Scene:
    """One clip's background and clothing (colours as RGB in [0, 255]).

    Attributes:
        background: two colours of the backdrop gradient.
        angle: direction of the gradient, radians.
        blobs: soft blobs ``(x, y, radius, r, g, b)`` in face-frame units.
        clothing: the torso colour; ``stripes``: stripe period in IOD (0 = plain) and ``stripe_angle``.
    """

    background: tuple[tuple[float, float, float], tuple[float, float, float]]
    angle: float
    blobs: tuple[tuple[float, float, float, float, float, float], ...]
    clothing: tuple[float, float, float]
    stripes: float
    stripe_angle: float

    def describe(self) -> dict[str, object]:
        """Ground-truth columns naming the scene (hex colours)."""

        def hexc(c: tuple[float, float, float]) -> str:
            return "#" + "".join(f"{int(round(v)):02x}" for v in c)

        return {
            "background": f"{hexc(self.background[0])}-{hexc(self.background[1])}",
            "clothing": hexc(self.clothing),
        }


def _colour(rng: np.random.Generator) -> tuple[float, float, float]:
    import colorsys

    h, s, v = rng.uniform(0, 1), rng.uniform(0.15, 0.85), rng.uniform(0.25, 0.95)
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return (255 * r, 255 * g, 255 * b)


def random_scene(rng: np.random.Generator) -> Scene:
    """A scene with every colour and shape drawn from ``rng``."""
    blobs = tuple(
        (
            float(rng.uniform(-3.5, 3.5)),
            float(rng.uniform(-3.0, 3.5)),
            float(rng.uniform(0.4, 1.5)),
            *_colour(rng),
        )
        for _ in range(int(rng.integers(2, 6)))
    )
    return Scene(
        background=(_colour(rng), _colour(rng)),
        angle=float(rng.uniform(0, 2 * np.pi)),
        blobs=blobs,
        clothing=_colour(rng),
        stripes=float(rng.choice([0.0, rng.uniform(0.25, 0.7)])),
        stripe_angle=float(rng.uniform(0, np.pi)),
    )


def _grid() -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:MASTER_SIZE, 0:MASTER_SIZE].astype(np.float32)
    return (xs - MASTER_EYES[0]) / MASTER_IOD, (ys - MASTER_EYES[1]) / MASTER_IOD


def head_mask() -> np.ndarray:
    """float32 [S, S] master-pixel mask (1 = the person's own pixels): head ellipse plus neck, feathered."""
    import cv2

    x, y = _grid()
    head = ((x - HEAD_CENTRE[0]) / HEAD_RADII[0]) ** 2 + ((y - HEAD_CENTRE[1]) / HEAD_RADII[1]) ** 2 <= 1.0
    neck = (np.abs(x) <= NECK_HALF_WIDTH) & (y >= 0.8) & (y <= NECK_BOTTOM)
    mask = (head | neck).astype(np.float32)
    return cv2.GaussianBlur(mask, (0, 0), 0.08 * MASTER_IOD)


def scene_image(scene: Scene) -> np.ndarray:
    """float32 [S, S, 3] master-pixel backdrop with the torso painted on."""
    import cv2

    x, y = _grid()
    along = np.cos(scene.angle) * x + np.sin(scene.angle) * y
    t = np.clip((along + 4.0) / 8.0, 0, 1)[..., None]
    image = (1 - t) * np.asarray(scene.background[0], np.float32) + t * np.asarray(
        scene.background[1], np.float32
    )
    for bx, by, radius, *colour in scene.blobs:
        a = np.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * radius**2))[..., None] * 0.7
        image = image * (1 - a) + np.asarray(colour, np.float32) * a
    torso = ((x / 2.4) ** 2 + ((y - 4.4) / 2.3) ** 2 <= 1.0) & (y >= TORSO_TOP)
    cloth = np.broadcast_to(np.asarray(scene.clothing, np.float32), image.shape).copy()
    if scene.stripes > 0:
        phase = (np.cos(scene.stripe_angle) * x + np.sin(scene.stripe_angle) * y) / scene.stripes
        cloth *= (0.75 + 0.25 * (np.sin(2 * np.pi * phase) > 0))[..., None]
    a = cv2.GaussianBlur(torso.astype(np.float32), (0, 0), 0.05 * MASTER_IOD)[..., None]
    return (image * (1 - a) + cloth * a).astype(np.float32)


def composite(portrait: Portrait, scene: Scene, mask: np.ndarray | None = None) -> Portrait:
    """``portrait`` with everything outside its head and neck replaced by ``scene``."""
    m = (head_mask() if mask is None else mask)[..., None]
    image = portrait.image.astype(np.float32) * m + scene_image(scene) * (1 - m)
    return Portrait(image=np.clip(np.round(image), 0, 255).astype(np.uint8), landmarks=portrait.landmarks)
