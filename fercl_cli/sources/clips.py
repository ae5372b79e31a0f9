"""Talking-face clips as the preprocessing stage sees them: where a clip is and how to read its frames.

A clip is either a video file (decoded at a target frame rate) or a folder of numbered images (one
image per already-sampled frame). Frames are yielded in time order as RGB uint8 [H, W, 3].
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

# VoxCeleb's face frames are every 6th frame of 25 fps video.
VOXCELEB_FPS = Fraction(25, 6)
VOXCELEB_VIDEO_FPS = Fraction(25)


class ClipReadError(Exception):
    """A clip (or one of its frames) cannot be read; the message is recorded as the failure reason."""


class FpsAboveVideoError(ClipReadError):
    """``--fps`` asks for more frames per second than the video has."""


@dataclass(frozen=True)
class ClipSource:
    """One clip on disk.

    Attributes:
        identity: speaker identity (``id1xxxx`` for VoxCeleb1, the first-level folder otherwise).
        video: the source video (YouTube id for VoxCeleb).
        name: the clip's name within the video (e.g. ``00001``).
        path: the video file, or the folder of frame images.
        kind: ``"video"`` or ``"frames"``.
    """

    identity: str
    video: str
    name: str
    path: Path
    kind: str

    @property
    def key(self) -> tuple[str, str, str]:
        """Stable identifier used for resuming, sharding and merging."""
        return (self.identity, self.video, self.name)


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes:
        image: uint8 [H, W, 3] RGB.
        frame_number: index of the frame in the original video at its native rate (VoxCeleb numbering).
        t: time in seconds from the start of the clip.
        source: a path naming the frame for failure records (``video.mp4#123`` or the image file).
    """

    image: np.ndarray
    frame_number: int
    t: float
    source: str


_DIGITS = re.compile(r"(\d+)")
_MAX_FRAME_NUMBER = 2**31 - 1  # the store keeps frame numbers as int32


def frame_number_of(path: Path) -> int:
    """The frame number in an image file name (the last run of digits in its stem)."""
    runs = _DIGITS.findall(path.stem)
    if not runs:
        raise ClipReadError(f"{path}: no frame number in the file name")
    return int(runs[-1])


def _read_video(clip: ClipSource, fps: Fraction) -> Iterator[Frame]:
    """Decode at ``fps``: the k-th kept frame is native frame round(k * native / fps) (0, 6, 12, ... at 25 → 25/6)."""
    import cv2

    cap = cv2.VideoCapture(str(clip.path))
    try:
        if not cap.isOpened():
            raise ClipReadError(f"{clip.path}: cannot open the video (corrupt or unsupported codec)")
        native = float(cap.get(cv2.CAP_PROP_FPS))
        if not native > 0:
            raise ClipReadError(f"{clip.path}: the video reports no frame rate")
        step = native / float(fps)
        if step < 1:
            raise FpsAboveVideoError(
                f"{clip.path}: --fps {float(fps):.3f} is above the video's {native:.3f} fps; lower --fps"
            )
        index, kept, wanted = 0, 0, 0
        while cap.grab():
            if index == wanted:
                ok, bgr = cap.retrieve()
                if not ok or bgr is None:
                    raise ClipReadError(f"{clip.path}: frame {index} could not be decoded")
                yield Frame(
                    cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), index, index / native, f"{clip.path}#{index}"
                )
                kept += 1
                wanted = int(round(kept * step))
            index += 1
        if kept == 0:
            raise ClipReadError(f"{clip.path}: no frames could be decoded")
    finally:
        cap.release()


def _read_frames(clip: ClipSource, native_fps: Fraction) -> Iterator[Frame]:
    import cv2

    files = [p for p in clip.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise ClipReadError(f"{clip.path}: no image files in the clip folder")
    numbers = {p: frame_number_of(p) for p in files}
    if max(numbers.values()) > _MAX_FRAME_NUMBER:
        # Digit runs too long to be frame numbers (hashed or time-stamped names): number the frames by
        # their place in name order instead, so they still fit the store's int32 column.
        files.sort(key=lambda p: p.name)
        numbers = {p: i for i, p in enumerate(files)}
    else:
        files.sort(key=lambda p: (numbers[p], p.name))
    first = numbers[files[0]]
    for path in files:
        number = numbers[path]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        image = np.empty((0, 0, 3), np.uint8) if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        yield Frame(image, number, (number - first) / float(native_fps), str(path))


def read_clip(
    clip: ClipSource, fps: Fraction = VOXCELEB_FPS, native_fps: Fraction = VOXCELEB_VIDEO_FPS
) -> Iterator[Frame]:
    """Frames of ``clip`` in time order.

    Videos are decoded at ``fps`` (frames nearest to k / fps; ``frame_number`` is the native index).
    Frame folders are read in frame-number order (never directory order); their times are
    ``(frame_number - first) / native_fps``. An unreadable image yields a frame with an empty image
    (shape [0, 0, 3]) so the caller records it and goes on; an unreadable video raises
    :class:`ClipReadError`.
    """
    if clip.kind == "video":
        return _read_video(clip, fps)
    if clip.kind == "frames":
        return _read_frames(clip, native_fps)
    raise ValueError(f"unknown clip kind {clip.kind!r}")
