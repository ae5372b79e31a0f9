"""Inputs for the embed/predict and preprocessing tests: the real portraits shipped with matplotlib and
scikit-image, a faceless picture, a corrupt file and short videos of a moving face (written with OpenCV)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.factories.portraits import portraits


def write_moving_face_video(path: Path, photo: np.ndarray, frames: int = 30) -> Path:
    """An mp4v video at ``path``: ``frames`` frames of 320×360 px at 25 fps of the uint8 RGB ``photo``
    drifting and turning slightly (a talking-head-like track); returns ``path``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (320, 360))
    for i in range(frames):
        turn = cv2.getRotationMatrix2D((256.0, 240.0), 4.0 * np.sin(i / 5), 0.6 + 0.02 * np.cos(i / 7))
        turn[:, 2] += (-90 + 2.0 * i, -50 + 1.5 * np.sin(i / 3))
        frame = cv2.warpAffine(photo, turn, (320, 360), borderMode=cv2.BORDER_REPLICATE)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_media(root: Path) -> dict[str, Path]:
    """``hopper.jpg``, ``astronaut.png``, ``blank.png`` (160×160 grey, no face), ``broken.jpg`` (not an
    image), ``clip.mp4`` (30 frames at 25 fps of Grace Hopper drifting) and ``broken.mp4`` under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    astronaut, hopper = portraits()
    paths = {name: root / name for name in ("hopper.jpg", "astronaut.png", "blank.png", "broken.jpg")}
    cv2.imwrite(str(paths["hopper.jpg"]), cv2.cvtColor(hopper, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(paths["astronaut.png"]), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(paths["blank.png"]), np.full((160, 160, 3), 128, np.uint8))
    paths["broken.jpg"].write_bytes(b"\xff\xd8 this is not a jpeg")
    paths["clip.mp4"] = write_moving_face_video(root / "clip.mp4", hopper)
    paths["broken.mp4"] = root / "broken.mp4"
    paths["broken.mp4"].write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    return paths
