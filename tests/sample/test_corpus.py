import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.sample import corpus
from fercl_cli.sample.corpus import generate_sample
from fercl_cli.sample.photos import PhotoSearch
from tests.factories.corpus import TINY_SAMPLE_OPTIONS as TINY


def _digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file except the manifest (which names the options) and sklearn's cache."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != corpus.MANIFEST
    }


def test_same_seed_writes_identical_files_and_another_seed_differs(tmp_path, no_insightface, backend):
    first = _digests(Path(generate_sample(tmp_path / "a", TINY, backend=backend).root))
    again = _digests(Path(generate_sample(tmp_path / "b", TINY, backend=backend).root))
    other = _digests(Path(generate_sample(tmp_path / "c", replace(TINY, seed=8), backend=backend).root))
    assert first == again  # videos, JPEGs and every CSV, byte for byte
    assert any(name.endswith(".mp4") for name in first)
    for truth in ("voxceleb/ground_truth.csv", "lfw/ground_truth.csv", "fer2013/fer2013.csv"):
        assert first[truth] != other[truth]
    lfw_images = [name for name in first if name.startswith("lfw/lfw_home/lfw_funneled/")]
    assert any(first[name] != other.get(name) for name in lfw_images)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"identities": 0}, "--identities"),
        ({"seconds": -1.0}, "--seconds"),
        ({"clips_per_identity": 0}, "--clips-per-identity"),
        ({"eval_identities": 1}, "--eval-identities"),
        ({"lfw_images": 1}, "--lfw-images"),
    ],
)
def test_bad_options_are_named(tmp_path, change, message):
    with pytest.raises(FerclError, match=message):
        generate_sample(tmp_path / "out", replace(TINY, **change))
    assert not (tmp_path / "out").exists()


def test_output_must_be_a_folder_that_is_new_empty_or_an_earlier_corpus(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(FerclError, match="is a file"):
        generate_sample(a_file, TINY)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.tex").write_text("keep me")
    with pytest.raises(FerclError, match="not empty"):
        generate_sample(busy, TINY)
    assert (busy / "thesis.tex").read_text() == "keep me"


def test_no_package_photos_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(
        "fercl_cli.sample.photos.find_source_photos",
        lambda: PhotoSearch(
            photos=(), missing=("scikit-image's astronaut.png not found: pip install scikit-image",)
        ),
    )
    with pytest.raises(FerclError, match="no package photos found.*pip install scikit-image"):
        generate_sample(tmp_path / "out", TINY)


def test_with_only_scikit_image_and_matplotlib_derived_faces_fill_in(tmp_path, no_insightface, backend):
    summary = generate_sample(tmp_path / "out", replace(TINY, identities=3), backend=backend)
    assert summary.real_identities == 2 and summary.derived_identities == 3
    assert any("insightface" in note and "pip download" in note for note in summary.notes)
    identities = pd.read_csv(tmp_path / "out" / "identities.csv")
    derived = identities[identities["kind"] == "derived"]
    assert len(derived) == 3 and derived["source"].str.startswith("blend(").all()
    truth = pd.read_csv(tmp_path / "out" / "voxceleb" / "ground_truth.csv")
    kinds = dict(zip(identities["name"], identities["kind"], strict=True))
    assert (truth["identity_kind"] == truth["identity"].map(kinds)).all()
    manifest = json.loads((tmp_path / "out" / corpus.MANIFEST).read_text())
    assert [s["key"] for s in manifest["sources"]] == [
        "scikit-image:astronaut.png",
        "matplotlib:grace_hopper.jpg",
    ]


def test_regenerating_into_an_earlier_corpus_replaces_it(tmp_path, no_insightface, backend):
    root = tmp_path / "out"
    generate_sample(root, replace(TINY, identities=2), backend=backend)
    generate_sample(root, replace(TINY, identities=1), backend=backend)
    meta = pd.read_csv(root / "voxceleb" / "vox1_meta.csv", sep="\t")
    assert len(meta) == 1
    assert len(list((root / "voxceleb" / "videos").iterdir())) == 1


def test_session_corpus_groups_share_no_real_person(sample_dir, sample_corpus):
    identities = pd.read_csv(sample_dir / "identities.csv")
    assert set(identities["group"]) == {"pretraining", "evaluation"}
    real = identities[identities["kind"] == "real"]
    assert not set(real[real["group"] == "pretraining"]["name"]) & set(
        real[real["group"] == "evaluation"]["name"]
    )
    assert identities["name"].is_unique
    manifest = json.loads((sample_dir / corpus.MANIFEST).read_text())
    assert manifest["counts"] == sample_corpus.counts
    assert all(not Path(p).is_absolute() for p in manifest["paths"].values())
    assert (sample_dir / manifest["paths"]["contact_sheet"]).is_file()
