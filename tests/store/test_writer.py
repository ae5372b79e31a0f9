import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.journal import read_record
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.schema import ClipFrames
from fercl_cli.store.validate import validate
from fercl_cli.store.writer import FaceStoreWriter
from tests.factories.clips import SETTINGS, clip_specs, make_frames, write_clips
from tests.store.checks import assert_store_holds, dataset_arrays

ROOT = Path(__file__).resolve().parents[2]


def test_writes_clips_and_resumes_by_key(tmp_path):
    specs = clip_specs(10)
    path = tmp_path / "faces.h5"
    write_clips(path, specs[:6])
    with FaceStoreWriter(path, **SETTINGS) as writer:
        assert writer.committed_keys == {spec.key for spec in specs[:6]}
        assert writer.n_clips == 6 and writer.n_frames == sum(spec.frames for spec in specs[:6])
        assert writer.has_clip(*specs[0].key) and not writer.has_clip(*specs[7].key)
    write_clips(path, specs)
    store = FaceStore(path)
    assert_store_holds(store, specs)
    assert store.identity_names == sorted(
        {spec.identity for spec in specs}, key=[s.identity for s in specs].index
    )
    assert validate(path) == []


def test_staged_clips_are_not_durable_before_commit_and_discarded_on_error(tmp_path):
    specs = clip_specs(4)
    path = tmp_path / "faces.h5"
    with pytest.raises(RuntimeError), FaceStoreWriter(path, **SETTINGS) as writer:
        writer.add_clip(*specs[0].key, make_frames(specs[0]), specs[0].failures)
        writer.commit()
        writer.add_clip(*specs[1].key, make_frames(specs[1]), specs[1].failures)
        raise RuntimeError("caller failed")
    assert_store_holds(FaceStore(path), specs[:1])


def test_resuming_with_other_settings_names_them(tmp_path):
    path = tmp_path / "faces.h5"
    write_clips(path, clip_specs(2), config={"min_face": 40})
    with pytest.raises(FerclError) as error:
        FaceStoreWriter(path, **{**SETTINGS, "crop_size": 32}, config={"min_face": 30})
    message = str(error.value)
    assert "crop_size (store 16, now 32)" in message and "config.min_face (store 40, now 30)" in message
    assert "new --out" in message and "delete" in message
    FaceStoreWriter(path, **SETTINGS, config={"min_face": 40}).close()  # the failed open left no lock


def test_a_second_writer_is_refused_while_one_is_open(tmp_path):
    path = tmp_path / "faces.h5"
    with FaceStoreWriter(path, **SETTINGS), pytest.raises(FerclError, match="another process is writing"):
        FaceStoreWriter(path, **SETTINGS)


def test_writer_refuses_a_foreign_hdf5_file(tmp_path):
    import h5py

    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["x"] = np.arange(3)
    with pytest.raises(FerclError, match="not written by fercl"):
        FaceStoreWriter(path, **SETTINGS)


def _frames(n=3, size=16, **changes):
    spec = clip_specs(5)[4]
    frames = make_frames(spec, size)
    fields = {name: getattr(frames, name)[:n] for name in ("landmarks", "source_landmarks", "bbox", "matrix")}
    fields.update(
        image=frames.image[:n], score=frames.score[:n], t=frames.t[:n], frame_number=frames.frame_number[:n]
    )
    fields["detector"] = ["hog"] * n
    fields.update(changes)
    return ClipFrames(**fields)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"t": np.array([0.0, 0.5, 0.5], np.float32)}, "strictly increasing"),
        ({"image": np.zeros((3, 16, 16, 3), np.float32)}, "uint8"),
        ({"image": np.zeros((3, 8, 8, 3), np.uint8)}, "uint8"),
        ({"bbox": np.zeros((3, 5), np.float32)}, "bbox must have shape"),
        ({"score": np.array([0, np.nan, 1], np.float32)}, "NaN"),
        ({"detector": ["hog", "hog", "magic"]}, "unknown detector labels"),
        ({"detector": np.array([0, 1, 99])}, "detector codes"),
    ],
)
def test_add_clip_rejects_bad_frames_with_a_reason(tmp_path, changes, message):
    with FaceStoreWriter(tmp_path / "faces.h5", **SETTINGS) as writer:
        with pytest.raises(ValueError, match=message):
            writer.add_clip("a", "b", "c", _frames(**changes))
        writer.add_clip("a", "b", "c", _frames())
        with pytest.raises(ValueError, match="already in"):
            writer.add_clip("a", "b", "c", _frames())


def test_frames_without_landmarks_are_stored_as_zeros_and_codes_are_accepted(tmp_path):
    landmarks = _frames().landmarks.copy()
    landmarks[2] = np.nan
    frames = _frames(landmarks=landmarks, detector=np.array([0, 2, 5], np.uint8))
    path = tmp_path / "faces.h5"
    with FaceStoreWriter(path, **SETTINGS) as writer:
        writer.add_clip("a", "b", "c", frames)
    store = FaceStore(path)
    assert store.has_landmarks().tolist() == [True, True, False]
    assert [store.detector_labels[code] for code in store.column("detector")] == ["hog", "tracked", "none"]
    assert not store.landmarks(2).any() and not store.column("source_landmarks", 2).any()
    assert np.array_equal(store.landmarks(slice(0, 2)), landmarks[:2])
    assert validate(path) == []


def test_jpeg_store_keeps_given_bytes_and_encodes_images(tmp_path):
    path = tmp_path / "faces.h5"
    ramp = np.linspace(0, 255, 32, dtype=np.float32)
    smooth = np.stack([np.broadcast_to(ramp, (32, 32)), np.full((32, 32), 40), np.full((32, 32), 200)], -1)
    frames = _frames(size=32, image=np.repeat(smooth[None].astype(np.uint8), 3, axis=0))
    settings = {**SETTINGS, "crop_size": 32}
    with FaceStoreWriter(path, encoding="jpeg", jpeg_quality=95, **settings) as writer:
        writer.add_clip("a", "v", "encoded-here", frames)
        writer.commit()
    first = FaceStore(path).encoded(slice(0, 3))
    with FaceStoreWriter(path, encoding="jpeg", jpeg_quality=95, **settings) as writer:
        copied = _frames(size=32, image=None)
        copied.encoded = first
        writer.add_clip("a", "v", "copied", copied)
    store = FaceStore(path)
    assert store.encoded(slice(3, 6)) == first
    images = store.images(np.arange(6))
    assert np.array_equal(images[:3], images[3:])
    assert (
        np.abs(images[:3].astype(int) - frames.image.astype(int)).mean() < 40
    )  # lossy, but the same picture
    assert validate(path) == []


def _committed_sequence(path: Path) -> int:
    """The store's commit count, read from its commit record (-1 before the store exists)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return -1
    try:
        record = read_record(fd)
    finally:
        os.close(fd)
    return -1 if record is None else record.sequence


def _writer_process(path: Path, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.factories.clips", str(path), "raw", str(count)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_at_random_moments_loses_nothing_committed_and_resumes_to_the_same_store(tmp_path):
    specs = clip_specs(1000)  # more than 12 short runs can write
    path = tmp_path / "killed.h5"
    rng = random.Random(1)
    kills, committed = 0, 0
    while kills < 12:
        before = _committed_sequence(path)
        process = _writer_process(path, len(specs))
        deadline = time.monotonic() + 120
        while process.poll() is None and _committed_sequence(path) <= before:
            assert time.monotonic() < deadline, "the writer made no progress"
            time.sleep(0.002)
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(rng.uniform(0.0, 0.04))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
        kills += 1
        store = FaceStore(path)
        assert validate(path) == []
        assert store.n_clips >= committed
        committed = store.n_clips
        assert_store_holds(store, specs[:committed])
        store.close()
    # Resume to a fixed point past the last kill, and compare with one uninterrupted run.
    target = committed + 10
    finishing = _writer_process(path, target)
    assert finishing.wait() == 0, finishing.stderr.read().decode()
    finishing.stderr.close()
    reference = tmp_path / "uninterrupted.h5"
    write_clips(reference, specs[:target])
    resumed, clean = dataset_arrays(path), dataset_arrays(reference)
    assert resumed.keys() == clean.keys()
    for name in clean:
        assert np.array_equal(resumed[name], clean[name]), name
    assert_store_holds(FaceStore(path), specs[:target])


def test_an_io_error_inside_hdf5_fails_the_commit_and_keeps_the_last_one(tmp_path, monkeypatch):
    from fercl_cli.store import journal

    specs = clip_specs(6)
    path = tmp_path / "faces.h5"
    write_clips(path, specs[:3])
    real, calls = journal._write_all, []

    def disk_full(fd, data, offset):
        calls.append(offset)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(fd, data, offset)

    monkeypatch.setattr(journal, "_write_all", disk_full)
    with (
        pytest.raises(OSError, match="nothing was committed.*No space left"),
        FaceStoreWriter(path, **SETTINGS) as w,
    ):
        w.add_clip(*specs[3].key, make_frames(specs[3]), specs[3].failures)
        w.commit()
    monkeypatch.undo()
    assert_store_holds(FaceStore(path), specs[:3])
    write_clips(path, specs)
    assert_store_holds(FaceStore(path), specs)
