import numpy as np
import pytest
from sklearn.datasets import fetch_lfw_pairs, fetch_lfw_people

from tests.factories.corpus import SAMPLE_OPTIONS


@pytest.fixture
def lfw_home(sample_dir, tmp_path):
    """A copy of the corpus's LFW folder (scikit-learn writes a joblib cache into lfw_home)."""
    import shutil

    shutil.copytree(sample_dir / "lfw", tmp_path / "lfw")
    return tmp_path / "lfw"


def test_fetch_lfw_people_loads_it_offline(lfw_home):
    people = fetch_lfw_people(
        data_home=lfw_home, download_if_missing=False, min_faces_per_person=SAMPLE_OPTIONS.lfw_images
    )
    assert people.images.shape == (SAMPLE_OPTIONS.eval_identities * SAMPLE_OPTIONS.lfw_images, 62, 47)
    assert len(people.target_names) == SAMPLE_OPTIONS.eval_identities
    assert np.bincount(people.target).tolist() == [SAMPLE_OPTIONS.lfw_images] * SAMPLE_OPTIONS.eval_identities
    # scikit-learn's default crop holds the face: a face has contrast, the crop is not background.
    assert people.images.std(axis=(1, 2)).min() > 0.05
    with pytest.raises(ValueError, match="too restrictive"):
        fetch_lfw_people(
            data_home=lfw_home, download_if_missing=False, min_faces_per_person=SAMPLE_OPTIONS.lfw_images + 1
        )


@pytest.mark.parametrize("subset", ["train", "test", "10_folds"])
def test_fetch_lfw_pairs_loads_balanced_pairs_offline(lfw_home, subset):
    pairs = fetch_lfw_pairs(subset=subset, data_home=lfw_home, download_if_missing=False)
    assert pairs.pairs.shape[1:] == (2, 62, 47) and len(pairs.pairs) >= 2
    assert pairs.target.mean() == pytest.approx(0.5)
