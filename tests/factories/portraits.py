"""The real portraits that ship with scikit-image and matplotlib (public domain), and their aligned crops
for swap, descriptor and command tests (computed once per process)."""

from __future__ import annotations

import functools

import numpy as np

from fercl_cli.faces.align import align_face


def grace_hopper() -> np.ndarray:
    """Grace Hopper's portrait (matplotlib), uint8 RGB [600, 512, 3]."""
    import matplotlib.cbook
    from PIL import Image

    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as img:
        return np.asarray(img.convert("RGB"))


def astronaut() -> np.ndarray:
    """The astronaut's portrait (scikit-image), uint8 RGB [512, 512, 3]."""
    from skimage import data

    return data.astronaut()


def portraits() -> list[np.ndarray]:
    """[:func:`astronaut`, :func:`grace_hopper`]."""
    return [astronaut(), grace_hopper()]


@functools.cache
def _source_landmarks() -> tuple[np.ndarray, ...]:
    from fercl_cli.faces.dlib_backend import DlibBackend

    backend = DlibBackend()
    return tuple(backend.detect(photo)[0].landmarks for photo in portraits())


@functools.cache
def aligned(size: int = 128) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(image uint8 [S, S, 3], landmarks float32 [68, 2]) for the astronaut and Grace Hopper."""
    return tuple(
        (face.image, face.landmarks)
        for face in (
            align_face(photo, lm, size=size)
            for photo, lm in zip(portraits(), _source_landmarks(), strict=True)
        )
    )


def stretch(image: np.ndarray, landmarks: np.ndarray, sx: float, sy: float) -> tuple[np.ndarray, np.ndarray]:
    """The image and landmarks scaled by (sx, sy) about the image centre (a non-similarity change of
    the face's configuration)."""
    import cv2

    size = image.shape[0]
    c = (size - 1) / 2
    matrix = np.array([[sx, 0.0, c * (1 - sx)], [0.0, sy, c * (1 - sy)]])
    warped = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    moved = (landmarks @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
    return warped, moved
