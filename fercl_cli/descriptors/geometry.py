"""The weights-free mouth-eye descriptor (``geometry``).

Raw per-frame features, in three parts:

1. measures: 11 expression measurements from the landmarks (mouth opening and width, corner height,
   eye opening, brow raise, brow gap...; see :mod:`fercl_cli.descriptors.measures`);
2. shapes: eye landmarks 36–47 and mouth landmarks 48–67, each centred, scaled to unit RMS radius and
   rotated onto the template's (orthogonal Procrustes);
3. hog: HOG of a grey 64×32 patch over both eyes and brows and of a 48×32 patch over the mouth,
   sampled in the face's own frame (origin at the part, x along the eye line, unit = inter-ocular
   distance), each mean-centred and unit-norm.

Raw features describe the person as much as the expression, so descriptors are the raw features
centred on each identity's mean and standardised (:mod:`fercl_cli.descriptors.standardise`), with
the parts weighted 1 : 0.5 : 0.25, then L2-normalised. A frame whose identity has no other usable
frame has no reference and is flagged like a frame without landmarks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fercl_cli.descriptors import Descriptors
from fercl_cli.descriptors.hog import BLOCK_CELLS, hog, hog_size
from fercl_cli.descriptors.inputs import check_batch
from fercl_cli.descriptors.measures import MEASURES, expression_measures
from fercl_cli.descriptors.standardise import GroupStandardiser
from fercl_cli.faces.landmarks import EYES, MOUTH, eye_centres
from fercl_cli.faces.template import DEFAULT_TEMPLATE, MEAN_SHAPE

PART_WEIGHTS = {"measures": 1.0, "shapes": 0.5, "hog": 0.25}
HOG_CELL_PX = 8
HOG_BINS = 9
# (name, landmark group, patch width × height in px, patch width in inter-ocular units,
#  patch centre offset from the group's centre in inter-ocular units (along, across the eye line)).
PATCHES = (
    ("eyes", EYES, (64, 32), 2.2, (0.0, -0.15)),
    ("mouth", MOUTH, (48, 32), 1.6, (0.0, 0.0)),
)


def _unit_shapes(points: np.ndarray) -> np.ndarray:
    """Complex [N, K] points centred at their mean and scaled to unit RMS radius (zero rows stay zero)."""
    z = points[..., 0] + 1j * points[..., 1]
    z = z - z.mean(axis=-1, keepdims=True)
    rms = np.sqrt((np.abs(z) ** 2).mean(axis=-1, keepdims=True))
    return z / np.where(rms > 0, rms, 1.0)


def shape_features(landmarks: np.ndarray) -> np.ndarray:
    """float32 [N, 64]: Procrustes-normalised eye (12 points) and mouth (20 points) shapes (unit RMS
    radius, rotated onto the template's), x and y interleaved."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    parts = []
    for group in (EYES, MOUTH):
        shapes = _unit_shapes(landmarks[:, group])
        reference = _unit_shapes(MEAN_SHAPE[group][None])[0]
        rotation = (np.conj(shapes) * reference).sum(axis=-1, keepdims=True)
        rotation = rotation / np.where(np.abs(rotation) > 0, np.abs(rotation), 1.0)
        aligned = shapes * rotation
        parts.append(np.stack([aligned.real, aligned.imag], axis=-1).reshape(len(landmarks), -1))
    return np.concatenate(parts, axis=1).astype(np.float32)


def _patch_matrix(
    centre: np.ndarray, axis: np.ndarray, iod: float, size: tuple[int, int], width_iod: float
) -> np.ndarray:
    """Patch→image affine [2, 3] for a patch of ``size`` (w, h) px centred at ``centre``, x along ``axis``."""
    step = width_iod * iod / size[0]
    across = np.array([-axis[1], axis[0]])
    linear = np.stack([axis * step, across * step], axis=1)
    offset = centre - linear @ np.array([(size[0] - 1) / 2, (size[1] - 1) / 2])
    return np.concatenate([linear, offset[:, None]], axis=1)


def part_patches(images: np.ndarray, landmarks: np.ndarray, valid: np.ndarray) -> list[np.ndarray]:
    """Grey uint8 patches [N, h, w], one array per entry of ``PATCHES``, sampled in each face's frame
    (black where ``valid`` is False). Images uint8 [N, H, W, 3] RGB, landmarks [N, 68, 2] in their pixels."""
    import cv2

    landmarks = np.asarray(landmarks, dtype=np.float64)
    patches = [np.zeros((len(images), size[1], size[0]), dtype=np.uint8) for _, _, size, _, _ in PATCHES]
    right, left = eye_centres(landmarks)
    for i in np.flatnonzero(valid):
        grey = cv2.cvtColor(images[i], cv2.COLOR_RGB2GRAY)
        eye_line = left[i] - right[i]
        iod = float(np.linalg.norm(eye_line))
        axis = eye_line / iod
        across = np.array([-axis[1], axis[0]])
        for out, (_, group, size, width_iod, (along, down)) in zip(patches, PATCHES, strict=True):
            centre = landmarks[i, group].mean(axis=0) + iod * (along * axis + down * across)
            out[i] = cv2.warpAffine(
                grey,
                _patch_matrix(centre, axis, iod, size, width_iod),
                size,
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
    return patches


def hog_features(images: np.ndarray, landmarks: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """float32 [N, D_hog]: per part, the patch's HOG mean-centred and scaled to unit norm (zeros where
    ``valid`` is False)."""
    parts = []
    for patches in part_patches(images, landmarks, valid):
        feature = hog(patches, HOG_CELL_PX, HOG_BINS)
        feature -= feature.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(feature, axis=1, keepdims=True)
        parts.append(np.where(valid[:, None] & (norm > 0), feature / np.where(norm > 0, norm, 1.0), 0.0))
    return np.concatenate(parts, axis=1).astype(np.float32)


def raw_features(
    images: np.ndarray,
    landmarks: np.ndarray,
    valid: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw (not yet standardised) features of N frames.

    Args:
        images: uint8 [N, H, W, 3] RGB (aligned crops).
        landmarks: float [N, 68, 2] in image pixels.
        valid: bool [N], False for rows without landmarks (None: all have them).
        progress: called with the number of frames finished after each chunk.
        chunk: frames per chunk.

    Returns:
        float32 [N, raw_size()] (measures, shapes, hog; zeros where unusable) and bool [N] usable.
    """
    images, landmarks, valid = check_batch(images, landmarks, valid)
    values = np.zeros((len(images), raw_size()), dtype=np.float32)
    for start in range(0, len(images), chunk):
        rows = slice(start, start + chunk)
        ok = valid[rows]
        safe = np.where(ok[:, None, None], landmarks[rows], DEFAULT_TEMPLATE.points(images.shape[1])[None])
        geometric = np.concatenate([expression_measures(safe), shape_features(safe)], axis=1)
        values[rows] = np.concatenate(
            [np.where(ok[:, None], geometric, 0.0), hog_features(images[rows], safe, ok)], axis=1
        )
        if progress is not None:
            progress(len(ok))
    return values, valid


def parts() -> tuple[tuple[str, int, float], ...]:
    """``(name, length, weight)`` of the consecutive parts of a raw feature vector."""
    hogs = sum(hog_size(size[1], size[0], HOG_CELL_PX, HOG_BINS) for _, _, size, _, _ in PATCHES)
    lengths = {"measures": len(MEASURES), "shapes": 2 * (len(EYES) + len(MOUTH)), "hog": hogs}
    return tuple((name, lengths[name], weight) for name, weight in PART_WEIGHTS.items())


def raw_size() -> int:
    """Length D of a geometry descriptor (raw and standardised alike)."""
    return sum(length for _, length, _ in parts())


def geometry_descriptors(
    images: np.ndarray,
    landmarks: np.ndarray,
    valid: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> Descriptors:
    """Geometry descriptors of N frames held in memory (a store is done in two streaming passes by
    :func:`fercl_cli.descriptors.describe.describe_store`).

    Args:
        images: uint8 [N, H, W, 3] RGB (aligned crops).
        landmarks: float [N, 68, 2] in image pixels.
        valid: bool [N], False for rows without landmarks (None: all have them).
        groups: int [N] identity of each frame, ids 0..G-1 (None: one group, i.e. plain standardisation).

    Returns:
        :class:`Descriptors` with values float32 [N, raw_size()], unit norm where valid.
    """
    raw, ok = raw_features(images, landmarks, valid)
    groups = np.zeros(len(raw), np.int64) if groups is None else np.asarray(groups, np.int64)
    standardiser = GroupStandardiser(parts(), int(groups.max()) + 1 if len(groups) else 1)
    standardiser.update(raw, ok, groups)
    return standardiser.apply(raw, ok, groups)


def config() -> dict[str, object]:
    """The settings recorded next to stored geometry descriptors."""
    return {
        "kind": "geometry",
        "parts": [{"name": name, "length": length, "weight": weight} for name, length, weight in parts()],
        "measures": list(MEASURES),
        "centred_on": "identity",
        "hog": {"cell_px": HOG_CELL_PX, "block_cells": BLOCK_CELLS, "bins": HOG_BINS, "norm": "L2-Hys"},
        "patches": [
            {"name": name, "size_px": list(size), "width_iod": width, "offset_iod": list(offset)}
            for name, _, size, width, offset in PATCHES
        ],
        "dim": raw_size(),
    }
