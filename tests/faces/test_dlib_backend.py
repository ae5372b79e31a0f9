import numpy as np
import pytest

from fercl_cli.faces import landmarks as lm
from fercl_cli.faces.select import choose_face


def _plausible(face) -> bool:
    pts = face.landmarks
    right_eye, left_eye = lm.eye_centres(pts)
    eye_y = (right_eye[1] + left_eye[1]) / 2
    nose_y, mouth_y = pts[33, 1], pts[lm.OUTER_MOUTH, 1].mean()
    x0, y0, x1, y1 = face.box
    margin = 0.25 * (x1 - x0)
    inside = (
        (pts[:, 0] > x0 - margin).all()
        and (pts[:, 0] < x1 + margin).all()
        and (pts[:, 1] > y0 - margin).all()
        and (pts[:, 1] < y1 + margin).all()
    )
    return bool(eye_y < nose_y < mouth_y and right_eye[0] < left_eye[0] and inside)


def test_astronaut_face_is_chosen_over_the_mission_patch(backend, astronaut):
    faces = backend.detect(astronaut)
    assert len(faces) >= 2, "HOG with upsample 1 also fires on the mission patch"
    face = choose_face(faces, "best")
    x0, y0, x1, y1 = face.box
    # Where a person sees the face: around (220, 120) in the 512x512 image; the patch is near y = 380.
    assert 150 < (x0 + x1) / 2 < 290 and 60 < (y0 + y1) / 2 < 190
    assert face.detector == "hog" and face.landmarks.shape == (68, 2) and face.landmarks.dtype == np.float32
    assert _plausible(face)


def test_grace_hopper_single_face_with_plausible_landmarks(backend, grace_hopper):
    faces = backend.detect(grace_hopper)
    assert len(faces) == 1
    assert _plausible(faces[0])
    assert 120 < lm.inter_ocular(faces[0].landmarks) / (faces[0].box[2] - faces[0].box[0]) * 300 < 160


def test_no_face_in_a_blank_or_noise_image(backend):
    assert backend.detect(np.full((200, 200, 3), 127, np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 256, (160, 160, 3), dtype=np.uint8)
    assert backend.detect(noise) == []


def test_refit_in_the_detected_box_reproduces_the_landmarks(backend, grace_hopper):
    face = backend.detect(grace_hopper)[0]
    refit = backend.refit(grace_hopper, face.box)
    assert refit.detector == "tracked"
    np.testing.assert_allclose(refit.landmarks, face.landmarks, atol=1.0)
    shifted = backend.refit(grace_hopper, face.box + np.array([6, 4, 6, 4], np.float32))
    assert np.abs(shifted.landmarks - face.landmarks).mean() < 0.05 * lm.inter_ocular(face.landmarks)


def test_bad_images_are_rejected_with_a_reason(backend):
    with pytest.raises(ValueError, match="uint8"):
        backend.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        backend.detect(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="positive size"):
        backend.refit(np.zeros((10, 10, 3), np.uint8), np.array([5, 5, 5, 9]))


def test_cnn_fallback_finds_the_face_hog_misses(grace_hopper):
    import cv2

    from fercl_cli.faces.dlib_backend import DlibBackend

    turn = cv2.getRotationMatrix2D((256, 300), 50, 0.6)  # a 50-degree roll defeats the frontal HOG model
    rolled = cv2.warpAffine(grace_hopper, turn, (512, 600))
    assert DlibBackend(upsample=0).detect(rolled) == []
    faces = DlibBackend(upsample=0, cnn_fallback=True).detect(rolled)
    assert len(faces) == 1 and faces[0].detector == "cnn"
    centre = cv2.transform(np.array([[[273.0, 232.0]]]), turn)[0, 0]
    x0, y0, x1, y1 = faces[0].box
    assert x0 < centre[0] < x1 and y0 < centre[1] < y1


class _RecordingHog:
    """Wraps dlib's HOG detector and records the size and upsampling of every image it searched."""

    def __init__(self, hog) -> None:
        self.hog, self.calls = hog, []

    def run(self, image, upsample, threshold):
        self.calls.append((image.shape[:2], upsample))
        return self.hog.run(image, upsample, threshold)


def _large_frame(photo: np.ndarray, height: int = 540, width: int = 960) -> np.ndarray:
    import cv2

    scale = height / photo.shape[0]
    resized = cv2.resize(photo, (round(photo.shape[1] * scale), height), interpolation=cv2.INTER_CUBIC)
    pad = width - resized.shape[1]
    return cv2.copyMakeBorder(resized, 0, 0, pad // 2, pad - pad // 2, cv2.BORDER_REPLICATE)


def test_fast_detection_searches_a_downscaled_copy_and_fits_landmarks_at_full_resolution(grace_hopper):
    from fercl_cli.faces.dlib_backend import DlibBackend

    frame = _large_frame(grace_hopper)
    full = DlibBackend().detect(frame)[0]
    fast = DlibBackend(face_px=100)
    fast._hog = _RecordingHog(fast._hog)
    width = float(full.box[2] - full.box[0])
    faces = fast.detect(frame, face_width=width)
    assert len(faces) == 1 and faces[0].detector == "hog"
    ((shape, upsample),) = fast._hog.calls
    assert upsample == 0 and abs(shape[0] - 540 * 100 / width) <= 1, fast._hog.calls
    error = np.linalg.norm(faces[0].landmarks - full.landmarks, axis=1).mean() / lm.inter_ocular(
        full.landmarks
    )
    assert error < 0.05, error
    assert abs((faces[0].box[2] - faces[0].box[0]) / width - 1) < 0.25


def test_fast_detection_without_a_hint_assumes_a_third_of_the_frame(grace_hopper):
    from fercl_cli.faces.dlib_backend import DlibBackend

    fast = DlibBackend(face_px=100)
    fast._hog = _RecordingHog(fast._hog)
    assert len(fast.detect(_large_frame(grace_hopper))) == 1
    assert fast._hog.calls[0] == ((300, 533), 0), fast._hog.calls


def test_fast_detection_falls_back_to_the_full_search_when_the_copy_shows_no_face(grace_hopper):
    from fercl_cli.faces.dlib_backend import DlibBackend

    frame = _large_frame(grace_hopper)
    fast = DlibBackend(face_px=100)
    fast._hog = _RecordingHog(fast._hog)
    faces = fast.detect(frame, face_width=2000.0)  # a wrong hint: the face shrinks below HOG's window
    assert len(faces) == 1
    assert [upsample for _, upsample in fast._hog.calls] == [0, 1]
    assert fast._hog.calls[1][0] == (540, 960)


def test_fast_detection_is_off_for_small_faces_and_checks_its_setting(grace_hopper):
    from fercl_cli.faces.dlib_backend import DlibBackend

    fast = DlibBackend(face_px=100)
    fast._hog = _RecordingHog(fast._hog)
    fast.detect(grace_hopper, face_width=90.0)
    assert fast._hog.calls == [(grace_hopper.shape[:2], 1)]
    with pytest.raises(ValueError, match="at least 80"):
        DlibBackend(face_px=40)
