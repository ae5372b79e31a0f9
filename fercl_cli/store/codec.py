"""JPEG encoding of aligned crops (OpenCV); images are RGB on both sides, BGR only inside OpenCV."""

from __future__ import annotations

import numpy as np


def encode_jpeg(images: np.ndarray, quality: int) -> list[bytes]:
    """JPEG bytes of each image in ``images`` (uint8 [n, S, S, 3] RGB) at ``quality`` (1-100)."""
    import cv2

    out = []
    for image in images:
        ok, buffer = cv2.imencode(
            ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        )
        if not ok:
            raise ValueError("OpenCV could not JPEG-encode a crop")
        out.append(buffer.tobytes())
    return out


def decode_jpeg(data: np.ndarray, size: int) -> np.ndarray:
    """uint8 [size, size, 3] RGB from JPEG ``data`` (uint8 [k]); ValueError if it is not such an image."""
    import cv2

    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or image.shape != (size, size, 3):
        raise ValueError(f"a stored JPEG frame does not decode to a {size}x{size} colour image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
