"""Expression models: landmark displacements, label codes and valence/arousal values.

All geometry here is in the *face frame*: the midpoint between the eye centres at the origin, the eye
line along x (to the image right), y down, and one unit = the inter-ocular distance (IOD) of a frontal face
(a turned face is measured by its eye-to-nose distance instead, see
:func:`fercl_cli.sample.portrait.face_unit`; "IOD" below means this unit). Displacements are float64
[68, 2] in IOD units at intensity 1 and scale linearly with intensity.

The displacements follow the facial action units that define each prototype expression (Ekman & Friesen's
FACS): e.g. happy = cheek raiser + lip-corner puller (AU6+12), surprise = brow raisers + upper-lid raiser
+ jaw drop (AU1+2+5+26). The amplitudes were set by eye on the source photos, not measured on people.
"""

from __future__ import annotations

import numpy as np

from fercl_cli.faces.landmarks import MIRROR, N_LANDMARKS

# AffectNet's order: the index is AffectNet's expression code.
EXPRESSIONS: tuple[str, ...] = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt")
AFFECTNET_CODE: dict[str, int] = {name: code for code, name in enumerate(EXPRESSIONS)}
# FER2013's 7 classes: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral (no contempt).
FER2013_CODE: dict[str, int] = {
    "anger": 0,
    "disgust": 1,
    "fear": 2,
    "happy": 3,
    "sad": 4,
    "surprise": 5,
    "neutral": 6,
}
# RAF-DB basic's 7 classes: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness, 6 Anger, 7 Neutral.
RAFDB_CODE: dict[str, int] = {
    "surprise": 1,
    "fear": 2,
    "disgust": 3,
    "happy": 4,
    "sad": 5,
    "anger": 6,
    "neutral": 7,
}

# (valence, arousal) at full intensity, placed on Russell's circumplex; a frame's values are these times
# its intensity (neutral is (0, 0)). Chosen, not measured.
VALENCE_AROUSAL: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.0),
    "happy": (0.75, 0.35),
    "sad": (-0.65, -0.3),
    "surprise": (0.15, 0.75),
    "fear": (-0.6, 0.75),
    "disgust": (-0.65, 0.35),
    "anger": (-0.6, 0.7),
    "contempt": (-0.45, 0.25),
}

# Rough depth of each landmark in front of the head's vertical axis, in IOD units (nose tip most, the
# jaw at the ears least); used to fake small yaw and pitch turns with a 2-D warp.
DEPTH = np.zeros(N_LANDMARKS)
DEPTH[0:17] = [0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.9, 0.8, 0.65, 0.5, 0.35, 0.2, 0.1, 0.05]
DEPTH[17:27] = [0.55, 0.75, 0.9, 0.97, 1.0, 1.0, 0.97, 0.9, 0.75, 0.55]
DEPTH[27:36] = [1.0, 1.15, 1.3, 1.5, 1.1, 1.2, 1.3, 1.2, 1.1]
DEPTH[36:48] = [0.6, 0.8, 0.85, 0.8, 0.82, 0.75, 0.8, 0.85, 0.8, 0.6, 0.75, 0.82]
DEPTH[48:60] = [0.85, 1.0, 1.1, 1.15, 1.1, 1.0, 0.85, 1.0, 1.08, 1.1, 1.08, 1.0]
DEPTH[60:68] = [0.85, 1.05, 1.1, 1.05, 0.85, 1.05, 1.08, 1.05]

_INNER_UPPER = (61, 62, 63)
_INNER_LOWER = (67, 66, 65)  # paired with _INNER_UPPER
_OUTER_UPPER_FROM_INNER = {49: 61, 50: 61, 51: 62, 52: 63, 53: 63}
_OUTER_LOWER_FROM_INNER = {59: 67, 58: 67, 57: 66, 56: 65, 55: 65}
_JAW_FOLLOW = {8: 1.0, 7: 0.9, 9: 0.9, 6: 0.7, 10: 0.7, 5: 0.45, 11: 0.45, 4: 0.2, 12: 0.2, 3: 0.05, 13: 0.05}
_NEUTRAL_MOUTH_WIDTH = 0.85


def _symmetric(half: dict[int, tuple[float, float]]) -> np.ndarray:
    """[68, 2] displacements from values given for one side; each point's mirror partner gets (-dx, dy)."""
    out = np.zeros((N_LANDMARKS, 2))
    for index, (dx, dy) in half.items():
        out[index] = (dx, dy)
        partner = int(MIRROR[index])
        out[partner] = (-dx if partner != index else 0.0, dy)
    return out


def _jaw_drop(amount: float) -> dict[int, tuple[float, float]]:
    """Lower lip and chin moving down by ``amount`` (IOD) as the jaw opens; image-left half."""
    points = {index: (0.0, amount * weight) for index, weight in _JAW_FOLLOW.items() if index <= 8}
    points.update(
        {67: (0.0, 0.9 * amount), 66: (0.0, amount), 59: (0.0, 0.75 * amount), 58: (0.0, 0.95 * amount)}
    )
    points.update({57: (0.0, amount)})
    return points


def _build() -> dict[str, np.ndarray]:
    models: dict[str, np.ndarray] = {"neutral": np.zeros((N_LANDMARKS, 2))}
    # AU6 + AU12 (+ AU25): corners pulled out and up, cheeks raise the lower lids, lips part a little.
    models["happy"] = _symmetric(
        {
            48: (-0.1, -0.14),
            60: (-0.09, -0.13),
            49: (-0.05, -0.06),
            50: (-0.01, -0.03),
            51: (0.0, -0.025),
            61: (-0.02, -0.04),
            62: (0.0, -0.03),
            59: (-0.05, -0.01),
            58: (-0.02, 0.03),
            57: (0.0, 0.04),
            67: (-0.02, 0.05),
            66: (0.0, 0.06),
            40: (0.0, -0.035),
            41: (0.0, -0.035),
            31: (-0.02, -0.015),
            3: (-0.01, -0.02),
            4: (-0.01, -0.02),
        }
    )
    # AU1 + AU4 + AU15 (+ AU17): inner brows up and together, corners down, chin pushed up.
    models["sad"] = _symmetric(
        {
            21: (0.03, -0.1),
            20: (0.015, -0.05),
            19: (0.0, -0.01),
            18: (0.0, 0.02),
            17: (0.0, 0.04),
            37: (0.0, 0.03),
            38: (0.0, 0.025),
            48: (0.03, 0.09),
            60: (0.025, 0.08),
            49: (0.01, 0.035),
            59: (0.01, 0.03),
            58: (0.0, -0.01),
            57: (0.0, -0.025),
            67: (0.0, -0.01),
            8: (0.0, -0.025),
        }
    )
    # AU1 + AU2 + AU5 + AU26: all of the brows up, eyes wide, jaw dropped, lips rounded.
    surprise = {
        17: (-0.01, -0.13),
        18: (0.0, -0.17),
        19: (0.0, -0.19),
        20: (0.0, -0.18),
        21: (0.0, -0.16),
        37: (0.0, -0.07),
        38: (0.0, -0.07),
        40: (0.0, 0.02),
        41: (0.0, 0.02),
        61: (0.0, -0.02),
        62: (0.0, -0.025),
        49: (0.02, -0.015),
        50: (0.0, -0.02),
        51: (0.0, -0.02),
    }
    surprise.update(_jaw_drop(0.4))
    surprise.update({48: (0.1, 0.22), 60: (0.11, 0.21)})
    models["surprise"] = _symmetric(surprise)
    # AU1 + AU2 + AU4 + AU5 + AU20 + AU25: brows up and drawn together, eyes wide, lips stretched sideways.
    fear = {
        21: (0.035, -0.1),
        20: (0.02, -0.09),
        19: (0.01, -0.07),
        18: (0.0, -0.05),
        17: (0.0, -0.03),
        37: (0.0, -0.07),
        38: (0.0, -0.07),
        40: (0.0, -0.01),
        41: (0.0, -0.01),
    }
    fear.update(_jaw_drop(0.12))
    fear.update({48: (-0.12, 0.05), 60: (-0.11, 0.05), 49: (-0.05, 0.0), 59: (-0.05, 0.1)})
    models["fear"] = _symmetric(fear)
    # AU9 + AU10 (+ AU4): nose wrinkled, upper lip raised, brows lowered.
    models["disgust"] = _symmetric(
        {
            21: (0.03, 0.06),
            20: (0.02, 0.05),
            19: (0.0, 0.03),
            31: (-0.02, -0.04),
            32: (0.0, -0.03),
            33: (0.0, -0.025),
            49: (0.0, -0.09),
            50: (0.0, -0.11),
            51: (0.0, -0.09),
            61: (0.0, -0.08),
            62: (0.0, -0.07),
            48: (0.01, 0.02),
            60: (0.01, 0.01),
            59: (0.0, 0.02),
            58: (0.0, 0.03),
            57: (0.0, 0.03),
            67: (0.0, 0.01),
            40: (0.0, -0.04),
            41: (0.0, -0.04),
            37: (0.0, 0.015),
            38: (0.0, 0.015),
        }
    )
    # AU4 + AU5 + AU7 + AU23/24: brows down and together, lids tight, lips pressed.
    models["anger"] = _symmetric(
        {
            21: (0.06, 0.1),
            20: (0.04, 0.08),
            19: (0.02, 0.05),
            18: (0.0, 0.02),
            17: (0.0, -0.01),
            37: (0.0, 0.025),
            38: (0.01, 0.035),
            40: (0.0, -0.035),
            41: (0.0, -0.035),
            31: (-0.025, 0.0),
            48: (0.04, 0.025),
            60: (0.035, 0.02),
            49: (0.01, 0.02),
            50: (0.0, 0.025),
            51: (0.0, 0.025),
            59: (0.0, -0.03),
            58: (0.0, -0.035),
            57: (0.0, -0.035),
            61: (0.0, 0.015),
            62: (0.0, 0.015),
            67: (0.0, -0.01),
            66: (0.0, -0.01),
        }
    )
    # AU12 + AU14 on one side only (the image-right corner).
    contempt = np.zeros((N_LANDMARKS, 2))
    contempt[[54, 64]] = (0.07, -0.08)
    contempt[[53, 55]] = (0.03, -0.035)
    contempt[[63, 65]] = (0.02, -0.03)
    contempt[[52, 56]] = (0.01, -0.01)
    contempt[[14, 13]] = (0.01, -0.01)
    models["contempt"] = contempt
    return models


_MODELS = _build()


def displacement(expression: str, intensity: float) -> np.ndarray:
    """Landmark displacement (float64 [68, 2], IOD units, face frame) of ``expression`` at ``intensity``."""
    if expression not in _MODELS:
        raise ValueError(f"unknown expression {expression!r}; known: {', '.join(EXPRESSIONS)}")
    if not 0.0 <= intensity <= 1.0:
        raise ValueError(f"intensity must be in [0, 1], got {intensity}")
    return _MODELS[expression] * float(intensity)


def speech_displacement(opening: float) -> np.ndarray:
    """Displacement (float64 [68, 2], IOD units) of a talking mouth opened by ``opening`` IOD (jaw drop)."""
    if opening < 0:
        raise ValueError(f"opening must be >= 0, got {opening}")
    out = _symmetric(_jaw_drop(opening))
    out[[48, 54, 60, 64], 1] += 0.35 * opening
    out[[48, 60], 0] += 0.1 * opening
    out[[54, 64], 0] -= 0.1 * opening
    return out


def valence_arousal(expression: str, intensity: float) -> tuple[float, float]:
    """``(valence, arousal)`` in [-1, 1] of ``expression`` at ``intensity`` in [0, 1]."""
    if expression not in VALENCE_AROUSAL:
        raise ValueError(f"unknown expression {expression!r}; known: {', '.join(EXPRESSIONS)}")
    valence, arousal = VALENCE_AROUSAL[expression]
    return valence * float(intensity), arousal * float(intensity)


def mouth_opening(landmarks: np.ndarray) -> float:
    """Mean vertical gap between the inner lips (points 61-63 and 67-65), in the landmarks' units."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    return float(np.mean(landmarks[list(_INNER_LOWER), 1] - landmarks[list(_INNER_UPPER), 1]))


def neutral_rest(landmarks: np.ndarray) -> np.ndarray:
    """The face's approximately neutral shape (face frame [68, 2]) from its photographed shape.

    Source photos often smile. The rest shape closes the inner lips (the jaw follows), levels the mouth
    corners with the lip line, thins lips thicker than 0.1 IOD (upper) or 0.16 IOD (lower) (an open mouth's
    teeth sit inside the detected lips) and narrows a mouth wider than 0.85 IOD; brows and eyes are kept. Every
    expression of a clip is a displacement from this rest shape.
    """
    rest = np.array(landmarks, dtype=np.float64)
    if rest.shape != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks must be [68, 2], got {rest.shape}")
    lower_shift = {}
    for upper, lower in zip(_INNER_UPPER, _INNER_LOWER, strict=True):
        gap = max(0.0, rest[lower, 1] - rest[upper, 1])
        rest[upper, 1] += gap / 2
        rest[lower, 1] -= gap / 2
        lower_shift[lower] = -gap / 2
        lower_shift[upper] = gap / 2
    for outer, inner in {**_OUTER_UPPER_FROM_INNER, **_OUTER_LOWER_FROM_INNER}.items():
        rest[outer, 1] += lower_shift[inner]
    chin_lift = lower_shift[66]
    for index, weight in _JAW_FOLLOW.items():
        rest[index, 1] += weight * chin_lift
    lip_line = float(rest[list(_INNER_UPPER), 1].mean())
    for corners, neighbours in (((48, 60), (49, 59)), ((54, 64), (53, 55))):
        lift = lip_line + 0.02 - rest[list(corners), 1].mean()
        rest[list(corners), 1] += lift
        rest[list(neighbours), 1] += 0.5 * lift
    for outer, limit in ((49, -0.08), (50, -0.1), (51, -0.1), (52, -0.1), (53, -0.08)):
        rest[outer, 1] = max(rest[outer, 1], lip_line + limit)
    for outer, limit in ((55, 0.12), (56, 0.15), (57, 0.16), (58, 0.15), (59, 0.12)):
        rest[outer, 1] = min(rest[outer, 1], lip_line + limit)
    width = rest[54, 0] - rest[48, 0]
    if width > _NEUTRAL_MOUTH_WIDTH:
        pull = (width - _NEUTRAL_MOUTH_WIDTH) / 2
        rest[[48, 60], 0] += pull
        rest[[54, 64], 0] -= pull
        rest[[49, 59], 0] += 0.5 * pull
        rest[[53, 55], 0] -= 0.5 * pull
    return rest
