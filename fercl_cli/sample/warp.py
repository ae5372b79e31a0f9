"""Piecewise-affine image warps driven by corresponding point sets (OpenCV).

Coordinates are pixels, x to the right, y down, pixel centres at integer positions (OpenCV convention).
"""

from __future__ import annotations

import cv2
import numpy as np

_SUBPIXEL_BITS = 4


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles over ``points`` (float [P, 2]) as int32 [T, 3] indices into ``points``.

    Raises ``ValueError`` when two points coincide (they would share a vertex and break the mesh).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
        raise ValueError(f"points must have shape [P>=3, 2], got {points.shape}")
    rounded = np.round(points, 3)
    if len(np.unique(rounded, axis=0)) != len(points):
        raise ValueError("points contain duplicates; a mesh needs distinct vertices")
    lo = points.min(axis=0) - 1.0
    hi = points.max(axis=0) + 1.0
    subdiv = cv2.Subdiv2D((float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])))
    for x, y in points:
        subdiv.insert((float(x), float(y)))
    corners = np.asarray(subdiv.getTriangleList(), dtype=np.float64).reshape(-1, 3, 1, 2)
    dist = np.linalg.norm(corners - points[None, None, :, :], axis=3)  # [T, 3, P]
    index = dist.argmin(axis=2)
    exact = np.take_along_axis(dist, index[..., None], axis=2)[..., 0].max(axis=1) < 1e-3
    distinct = (index[:, 0] != index[:, 1]) & (index[:, 1] != index[:, 2]) & (index[:, 0] != index[:, 2])
    return index[exact & distinct].astype(np.int32).reshape(-1, 3)


def _inverse_affines(
    src: np.ndarray, dst: np.ndarray, triangles: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-triangle affine maps dst -> src as float64 [T, 2, 3], plus a bool [T] mask of usable triangles."""
    d = dst[triangles]  # [T, 3, 2]
    s = src[triangles]
    dh = np.concatenate([d, np.ones((len(triangles), 3, 1))], axis=2)  # [T, 3, 3]
    det = np.linalg.det(dh)
    ok = np.abs(det) > 1e-6
    affines = np.zeros((len(triangles), 2, 3))
    if ok.any():
        # Solve dh @ A^T = s for A^T [3, 2] per triangle.
        affines[ok] = np.linalg.solve(dh[ok], s[ok]).transpose(0, 2, 1)
    return affines, ok


def warp_piecewise_affine(
    image: np.ndarray,
    src_points: np.ndarray,
    dst_points: np.ndarray,
    triangles: np.ndarray,
    out_size: tuple[int, int],
) -> np.ndarray:
    """Warp ``image`` so that each ``src_points[i]`` lands on ``dst_points[i]``.

    Args:
        image: uint8 [H, W, C] or [H, W] source image.
        src_points: float [P, 2] positions in ``image`` pixels.
        dst_points: float [P, 2] positions in output pixels; the triangles should cover the output frame
            (include its corners) or uncovered pixels are sampled with the identity map.
        triangles: int [T, 3] vertex indices, the same mesh on both sides (see :func:`triangulate`).
        out_size: output ``(width, height)`` in pixels.

    Returns:
        The warped image, same dtype and channels as ``image``, shape [height, width, ...]. Each output pixel
        is sampled bilinearly from the source through the inverse affine map of the triangle that covers it;
        samples outside the source are reflected at its border.
    """
    src = np.asarray(src_points, dtype=np.float64)
    dst = np.asarray(dst_points, dtype=np.float64)
    triangles = np.asarray(triangles, dtype=np.int32)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2:
        raise ValueError(f"src_points and dst_points must both be [P, 2], got {src.shape} and {dst.shape}")
    width, height = int(out_size[0]), int(out_size[1])
    if width <= 0 or height <= 0:
        raise ValueError(f"out_size must be positive, got {out_size}")
    affines, ok = _inverse_affines(src, dst, triangles)
    index = np.full((height, width), -1, dtype=np.int32)
    scale = 1 << _SUBPIXEL_BITS
    for t in np.flatnonzero(ok):
        poly = np.round(dst[triangles[t]] * scale).astype(np.int32)
        cv2.fillConvexPoly(index, poly, int(t), lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    table = np.concatenate([affines, identity[None]], axis=0).astype(np.float32)  # index -1 -> identity
    a = table[index]
    map_x = a[..., 0, 0] * xs + a[..., 0, 1] * ys + a[..., 0, 2]
    map_y = a[..., 1, 0] * xs + a[..., 1, 1] * ys + a[..., 1, 2]
    return cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
