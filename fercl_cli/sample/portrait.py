"""An identity's master portrait: its face, eyes level, at a fixed size and position, plus its shapes.

Frames: *face frame* as in :mod:`fercl_cli.sample.expressions` (eye midpoint at the origin, eye line
along x, one unit = :func:`face_unit`, the inter-ocular distance of a frontal face); *master* pixels of the
``MASTER_SIZE``² portrait, where the face frame maps by ``p * MASTER_IOD + MASTER_EYES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercl_cli.faces import geometry
from fercl_cli.faces.landmarks import JAW, MIRROR, N_LANDMARKS, NOSE_LOWER, eye_centres
from fercl_cli.faces.template import MEAN_SHAPE
from fercl_cli.sample.expressions import mouth_opening, neutral_rest
from fercl_cli.sample.warp import triangulate, warp_piecewise_affine

MASTER_SIZE = 576
MASTER_IOD = 80.0
MASTER_EYES = np.array([(MASTER_SIZE - 1) / 2, 250.0])  # on the vertical midline, so mirroring is exact
# A ring around the head (face frame), outside the jaw and forehead: the mesh is rigid beyond it.
RING_CENTRE = np.array([0.0, 0.45])
RING_RADII = np.array([1.85, 2.3])
RING_POINTS = 20
FOREHEAD_BROWS = np.array([17, 19, 21, 22, 24, 26])
FOREHEAD_RISE = 0.45
# Eye midpoint to the mean of the lower nose points, in IOD, for a frontal face.
_EYE_TO_NOSE = float(np.linalg.norm(MEAN_SHAPE[NOSE_LOWER].mean(axis=0)))
_OPEN_MOUTH = 0.03  # IOD; a wider gap between the inner lips in the photo gets repainted lips


@dataclass(frozen=True)
class Portrait:
    """A face ready to be animated: a neutral-looking master portrait and its shape.

    Attributes:
        image: uint8 [MASTER_SIZE, MASTER_SIZE, 3] RGB master portrait with a closed, level mouth.
        landmarks: float64 [68, 2] face-frame landmarks of ``image`` (its rest shape).
    """

    image: np.ndarray
    landmarks: np.ndarray


def to_master(points: np.ndarray) -> np.ndarray:
    """Face-frame points [..., 2] in master pixels."""
    return np.asarray(points, dtype=np.float64) * MASTER_IOD + MASTER_EYES


def ring() -> np.ndarray:
    """The head ring's points, float64 [RING_POINTS, 2], face frame."""
    angles = np.linspace(0.0, 2 * np.pi, RING_POINTS, endpoint=False)
    return RING_CENTRE + RING_RADII * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def forehead(landmarks: np.ndarray) -> np.ndarray:
    """Points above the brows (float64 [6, 2], face frame) that carry the forehead with the brows."""
    return np.asarray(landmarks, dtype=np.float64)[FOREHEAD_BROWS] - np.array([0.0, FOREHEAD_RISE])


def face_unit(landmarks: np.ndarray) -> float:
    """The face's size unit in the landmarks' pixels: the inter-ocular distance, or for a turned face (whose
    eyes look closer) the eye-to-nose-base distance over its frontal ratio, whichever is larger."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    right, left = eye_centres(landmarks)
    nose = np.linalg.norm(landmarks[NOSE_LOWER].mean(axis=0) - (right + left) / 2)
    return float(max(np.linalg.norm(left - right), nose / _EYE_TO_NOSE))


def _face_frame_matrix(landmarks: np.ndarray) -> np.ndarray:
    """Similarity (2×3) from source pixels to master pixels: the eye midpoint to ``MASTER_EYES``, the eye line
    horizontal, one :func:`face_unit` to ``MASTER_IOD`` pixels."""
    right, left = eye_centres(np.asarray(landmarks, dtype=np.float64))
    angle = np.arctan2(left[1] - right[1], left[0] - right[0])
    scale = MASTER_IOD / face_unit(landmarks)
    cos, sin = scale * np.cos(-angle), scale * np.sin(-angle)
    linear = np.array([[cos, -sin], [sin, cos]])
    middle = (right + left) / 2
    return np.concatenate([linear, (MASTER_EYES - linear @ middle)[:, None]], axis=1)


def _fill_outside(edge: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``edge`` (the photo warped with its border replicated) blurred more the farther a pixel lies
    outside the photo (where ``valid`` [H, W] < 1): an out-of-focus continuation without a visible edge."""
    import cv2

    outside = (valid < 0.999).astype(np.uint8)
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, 5)
    edge = edge.astype(np.float32)
    near = cv2.GaussianBlur(edge, (0, 0), MASTER_IOD / 10)
    far = cv2.GaussianBlur(edge, (0, 0), MASTER_IOD / 2.5)
    a = np.clip(distance / (0.4 * MASTER_IOD), 0, 1)[..., None]
    b = np.clip(distance / (1.5 * MASTER_IOD), 0, 1)[..., None]
    fill = edge * (1 - a) + near * a
    fill = fill * (1 - b) + far * b
    keep = np.clip(valid, 0, 1)[..., None]
    return np.clip(edge * keep + fill * (1 - keep), 0, 255).astype(np.uint8)


def portrait_from_photo(image: np.ndarray, landmarks: np.ndarray) -> Portrait:
    """The master portrait of the face with ``landmarks`` (float [68, 2], source px) in ``image`` (uint8 RGB).

    The face is put eyes-level at the master position, parts outside the photo are filled with a blurred
    continuation of its edge (no mirrored copies of the face appear), and the face is warped to its neutral rest
    shape (:func:`neutral_rest`); a mouth that was open in the photo is repainted as closed lips.
    """
    import cv2

    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks must be [68, 2], got {landmarks.shape}")
    matrix = _face_frame_matrix(landmarks)
    size = (MASTER_SIZE, MASTER_SIZE)
    edge = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ones = np.ones(image.shape[:2], dtype=np.float32)
    valid = cv2.warpAffine(ones, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    face = (geometry.apply(matrix, landmarks) - MASTER_EYES) / MASTER_IOD
    photographed = Portrait(image=_fill_outside(edge, valid), landmarks=face)
    rest = neutral_rest(face)
    rested = reshape(photographed, rest)
    if mouth_opening(face) > _OPEN_MOUTH:
        rested = paint_closed_lips(rested, rest, lip_colour(photographed.image, face))
    return Portrait(image=rested, landmarks=rest)


def mirrored(portrait: Portrait) -> Portrait:
    """The portrait flipped left-right (landmarks relabelled, so index 36 is still the subject's right eye)."""
    landmarks = portrait.landmarks[MIRROR].copy()
    landmarks[:, 0] *= -1
    return Portrait(image=np.ascontiguousarray(portrait.image[:, ::-1]), landmarks=landmarks)


def turn(landmarks: np.ndarray) -> float:
    """How far the face is turned: nose tip x minus the midpoint of the jaw ends, in IOD (0 = frontal;
    negative = nose towards the image left)."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    return float(landmarks[30, 0] - (landmarks[0, 0] + landmarks[16, 0]) / 2)


def _frame_points() -> np.ndarray:
    """Master-pixel points along the portrait's border (fixed mesh anchors)."""
    edge = np.linspace(0, MASTER_SIZE - 1, 5)
    top = np.stack([edge, np.zeros(5)], axis=1)
    bottom = np.stack([edge, np.full(5, MASTER_SIZE - 1.0)], axis=1)
    left = np.stack([np.zeros(3), edge[1:4]], axis=1)
    right = np.stack([np.full(3, MASTER_SIZE - 1.0), edge[1:4]], axis=1)
    return np.concatenate([top, bottom, left, right])


def reshape(portrait: Portrait, target: np.ndarray) -> np.ndarray:
    """``portrait.image`` warped so its landmarks move to ``target`` (face frame [68, 2]); head ring fixed."""
    src_face = np.concatenate([portrait.landmarks, forehead(portrait.landmarks), ring()])
    dst_face = np.concatenate([target, forehead(target), ring()])
    src = np.concatenate([to_master(src_face), _frame_points()])
    dst = np.concatenate([to_master(dst_face), _frame_points()])
    triangles = mesh_triangles(src)
    return warp_piecewise_affine(portrait.image, src, dst, triangles, (MASTER_SIZE, MASTER_SIZE))


def mesh_triangles(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (int32 [T, 3]) over mesh vertices whose first 68 are landmarks (any pixel frame).

    Closed lips put the inner-lip points on top of each other; they are nudged apart (by 1% IOD) for the
    triangulation only, so the mesh keeps cells inside the mouth that can open.
    """
    reference = np.array(points, dtype=np.float64)
    iod = float(np.linalg.norm(np.subtract(*eye_centres(reference[:N_LANDMARKS]))))
    for upper, lower in ((61, 67), (62, 66), (63, 65)):
        if reference[lower, 1] - reference[upper, 1] < 0.02 * iod:
            reference[upper, 1] -= 0.01 * iod
            reference[lower, 1] += 0.01 * iod
    return triangulate(reference)


def face_mask(landmarks: np.ndarray, feather: float) -> np.ndarray:
    """float32 [S, S] master-pixel mask of the face (jaw plus forehead hull), Gaussian-feathered by
    ``feather`` IOD."""
    import cv2

    hull_points = np.concatenate([np.asarray(landmarks)[JAW], forehead(landmarks)])
    hull = cv2.convexHull(np.round(to_master(hull_points)).astype(np.int32))
    mask = np.zeros((MASTER_SIZE, MASTER_SIZE), dtype=np.float32)
    cv2.fillConvexPoly(mask, hull, 1.0)
    return cv2.GaussianBlur(mask, (0, 0), feather * MASTER_IOD)


def blend_portraits(host: Portrait, donor: Portrait, weight: float) -> Portrait:
    """A new face: both faces warped to their weighted mean shape and cross-dissolved inside the face.

    ``weight`` in (0, 1) is the host's share of shape and appearance; outside the face (hair, background)
    the host is kept. The donor is mirrored when that brings its head turn closer to the host's.
    """
    if not 0.0 < weight < 1.0:
        raise ValueError(f"blend weight must be in (0, 1), got {weight}")
    if abs(turn(host.landmarks) + turn(donor.landmarks)) < abs(turn(host.landmarks) - turn(donor.landmarks)):
        donor = mirrored(donor)
    target = weight * host.landmarks + (1 - weight) * donor.landmarks
    a = reshape(host, target).astype(np.float32)
    b = reshape(donor, target).astype(np.float32)
    mask = face_mask(target, feather=0.12)[..., None]
    image = a * (1 - mask) + (weight * a + (1 - weight) * b) * mask
    return Portrait(image=np.clip(np.round(image), 0, 255).astype(np.uint8), landmarks=target)


def lip_colour(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Median RGB (float64 [3]) of the lower lip of ``landmarks`` (face frame) in ``image`` (master).

    Sampled between the outer and inner lower-lip contours: with an open mouth the upper lip is often
    thin and its band holds teeth.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    outer, inner = points[[59, 58, 57, 56, 55]], points[[67, 67, 66, 65, 65]]
    samples = []
    for step in (0.3, 0.45, 0.6):
        pts = np.round(to_master(outer + step * (inner - outer))).astype(int)
        pts = np.clip(pts, 0, MASTER_SIZE - 1)
        samples.append(image[pts[:, 1], pts[:, 0]])
    return np.median(np.concatenate(samples).astype(np.float64), axis=0)


def paint_closed_lips(image: np.ndarray, landmarks: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """``image`` (master) with the lips of ``landmarks`` (face frame, closed mouth) painted in ``colour``.

    Used when the photo's mouth was open: closing it by warping alone leaves teeth in the lips. The upper
    lip is shaded darker than the lower one and the lip line is drawn dark; edges are feathered.
    """
    import cv2

    pts = to_master(landmarks)
    shift = 4
    scale = 1 << shift

    def poly(indices: list[int]) -> np.ndarray:
        return np.round(pts[indices] * scale).astype(np.int32)

    upper = np.zeros(image.shape[:2], dtype=np.float32)
    lower = np.zeros(image.shape[:2], dtype=np.float32)
    cv2.fillPoly(upper, [poly([48, 49, 50, 51, 52, 53, 54, 64, 63, 62, 61, 60])], 1.0, cv2.LINE_AA, shift)
    cv2.fillPoly(lower, [poly([48, 60, 67, 66, 65, 64, 54, 55, 56, 57, 58, 59])], 1.0, cv2.LINE_AA, shift)
    line = np.zeros(image.shape[:2], dtype=np.float32)
    cv2.polylines(line, [poly([60, 61, 62, 63, 64])], False, 1.0, 2, cv2.LINE_AA, shift)
    sigma = 0.02 * MASTER_IOD
    upper, lower, line = (cv2.GaussianBlur(m, (0, 0), sigma)[..., None] for m in (upper, lower, line))
    out = image.astype(np.float32)
    out = out * (1 - upper) + (colour * 0.85) * upper
    out = out * (1 - lower) + (colour * 1.02) * lower
    out = out * (1 - 0.6 * line)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
