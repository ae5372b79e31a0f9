"""The paper's eye and mouth crops: landmark boxes, square-padded with black, resized to 64×64 RGB.

Boxes are in image pixels (x0, y0, x1, y1), inclusive of the extreme landmarks.
"""

from __future__ import annotations

import numpy as np

from fercl_cli.faces.landmarks import EYES, MOUTH

CROP_PX = 64
EYE_MARGIN_PX = 10.0


def part_boxes(landmarks: np.ndarray, eye_margin_px: float = EYE_MARGIN_PX) -> tuple[np.ndarray, np.ndarray]:
    """Eye boxes (landmarks 36–47, widened by ``eye_margin_px`` above and below) and mouth boxes
    (48–67), each float64 [N, 4] from landmarks [N, 68, 2]."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    eyes = np.concatenate([landmarks[:, EYES].min(axis=1), landmarks[:, EYES].max(axis=1)], axis=1)
    eyes[:, 1] -= eye_margin_px
    eyes[:, 3] += eye_margin_px
    mouth = np.concatenate([landmarks[:, MOUTH].min(axis=1), landmarks[:, MOUTH].max(axis=1)], axis=1)
    return eyes, mouth


def square_crop(image: np.ndarray, box: np.ndarray, size: int = CROP_PX) -> np.ndarray:
    """The ``box`` of ``image`` (uint8 [H, W, 3]) centred on a black square and resized to uint8
    [size, size, 3]; parts of the box outside the image are black too."""
    import cv2

    x0, y0, x1, y1 = (float(v) for v in box)
    width, height = x1 - x0 + 1, y1 - y0 + 1
    scale = size / max(width, height)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = (size - 1) / 2
    matrix = np.array([[scale, 0.0, half - scale * cx], [0.0, scale, half - scale * cy]])
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    # Black outside the box along its shorter side (the square padding).
    pad_x = int(np.floor((size - scale * width) / 2))
    pad_y = int(np.floor((size - scale * height) / 2))
    if pad_x > 0:
        crop[:, :pad_x] = 0
        crop[:, size - pad_x :] = 0
    if pad_y > 0:
        crop[:pad_y] = 0
        crop[size - pad_y :] = 0
    return crop


def paper_crops(
    images: np.ndarray, landmarks: np.ndarray, valid: np.ndarray, eye_margin_px: float = EYE_MARGIN_PX
) -> tuple[np.ndarray, np.ndarray]:
    """Eye and mouth crops, each uint8 [N, 64, 64, 3] RGB, of images [N, H, W, 3] with landmarks
    [N, 68, 2]; rows where ``valid`` is False stay black (they are never used)."""
    eye_boxes, mouth_boxes = part_boxes(landmarks, eye_margin_px)
    eyes = np.zeros((len(images), CROP_PX, CROP_PX, 3), dtype=np.uint8)
    mouths = np.zeros_like(eyes)
    for i in np.flatnonzero(valid):
        eyes[i] = square_crop(images[i], eye_boxes[i])
        mouths[i] = square_crop(images[i], mouth_boxes[i])
    return eyes, mouths
