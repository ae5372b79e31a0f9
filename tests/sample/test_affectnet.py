import cv2
import numpy as np
import pandas as pd

from fercl_cli.sample.affectnet import AFFECTNET_VIEW
from tests.factories.corpus import SAMPLE_OPTIONS

COLUMNS = [
    "subDirectory_filePath", "face_x", "face_y", "face_width", "face_height",
    "facial_landmarks", "expression", "valence", "arousal",
]  # fmt: skip


def _read(sample_dir, split):
    return pd.read_csv(sample_dir / "affectnet" / f"{split}.csv")


def test_csvs_have_affectnet_columns_and_codes(sample_dir):
    training, validation = _read(sample_dir, "training"), _read(sample_dir, "validation")
    for table in (training, validation):
        assert list(table.columns) == COLUMNS
        assert table["valence"].between(-1, 1).all() and table["arousal"].between(-1, 1).all()
    assert set(training["expression"]) == set(range(8)) == set(validation["expression"])
    total = SAMPLE_OPTIONS.eval_identities * SAMPLE_OPTIONS.images_per_class * 8
    assert len(training) + len(validation) == total
    assert not set(training["subDirectory_filePath"]) & set(validation["subDirectory_filePath"])


def test_images_landmarks_and_boxes_are_consistent(sample_dir):
    table = pd.concat([_read(sample_dir, "training"), _read(sample_dir, "validation")])
    for row in table.itertuples():
        image = cv2.imread(
            str(sample_dir / "affectnet" / "Manually_Annotated_Images" / row.subDirectory_filePath)
        )
        assert image.shape == (AFFECTNET_VIEW.height, AFFECTNET_VIEW.width, 3)
        points = np.array([float(v) for v in row.facial_landmarks.split(";")]).reshape(68, 2)
        assert (
            (points >= 0).all()
            and (points[:, 0] < image.shape[1]).all()
            and (points[:, 1] < image.shape[0]).all()
        )
        x0, y0, x1, y1 = row.face_x, row.face_y, row.face_x + row.face_width, row.face_y + row.face_height
        assert x0 <= points[:, 0].min() and points[:, 0].max() <= x1
        assert y0 <= points[:, 1].min() and points[:, 1].max() <= y1
        assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]


def test_neutral_has_zero_affect_and_ground_truth_names_the_identity(sample_dir):
    truth = pd.read_csv(sample_dir / "affectnet" / "ground_truth.csv")
    neutral = truth[truth["expression"] == 0]
    assert (neutral["valence"] == 0).all() and (neutral["arousal"] == 0).all()
    assert (truth[truth["expression_name"] == "happy"]["valence"] > 0.4).all()
    identities = pd.read_csv(sample_dir / "identities.csv")
    assert set(truth["identity"]) == set(identities[identities["group"] == "evaluation"]["name"])
