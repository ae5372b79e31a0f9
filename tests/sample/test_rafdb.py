import cv2
import numpy as np
import pandas as pd

from fercl_cli.faces.landmarks import LEFT_EYE, RIGHT_EYE
from fercl_cli.sample.expressions import RAFDB_CODE
from fercl_cli.sample.rafdb import ALIGNED_POINTS, NOSE_TIP, RAFDB_VIEW, aligned_face, is_test
from fercl_cli.sources.rafdb import RafDb
from tests.factories.corpus import SAMPLE_OPTIONS


def _lines(sample_dir):
    text = (sample_dir / "rafdb" / "EmoLabel" / "list_patition_label.txt").read_text()
    return [line.split() for line in text.splitlines()]


def test_label_file_lists_every_photo_in_both_folders_with_rafdb_codes(sample_dir):
    lines = _lines(sample_dir)
    per_class = SAMPLE_OPTIONS.eval_identities * SAMPLE_OPTIONS.images_per_class
    assert len(lines) == per_class * 7
    names = [name for name, _ in lines]
    train = [n for n in names if n.startswith("train_")]
    test = [n for n in names if n.startswith("test_")]
    assert names == train + test  # train first, then test, each in number order
    assert train == [f"train_{i:05d}.jpg" for i in range(1, len(train) + 1)]
    assert test == [f"test_{i:04d}.jpg" for i in range(1, len(test) + 1)]
    assert len(test) == 7 * sum(is_test(rank) for rank in range(per_class))
    assert {int(code) for _, code in lines} == set(range(1, 8))
    assert {int(code) for name, code in lines if name.startswith("test_")} == set(range(1, 8))
    for name in names:
        stem = name[: -len(".jpg")]
        original = cv2.imread(str(sample_dir / "rafdb" / "Image" / "original" / name))
        aligned = cv2.imread(str(sample_dir / "rafdb" / "Image" / "aligned" / f"{stem}_aligned.jpg"))
        assert original.shape == (RAFDB_VIEW.height, RAFDB_VIEW.width, 3) and aligned.shape == (100, 100, 3)
        assert aligned.std() > 10  # a face, not a flat tile


def test_ground_truth_matches_the_label_file(sample_dir):
    truth = pd.read_csv(sample_dir / "rafdb" / "ground_truth.csv")
    lines = _lines(sample_dir)
    assert truth["name"].tolist() == [name for name, _ in lines]
    assert truth["label"].tolist() == [int(code) for _, code in lines]
    assert (truth["expression"].map(RAFDB_CODE) == truth["label"]).all()
    assert (truth["split"] == truth["name"].str.split("_").str[0]).all()
    identities = pd.read_csv(sample_dir / "identities.csv")
    assert set(truth["identity"]) == set(identities[identities["group"] == "evaluation"]["name"])


def test_the_reader_reads_both_folders_and_dlib_finds_every_original_face(sample_dir):
    truth = pd.read_csv(sample_dir / "rafdb" / "ground_truth.csv")
    aligned = list(RafDb(sample_dir / "rafdb", images="aligned", size=64))
    assert [r.label + 1 for r in aligned] == truth["label"].tolist()
    assert [r.split for r in aligned] == truth["split"].tolist()
    original = RafDb(sample_dir / "rafdb", images="original", size=64)
    assert len(list(original)) == len(truth)
    assert original.counts()["no_face"] == 0 and original.counts()["several_faces"] == 0


def test_aligned_faces_put_the_eyes_and_nose_where_stated():
    image = np.zeros((160, 192, 3), dtype=np.uint8)
    landmarks = np.zeros((68, 2))
    angle, scale = np.radians(8.0), 1.2  # the photo's face: the aligned points turned, enlarged, moved
    turn = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    right, left, nose = ALIGNED_POINTS @ turn.T + (40.0, 12.0)
    landmarks[RIGHT_EYE], landmarks[LEFT_EYE], landmarks[NOSE_TIP] = right, left, nose
    for x, y in (right, left):
        image[int(y) - 1 : int(y) + 2, int(x) - 1 : int(x) + 2] = 255
    crop = aligned_face(image, landmarks)
    grey = crop[:, :, 0].astype(float)
    for target, half in ((ALIGNED_POINTS[0], slice(0, 50)), (ALIGNED_POINTS[1], slice(50, 100))):
        part = np.zeros_like(grey)
        part[:, half] = grey[:, half]
        ys, xs = np.nonzero(part > 40)
        weights = part[ys, xs]
        centre = np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])
        np.testing.assert_allclose(centre, target, atol=1.5)
