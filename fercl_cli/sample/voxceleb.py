"""Talking-face clips in VoxCeleb1's layouts.

Under ``<root>/voxceleb/``:

- ``videos/<VoxCeleb1 ID>/<video id>/<clip>.mp4``: 25 fps mp4v, 320×240, ``<clip>`` = ``00001``, ``00002``...
  numbered per video (two clips per video).
- ``unzippedIntervalFaces/data/<Name>/1.6/<video id>/<clip number>/<frame number>.jpg``: 224×224 face
  frames at 25/6 fps: every 6th frame of the clip. ``<clip number>`` is the clip's number without zero
  padding (``1``, ``2``...); ``<frame number>`` is the frame's number in the (fictitious) source video,
  7 digits: each clip starts at an offset into its video, so clip frame ``i`` is video frame
  ``offset + i`` and the JPEGs are ``offset, offset + 6, offset + 12, ...``. Each JPEG is rendered from the
  same state as the video frame, at 224×224 (not cut out of the compressed video).
- ``vox1_meta.csv``: tab-separated ``VoxCeleb1 ID, VGGFace1 ID, Gender, Nationality, Set``.
- ``ground_truth.csv``: one row per video frame (see ``docs/sample-data.md``).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fercl_cli.sample.identities import Identity
from fercl_cli.sample.motion import plan_clip
from fercl_cli.sample.records import format_landmarks, state_columns, write_jpeg
from fercl_cli.sample.render import View, render

FPS = 25
INTERVAL_STEP = 6  # 25/6 fps
CLIPS_PER_VIDEO = 2
FIRST_VOXCELEB_ID = 10001
VIDEO_VIEW = View(width=320, height=240, iod=56.0, eye_x=160.0, eye_y=96.0)
INTERVAL_VIEW = View(width=224, height=224, iod=50.0, eye_x=112.0, eye_y=98.0)
_YOUTUBE_CHARS = string.ascii_letters + string.digits + "-_"


@dataclass(frozen=True)
class VoxCelebCounts:
    """What was written: identities, videos, clips, mp4 frames and interval-face JPEGs."""

    identities: int
    videos: int
    clips: int
    frames: int
    interval_frames: int


def voxceleb_id(index: int) -> str:
    """The VoxCeleb1 ID of the ``index``-th identity (0-based): ``id10001``, ``id10002``..."""
    return f"id{FIRST_VOXCELEB_ID + index}"


def frames_per_clip(seconds: float) -> int:
    """Frames in a clip of ``seconds`` at 25 fps (at least one)."""
    return max(1, int(round(seconds * FPS)))


def _video_id(rng: np.random.Generator) -> str:
    return "".join(_YOUTUBE_CHARS[i] for i in rng.integers(len(_YOUTUBE_CHARS), size=11))


def _write_meta(path: Path, identities: list[Identity]) -> None:
    n_test = max(1, len(identities) // 5) if len(identities) >= 2 else 0
    lines = ["VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet"]
    for index, identity in enumerate(identities):
        split = "test" if index >= len(identities) - n_test else "dev"
        lines.append(
            f"{voxceleb_id(index)}\t{identity.name}\t{identity.gender}\t{identity.nationality}\t{split}"
        )
    path.write_text("\n".join(lines) + "\n")


def write_voxceleb(
    root: Path,
    identities: list[Identity],
    clips_per_identity: int,
    seconds: float,
    seed: int,
    tick: Callable[[int], None],
) -> VoxCelebCounts:
    """Write the clips of ``identities`` under ``root/voxceleb`` (see the module docstring).

    Every clip draws its timeline from its own generator seeded by ``(seed, identity index, clip index)``,
    so a clip does not depend on the others. ``tick(n)`` is called after every ``n`` frames.
    """
    import cv2
    import pandas as pd

    base = root / "voxceleb"
    base.mkdir(parents=True, exist_ok=True)
    _write_meta(base / "vox1_meta.csv", identities)
    n_frames = frames_per_clip(seconds)
    rows: list[dict[str, object]] = []
    videos = clips = interval_frames = 0
    for person, identity in enumerate(identities):
        ident = voxceleb_id(person)
        layout_rng = np.random.default_rng([seed, 1, person])
        offset = 0
        video = ""
        for clip_index in range(clips_per_identity):
            if clip_index % CLIPS_PER_VIDEO == 0:
                video = _video_id(layout_rng)
                offset = int(layout_rng.integers(100, 2000))
                videos += 1
            clip_number = clip_index % CLIPS_PER_VIDEO + 1
            states = plan_clip(np.random.default_rng([seed, 2, person, clip_index]), n_frames, FPS)
            mp4 = base / "videos" / ident / video / f"{clip_number:05d}.mp4"
            mp4.parent.mkdir(parents=True, exist_ok=True)
            frames_dir = (
                base / "unzippedIntervalFaces" / "data" / identity.name / "1.6" / video / str(clip_number)
            )
            size = (VIDEO_VIEW.width, VIDEO_VIEW.height)
            writer = cv2.VideoWriter(str(mp4), cv2.VideoWriter_fourcc(*"mp4v"), float(FPS), size)
            if not writer.isOpened():
                raise OSError(f"OpenCV could not open an mp4v video writer for {mp4}")
            try:
                for frame, state in enumerate(states):
                    shown = render(identity.portrait, state, VIDEO_VIEW)
                    writer.write(cv2.cvtColor(shown.image, cv2.COLOR_RGB2BGR))
                    in_interval = frame % INTERVAL_STEP == 0
                    interval_landmarks = ""
                    if in_interval:
                        face = render(identity.portrait, state, INTERVAL_VIEW)
                        write_jpeg(frames_dir / f"{offset + frame:07d}.jpg", face.image)
                        interval_landmarks = format_landmarks(face.landmarks)
                        interval_frames += 1
                    rows.append(
                        {
                            "voxceleb_id": ident,
                            "video_id": video,
                            "clip": f"{clip_number:05d}",
                            "frame": frame,
                            "frame_number": offset + frame,
                            "time_s": round(frame / FPS, 4),
                            "interval_frame": int(in_interval),
                            **state_columns(identity, state),
                            "landmarks": format_landmarks(shown.landmarks),
                            "interval_landmarks": interval_landmarks,
                        }
                    )
                    tick(1)
            finally:
                writer.release()
            clips += 1
            offset += n_frames + int(layout_rng.integers(50, 500))
    pd.DataFrame(rows).to_csv(base / "ground_truth.csv", index=False)
    return VoxCelebCounts(
        identities=len(identities),
        videos=videos,
        clips=clips,
        frames=len(rows),
        interval_frames=interval_frames,
    )
