import math
import os
from pathlib import Path

import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.evaluate import cache
from fercl_cli.sources.labelled import LabelledImage


class FakeSource:
    """A LabelledSource of ``n`` 8×8 images; ``fail_at`` raises during iteration to simulate a crash."""

    name = "fake"
    class_names = ("a", "b")

    def __init__(self, n: int = 5, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.passes = n, fail_at, 0

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        self.passes += 1
        for i in range(self.n):
            if i == self.fail_at:
                raise RuntimeError("disk on fire")
            yield LabelledImage(
                image=np.full((8, 8, 3), i % 256, np.uint8),
                label=i % 2,
                split="train" if i < 3 else "test",
                key=f"img{i}.png",
                valence=0.5 if i != 1 else math.nan,
            )

    def counts(self) -> dict[str, int]:
        return {"rows": self.n}

    def notes(self) -> list[str]:
        return ["fake: converted"]


def test_a_dataset_is_written_once_then_read_back_as_a_hit(tmp_path: Path):
    source = FakeSource()
    first = cache.ensure_dataset(tmp_path, "fake", "k" * 64, lambda: source, options={"size": 8})
    assert not first.hit and source.passes == 1
    assert first.path == tmp_path / f"fake-{'k' * 16}.h5"
    second = cache.ensure_dataset(
        tmp_path, "fake", "k" * 64, lambda: pytest.fail("source reopened"), options={}
    )
    assert second.hit and second.key == "k" * 64
    assert second.labels.tolist() == [0, 1, 0, 1, 0]
    assert second.splits.tolist() == ["train"] * 3 + ["test"] * 2
    assert second.rows("test").tolist() == [3, 4]
    assert second.keys.tolist() == [f"img{i}.png" for i in range(5)]
    assert np.isnan(second.valence[1]) and second.valence[0] == 0.5 and np.isnan(second.arousal).all()
    assert second.counts == {"rows": 5} and second.notes == ["fake: converted"]
    assert second.class_names == ("a", "b") and second.image_size == 8
    with second.images() as images:
        assert images.shape == (5, 8, 8, 3) and images.dtype == np.uint8
        assert int(images[4, 0, 0, 0]) == 4


def test_a_crash_during_conversion_leaves_no_file(tmp_path: Path):
    with pytest.raises(RuntimeError, match="disk on fire"):
        cache.ensure_dataset(tmp_path, "fake", "a" * 64, lambda: FakeSource(n=600, fail_at=400), options={})
    assert list(tmp_path.iterdir()) == []


def test_an_empty_source_is_an_error(tmp_path: Path):
    with pytest.raises(FerclError, match="no image could be read"):
        cache.ensure_dataset(tmp_path, "fake", "b" * 64, lambda: FakeSource(n=0), options={})


def test_the_fingerprint_follows_files_and_options(tmp_path: Path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.png").write_bytes(b"12")
    (tmp_path / "d" / ".hidden").write_bytes(b"ignored")
    files = cache.walk_files(tmp_path / "d")
    assert files == [tmp_path / "d" / "x.png"]
    key = cache.fingerprint("fake", tmp_path, files, {"size": 8})
    assert key == cache.fingerprint("fake", tmp_path, files, {"size": 8})
    assert key != cache.fingerprint("fake", tmp_path, files, {"size": 16})
    (tmp_path / "d" / "x.png").write_bytes(b"123")
    assert key != cache.fingerprint("fake", tmp_path, files, {"size": 8})
    stat = (tmp_path / "d" / "x.png").stat()
    os.utime(tmp_path / "d" / "x.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.fingerprint("fake", tmp_path, files, {"size": 8}) != key


def test_default_cache_dir_sits_next_to_the_data(tmp_path: Path):
    (tmp_path / "fer2013.csv").write_text("")
    assert cache.default_cache_dir(tmp_path) == tmp_path / ".fercl-cache"
    assert cache.default_cache_dir(tmp_path / "fer2013.csv") == tmp_path / ".fercl-cache"


def test_features_round_trip_and_are_ignored_when_written_for_something_else(tmp_path: Path):
    dataset_file = tmp_path / "fake-0123.h5"
    path = cache.features_path(dataset_file, "sha256:abc", 112, "fp32")
    assert path.parent == tmp_path and path.name.startswith("fake-0123.features-")
    assert path != cache.features_path(dataset_file, "sha256:abc", 96, "fp32")
    assert cache.load_features(path, dataset_key="k", backbone_hash="sha256:abc", rows=3) is None
    features = np.arange(12, dtype=np.float32).reshape(3, 4)
    cache.save_features(path, features, {"dataset_key": "k", "backbone_hash": "sha256:abc"})
    np.testing.assert_array_equal(
        cache.load_features(path, dataset_key="k", backbone_hash="sha256:abc", rows=3), features
    )
    assert cache.load_features(path, dataset_key="other", backbone_hash="sha256:abc", rows=3) is None
    assert cache.load_features(path, dataset_key="k", backbone_hash="sha256:abc", rows=4) is None


def test_a_foreign_file_under_the_cache_name_is_refused(tmp_path: Path):
    import h5py

    with h5py.File(tmp_path / "x.h5", "w") as handle:
        handle.attrs["format"] = "something else"
    with pytest.raises(FerclError, match="not a version-1 fercl evaluation cache"):
        cache.read_dataset(tmp_path / "x.h5")


def test_a_read_only_cache_folder_asks_for_another(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(cache.os, "access", lambda path, mode: False)  # as for a read-only data mount
    with pytest.raises(FerclError, match="not writable; pass --cache DIR"):
        cache.ensure_dataset(tmp_path, "fake", "c" * 64, FakeSource, options={})
