from fractions import Fraction

import cv2
import numpy as np
import pytest

from fercl_cli.faces.landmarks import inter_ocular
from fercl_cli.preprocess.analyse import AnalyseConfig, analyse_clip
from fercl_cli.sources.clips import ClipSource
from fercl_cli.store.schema import DETECTOR_LABELS
from tests.factories.media import write_moving_face_video
from tests.factories.portraits import grace_hopper


@pytest.fixture(scope="module")
def backend():
    from fercl_cli.faces.dlib_backend import DlibBackend

    return DlibBackend()


@pytest.fixture(scope="module")
def moving_face_video(tmp_path_factory):
    """A 25 fps video of Grace Hopper's portrait drifting and turning slightly: a talking-head-like track."""
    path = write_moving_face_video(tmp_path_factory.mktemp("video") / "00001.mp4", grace_hopper())
    return ClipSource("id1", "vid", "00001", path, "video")


def test_tracking_saves_detections_without_losing_landmark_accuracy(backend, moving_face_video):
    every = analyse_clip(moving_face_video, backend, AnalyseConfig(size=96, fps=Fraction(25), track=False))
    tracked = analyse_clip(moving_face_video, backend, AnalyseConfig(size=96, fps=Fraction(25), track=True))
    assert len(every) == len(tracked) == 30
    assert every.stats["detections"] == 30
    assert tracked.stats["detections"] * 3 <= every.stats["detections"]
    assert (tracked.detector == DETECTOR_LABELS.index("tracked")).sum() == tracked.stats["tracked"]
    iod = inter_ocular(every.source_landmarks)
    err = np.linalg.norm(tracked.source_landmarks - every.source_landmarks, axis=-1).mean(axis=1) / iod
    assert err.mean() < 0.02, err


def test_clip_arrays_have_the_documented_shapes_and_frames(backend, moving_face_video):
    result = analyse_clip(moving_face_video, backend, AnalyseConfig(size=64))
    n = len(result)
    assert n == 5  # 30 frames at 25 fps sampled at 25/6 fps: 0, 6, 12, 18, 24
    assert result.image.shape == (n, 64, 64, 3) and result.image.dtype == np.uint8
    assert result.landmarks.shape == (n, 68, 2) and result.landmarks.dtype == np.float32
    assert result.matrix.shape == (n, 2, 3) and result.bbox.shape == (n, 4)
    assert result.frame_number.tolist() == [0, 6, 12, 18, 24]
    np.testing.assert_allclose(result.t, result.frame_number / 25, atol=1e-6)
    assert ((result.landmarks > -5) & (result.landmarks < 69)).all()


def test_faceless_and_unreadable_clips_are_failures_not_crashes(backend, tmp_path):
    blank = tmp_path / "blank"
    blank.mkdir()
    for i in range(3):
        cv2.imwrite(str(blank / f"{i:07d}.jpg"), np.full((120, 120, 3), 90, np.uint8))
    (blank / "0000003.jpg").write_bytes(b"garbage")
    result = analyse_clip(ClipSource("i", "v", "blank", blank, "frames"), backend)
    assert len(result) == 0 and result.image.shape == (0, 128, 128, 3)
    assert result.stats["dropped:no face"] == 3 and result.stats["dropped:unreadable image"] == 1
    assert result.failures[-1][2] == "no face in any frame of the clip"
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    result = analyse_clip(ClipSource("i", "v", "broken", broken, "video"), backend)
    assert len(result) == 0 and result.stats["clips_unreadable"] == 1
    assert "cannot open the video" in result.failures[0][2]


def test_several_faces_are_recorded_and_the_best_is_kept(backend, tmp_path):
    from skimage import data

    folder = tmp_path / "astro"
    folder.mkdir()
    cv2.imwrite(str(folder / "0000001.jpg"), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    result = analyse_clip(ClipSource("i", "v", "astro", folder, "frames"), backend, AnalyseConfig(size=64))
    assert len(result) == 1 and result.stats["several_faces"] == 1
    assert "several faces (2)" in result.failures[0][2]
    assert result.bbox[0][1] < 200  # the face (top), not the mission patch (bottom)


def _frames_clip(video: ClipSource, folder, edit=None) -> ClipSource:
    """The video's 30 frames as a numbered frame folder, each passed through ``edit(number, rgb)``."""
    folder.mkdir(parents=True, exist_ok=True)
    capture = cv2.VideoCapture(str(video.path))
    number = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        rgb = edit(number, rgb) if edit is not None else rgb
        cv2.imwrite(str(folder / f"{number:05d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        number += 1
    capture.release()
    return ClipSource("id1", "vid", folder.name, folder, "frames")


NO_CHECK = {"min_appearance": -1.0, "max_scale_change": 1e9}  # the tracker as it was: trusts any refit
BLACK = (7, 13, 19, 25)


@pytest.mark.parametrize("redetect_every", [4, 0])
def test_black_frames_between_detections_are_never_stored(
    backend, moving_face_video, tmp_path, redetect_every
):
    clip = _frames_clip(
        moving_face_video, tmp_path / "black", lambda n, rgb: np.zeros_like(rgb) if n in BLACK else rgb
    )
    config = AnalyseConfig(size=64, redetect_every=redetect_every)
    result = analyse_clip(clip, backend, config)
    assert not set(BLACK) & set(result.frame_number.tolist())
    assert len(result) == 30 - len(BLACK)
    dropped = {source for source, stage, reason in result.failures if reason == "no face"}
    assert {str(clip.path / f"{n:05d}.jpg") for n in BLACK} <= dropped
    unchecked = analyse_clip(clip, backend, AnalyseConfig(size=64, redetect_every=redetect_every, **NO_CHECK))
    assert set(BLACK) & set(unchecked.frame_number.tolist()), (
        "positive control: unchecked tracking keeps them"
    )


def test_a_hand_over_the_face_makes_the_tracker_redetect_instead_of_storing_skin(
    backend, moving_face_video, tmp_path
):
    first = analyse_clip(moving_face_video, backend, AnalyseConfig(size=64, fps=Fraction(25), track=False))
    x0, y0, x1, y1 = first.bbox[0]
    pad = 0.35 * (x1 - x0)

    def cover(number: int, rgb: np.ndarray) -> np.ndarray:
        if number >= 12:  # a skin-coloured hand slides over the whole face and stays
            rgb = rgb.copy()
            top = int(max(0, y1 + pad - (number - 11) * 0.25 * (y1 - y0 + 2 * pad)))
            rgb[top : int(y1 + pad), int(x0 - pad) : int(x1 + pad)] = (205, 160, 135)
        return rgb

    clip = _frames_clip(moving_face_video, tmp_path / "hand", cover)
    result = analyse_clip(clip, backend, AnalyseConfig(size=64, redetect_every=0))
    assert result.stats["tracking_rejected"] >= 1 and result.stats["detections"] >= 2
    fully_covered = [n for n in range(16, 30)]
    assert not set(fully_covered) & set(result.frame_number.tolist())
    widths = result.bbox[:, 2] - result.bbox[:, 0]
    assert widths.min() >= 0.6 * (x1 - x0)
    unchecked = analyse_clip(clip, backend, AnalyseConfig(size=64, redetect_every=0, **NO_CHECK))
    assert set(fully_covered) & set(unchecked.frame_number.tolist()), (
        "positive control: the old tracker stores skin"
    )


def test_fast_detection_on_540p_frames_keeps_every_face_and_its_landmarks(
    backend, moving_face_video, tmp_path
):
    from fercl_cli.faces.dlib_backend import DlibBackend

    def to_540p(number: int, rgb: np.ndarray) -> np.ndarray:
        resized = cv2.resize(rgb, (480, 540), interpolation=cv2.INTER_CUBIC)
        return cv2.copyMakeBorder(resized, 0, 0, 240, 240, cv2.BORDER_REPLICATE)

    clip = _frames_clip(moving_face_video, tmp_path / "p540", to_540p)
    config = AnalyseConfig(size=64, fps=Fraction(25), track=False)
    full = analyse_clip(clip, backend, config)
    fast_backend = DlibBackend(face_px=100)
    searched = []
    hog = fast_backend._hog

    class Recording:
        def run(self, image, upsample, threshold):
            searched.append(image.shape[:2])
            return hog.run(image, upsample, threshold)

    fast_backend._hog = Recording()
    fast = analyse_clip(clip, fast_backend, config)
    assert fast.frame_number.tolist() == full.frame_number.tolist() == list(range(30))
    assert len(searched) == 30 and max(h for h, _ in searched) < 400, searched  # not 540 (or 1080 upsampled)
    up0 = analyse_clip(clip, DlibBackend(upsample=0), config)

    def error(a, b):
        return (
            np.linalg.norm(a.source_landmarks - b.source_landmarks, axis=-1).mean(axis=1)
            / inter_ocular(b.source_landmarks)
        ).mean()

    # HOG's box jitters with its pyramid level: landmarks move as much when dlib's own upsampling changes.
    assert error(fast, full) < 1.5 * error(up0, full) + 0.005, (error(fast, full), error(up0, full))
    assert error(fast, full) < 0.05
