from fractions import Fraction

import cv2
import numpy as np
import pytest

from fercl_cli.apply.embed import STILL_FRAME, embed
from fercl_cli.evaluate.backbones import resolve_backbone
from fercl_cli.evaluate.features import extract_features, stored_size
from fercl_cli.faces.align import align_face
from fercl_cli.faces.select import choose_face
from fercl_cli.preprocess.analyse import AnalyseConfig, analyse_clip
from fercl_cli.sources.clips import ClipSource
from tests.factories.media import write_media

SIZE = 32


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return write_media(tmp_path_factory.mktemp("media"))


def test_still_features_are_those_of_the_training_alignment(media, backend):
    result = embed([media["hopper.jpg"]], "random-raw", arch="resnet18", size=SIZE, device="cpu")
    photo = cv2.cvtColor(cv2.imread(str(media["hopper.jpg"])), cv2.COLOR_BGR2RGB)  # the JPEG as decoded
    face = choose_face(backend.detect(photo), "best")
    crop = align_face(photo, face.landmarks, stored_size(SIZE)).image
    expected = extract_features(
        resolve_backbone("random-raw", "resnet18").module, crop[None], input_size=SIZE
    )
    assert len(result) == 1 and result.crop_size == stored_size(SIZE) == 37
    np.testing.assert_allclose(result.features, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(result.landmarks[0], face.landmarks, atol=1e-4)
    np.testing.assert_allclose(result.boxes[0], face.box)
    assert result.frame.tolist() == [STILL_FRAME] and np.isnan(result.t).all()


def test_video_rows_are_preprocess_crops_at_the_chosen_fps(media, backend):
    fps = Fraction(25, 6)
    result = embed([media["clip.mp4"]], "random-raw", arch="resnet18", size=SIZE, fps=fps, device="cpu")
    clip = ClipSource("", "clip", "clip", media["clip.mp4"], "video")
    reference = analyse_clip(clip, backend, AnalyseConfig(size=37, fps=fps))
    assert result.frame.tolist() == [0, 6, 12, 18, 24]
    np.testing.assert_allclose(result.t, result.frame / 25, atol=1e-6)
    expected = extract_features(
        resolve_backbone("random-raw", "resnet18").module, reference.image, input_size=SIZE
    )
    np.testing.assert_allclose(result.features, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(result.landmarks, reference.source_landmarks)
    assert result.sources == [str(media["clip.mp4"])] * 5


def test_faceless_and_corrupt_files_are_recorded_and_the_rest_is_kept(media):
    inputs = [media[name] for name in ("blank.png", "broken.jpg", "broken.mp4", "astronaut.png")]
    result = embed(inputs, "random-raw", arch="resnet18", size=SIZE, device="cpu")
    assert result.sources == [str(media["astronaut.png"])]
    stages = {f.source: f.stage for f in result.failures}
    assert stages[str(media["blank.png"])] == "detect"
    assert stages[str(media["broken.jpg"])] == "decode" and stages[str(media["broken.mp4"])] == "decode"
