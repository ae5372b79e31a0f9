"""Expression measurements from 68 landmarks, in the face's own frame (FACS-like, weights-free).

The face frame has its origin midway between the eye centres, x along the eye line (towards the
subject's left eye, i.e. image right in a frontal face), y perpendicular (down), and one unit = the
inter-ocular distance, so position, scale and in-plane rotation drop out.
"""

from __future__ import annotations

import numpy as np

from fercl_cli.faces.landmarks import eye_centres

MEASURES = (
    "mouth_open",  # mean gap between the inner lips (61–67, 62–66, 63–65)
    "mouth_width",  # corner to corner (48–54)
    "mouth_corners",  # corners' height below the lips' centre line: smiles raise, frowns lower them
    "upper_lip_to_nose",  # nose base (33) to upper lip (51)
    "lip_height",  # upper lip (51) to lower lip (57), outer contour
    "right_eye_open",  # eyelid gap / eye width, subject's right eye (36–41)
    "left_eye_open",  # the same for the left eye (42–47)
    "right_brow_raise",  # eye centre minus brow centre height (17–21 over 36–41)
    "left_brow_raise",  # the same on the left (22–26 over 42–47)
    "inner_brow_raise",  # inner brow ends (21, 22) above the inner eye corners (39, 42)
    "brow_gap",  # distance between the inner brow ends (21–22): frowns pull them together
)


def face_frame(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks [N, 68, 2] (pixels) in face-frame units (float64 [N, 68, 2]); needs distinct eye centres."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    right, left = eye_centres(landmarks)
    axis = left - right
    iod = np.linalg.norm(axis, axis=-1, keepdims=True)
    axis = axis / iod
    down = np.stack([-axis[:, 1], axis[:, 0]], axis=-1)
    centred = landmarks - ((left + right) / 2)[:, None]
    return (
        np.stack([(centred * axis[:, None]).sum(-1), (centred * down[:, None]).sum(-1)], axis=-1)
        / iod[:, None]
    )


def expression_measures(landmarks: np.ndarray) -> np.ndarray:
    """float32 [N, 11] measurements named in :data:`MEASURES` (inter-ocular units, or ratios)."""
    p = face_frame(landmarks)

    def dist(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(p[:, a] - p[:, b], axis=-1)

    y = p[..., 1]
    out = np.stack(
        [
            (dist(61, 67) + dist(62, 66) + dist(63, 65)) / 3,
            dist(48, 54),
            y[:, [48, 54]].mean(axis=1) - (y[:, 51] + y[:, 57]) / 2,
            y[:, 51] - y[:, 33],
            y[:, 57] - y[:, 51],
            (dist(37, 41) + dist(38, 40)) / (2 * np.maximum(dist(36, 39), 1e-6)),
            (dist(43, 47) + dist(44, 46)) / (2 * np.maximum(dist(42, 45), 1e-6)),
            y[:, 36:42].mean(axis=1) - y[:, 17:22].mean(axis=1),
            y[:, 42:48].mean(axis=1) - y[:, 22:27].mean(axis=1),
            y[:, [39, 42]].mean(axis=1) - y[:, [21, 22]].mean(axis=1),
            dist(21, 22),
        ],
        axis=1,
    )
    return out.astype(np.float32)
