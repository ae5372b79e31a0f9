import numpy as np
import pandas as pd

from fercl_cli.sample.fer2013 import usage
from tests.factories.corpus import SAMPLE_OPTIONS


def test_fer2013_csv_has_its_columns_codes_and_usages(sample_dir):
    table = pd.read_csv(sample_dir / "fer2013" / "fer2013.csv")
    assert list(table.columns) == ["emotion", "pixels", "Usage"]
    assert len(table) == SAMPLE_OPTIONS.eval_identities * SAMPLE_OPTIONS.images_per_class * 7
    assert set(table["emotion"]) == set(range(7))
    assert set(table["Usage"]) == {"Training", "PublicTest", "PrivateTest"}
    for pixels in table["pixels"]:
        values = np.array(pixels.split(), dtype=int)
        assert values.size == 48 * 48 and values.min() >= 0 and values.max() <= 255
        assert values.std() > 10  # a face, not a flat tile


def test_ground_truth_rows_follow_the_csv(sample_dir):
    table = pd.read_csv(sample_dir / "fer2013" / "fer2013.csv")
    truth = pd.read_csv(sample_dir / "fer2013" / "ground_truth.csv")
    assert truth["row"].tolist() == list(range(len(table)))
    assert (truth["Usage"] == table["Usage"]).all()
    codes = {"anger": 0, "disgust": 1, "fear": 2, "happy": 3, "sad": 4, "surprise": 5, "neutral": 6}
    assert (truth["expression"].map(codes) == table["emotion"]).all()


def test_usage_split_rule():
    assert [usage(r) for r in range(6)] == [
        "Training", "PublicTest", "Training", "PrivateTest", "Training", "Training"
    ]  # fmt: skip
