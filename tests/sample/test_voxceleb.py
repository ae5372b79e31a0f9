import math

import cv2
import numpy as np
import pandas as pd
import pytest

from fercl_cli.faces.landmarks import inter_ocular
from fercl_cli.sample.expressions import EXPRESSIONS
from fercl_cli.sample.voxceleb import FPS, INTERVAL_STEP, INTERVAL_VIEW, VIDEO_VIEW, frames_per_clip
from tests.factories.corpus import SAMPLE_OPTIONS


def _landmarks(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split(";")]).reshape(68, 2)


@pytest.fixture(scope="module")
def truth(sample_dir):
    return pd.read_csv(sample_dir / "voxceleb" / "ground_truth.csv", dtype={"clip": str})


@pytest.fixture(scope="module")
def meta(sample_dir):
    return pd.read_csv(sample_dir / "voxceleb" / "vox1_meta.csv", sep="\t")


def test_meta_is_tab_separated_with_voxceleb_columns(sample_dir, meta):
    assert list(meta.columns) == ["VoxCeleb1 ID", "VGGFace1 ID", "Gender", "Nationality", "Set"]
    assert len(meta) == SAMPLE_OPTIONS.identities
    assert meta["VoxCeleb1 ID"].tolist() == [f"id1000{i}" for i in range(1, SAMPLE_OPTIONS.identities + 1)]
    assert set(meta["Gender"]) <= {"m", "f"} and set(meta["Set"]) <= {"dev", "test"}
    for ident, name in zip(meta["VoxCeleb1 ID"], meta["VGGFace1 ID"], strict=True):
        assert (sample_dir / "voxceleb" / "videos" / ident).is_dir()
        assert (sample_dir / "voxceleb" / "unzippedIntervalFaces" / "data" / name / "1.6").is_dir()


def test_every_video_decodes_with_the_frame_count_and_fps_written(sample_dir, truth):
    videos = sorted((sample_dir / "voxceleb" / "videos").glob("id*/*/*.mp4"))
    assert len(videos) == SAMPLE_OPTIONS.identities * SAMPLE_OPTIONS.clips_per_identity
    expected = frames_per_clip(SAMPLE_OPTIONS.seconds)
    for path in videos:
        clip = truth[
            (truth["voxceleb_id"] == path.parts[-3])
            & (truth["video_id"] == path.parts[-2])
            & (truth["clip"] == path.stem)
        ]
        assert len(clip) == expected
        capture = cv2.VideoCapture(str(path))
        assert capture.isOpened()
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(FPS)
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == expected
        decoded = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            assert frame.shape == (VIDEO_VIEW.height, VIDEO_VIEW.width, 3)
            decoded += 1
        capture.release()
        assert decoded == expected


def test_interval_faces_are_every_sixth_frame_named_by_frame_number(sample_dir, truth, meta):
    names = dict(zip(meta["VoxCeleb1 ID"], meta["VGGFace1 ID"], strict=True))
    per_clip = math.ceil(frames_per_clip(SAMPLE_OPTIONS.seconds) / INTERVAL_STEP)
    for (ident, video, clip), rows in truth.groupby(["voxceleb_id", "video_id", "clip"]):
        folder = (
            sample_dir
            / "voxceleb"
            / "unzippedIntervalFaces"
            / "data"
            / names[ident]
            / "1.6"
            / video
            / str(int(clip))
        )
        files = sorted(p.name for p in folder.glob("*.jpg"))
        marked = rows[rows["interval_frame"] == 1]
        assert len(files) == per_clip == len(marked)
        assert (marked["frame"] % INTERVAL_STEP == 0).all()
        assert files == [f"{n:07d}.jpg" for n in marked["frame_number"]]
        assert (rows["frame_number"] - rows["frame"]).nunique() == 1  # one offset per clip
        image = cv2.imread(str(folder / files[0]))
        assert image.shape == (INTERVAL_VIEW.height, INTERVAL_VIEW.width, 3)


def test_ground_truth_columns_and_ranges(truth):
    for column in ["expression", "intensity", "valence", "arousal", "yaw_deg", "pitch_deg", "roll_deg",
                   "identity", "identity_kind", "landmarks", "time_s"]:  # fmt: skip
        assert column in truth.columns
    assert set(truth["expression"]) <= set(EXPRESSIONS)
    assert len(set(truth["expression"]) - {"neutral"}) >= 3
    assert truth["intensity"].between(0, 1).all()
    assert truth["valence"].between(-1, 1).all() and truth["arousal"].between(-1, 1).all()
    assert set(truth["identity_kind"]) <= {"real", "derived"}
    assert truth["time_s"].iloc[1] == pytest.approx(1 / FPS)


def test_dlib_finds_faces_in_nearly_all_video_frames_where_the_truth_says(sample_dir, truth):
    from fercl_cli.faces.dlib_backend import DlibBackend

    backend = DlibBackend()
    found = checked = 0
    errors = []
    for path in sorted((sample_dir / "voxceleb" / "videos").glob("id*/*/*.mp4")):
        rows = truth[
            (truth["voxceleb_id"] == path.parts[-3])
            & (truth["video_id"] == path.parts[-2])
            & (truth["clip"] == path.stem)
        ]
        capture = cv2.VideoCapture(str(path))
        for index in range(len(rows)):
            ok, frame = capture.read()
            assert ok
            if index % 8:
                continue
            checked += 1
            faces = backend.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            if faces:
                found += 1
                expected = _landmarks(rows.iloc[index]["landmarks"])
                errors.append(
                    np.linalg.norm(faces[0].landmarks - expected, axis=1).mean() / inter_ocular(expected)
                )
        capture.release()
    assert found / checked >= 0.9
    assert np.median(errors) < 0.1
