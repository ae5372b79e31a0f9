import cv2
import numpy as np
import pytest

from fercl_cli.sample.warp import triangulate, warp_piecewise_affine


def _scene(size: int = 128) -> np.ndarray:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2)


def _mesh(size: int = 128) -> np.ndarray:
    rng = np.random.default_rng(1)
    corners = [[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]]
    return np.concatenate([rng.uniform(10, size - 10, (30, 2)), corners])


def test_triangulate_covers_points_without_degenerate_cells():
    points = _mesh()
    tri = triangulate(points)
    assert tri.ndim == 2 and tri.shape[1] == 3
    assert set(np.unique(tri)) == set(range(len(points)))
    p = points[tri]
    a, b = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    area = 0.5 * np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    assert area.min() > 0
    # Delaunay over points in general position, hull = the square: cells tile the square.
    assert area.sum() == pytest.approx(127 * 127, rel=1e-6)


def test_triangulate_rejects_duplicate_points():
    with pytest.raises(ValueError, match="duplicates"):
        triangulate(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))


def test_identity_mesh_returns_the_image():
    image, points = _scene(), _mesh()
    out = warp_piecewise_affine(image, points, points, triangulate(points), (128, 128))
    assert np.array_equal(out, image)


def test_mesh_moved_by_one_affine_equals_that_affine_warp():
    image, points = _scene(), _mesh()
    matrix = np.array([[0.95, 0.08, 4.0], [-0.05, 1.02, -3.0]])
    moved = points @ matrix[:, :2].T + matrix[:, 2]
    out = warp_piecewise_affine(image, points, moved, triangulate(points), (128, 128))
    reference = cv2.warpAffine(
        image, matrix, (128, 128), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    inner = (slice(20, 100), slice(20, 100))
    assert np.abs(out[inner].astype(int) - reference[inner].astype(int)).max() <= 2


def test_a_moved_vertex_drags_its_pixels():
    image = np.zeros((64, 64), dtype=np.uint8)
    image[30:34, 30:34] = 255  # a bright dot at the centre vertex
    corners = [[0, 0], [63, 0], [0, 63], [63, 63]]
    src = np.array([[31.5, 31.5], *corners])
    dst = np.array([[41.5, 31.5], *corners])
    out = warp_piecewise_affine(image, src, dst, triangulate(src), (64, 64))
    ys, xs = np.nonzero(out > 128)
    assert xs.mean() == pytest.approx(41.5, abs=1.0) and ys.mean() == pytest.approx(31.5, abs=1.0)


def test_warp_rejects_mismatched_points():
    with pytest.raises(ValueError, match="src_points and dst_points"):
        warp_piecewise_affine(_scene(), np.zeros((4, 2)), np.zeros((5, 2)), np.zeros((1, 3), int), (8, 8))
