"""preprocess on the session's sample corpus: layouts, resume after kill -9, shard + merge, bad input."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.validate import validate

runner = CliRunner()
FAST = ["--workers", "0", "--size", "64"]


def _preprocess(args):
    result = runner.invoke(app, ["preprocess", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _columns(path):
    store = FaceStore(path)
    keys = [store.clip_key(c) for c in range(store.n_clips)]
    return store, keys, {name: store.column(name) for name in ("landmarks", "t", "frame_number", "detector")}


@pytest.fixture(scope="module")
def video_store(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pre") / "videos.h5"
    summary = _preprocess(["voxceleb", str(sample_dir / "voxceleb"), "--out", str(out), *FAST])
    return out, summary


def test_videos_layout_is_complete_sorted_and_valid(video_store, sample_dir):
    out, summary = video_store
    truth = pd.read_csv(sample_dir / "voxceleb" / "ground_truth.csv", dtype={"clip": str})
    assert summary["layout"] == "videos" and summary["clips_processed"] == summary["clips_found"] == 6
    assert summary["frames_kept"] == summary["frames_read"] == int(truth["interval_frame"].sum())
    assert summary["detections"] * 3 <= summary["frames_read"]
    assert validate(out) == []
    store, keys, cols = _columns(out)
    assert keys == sorted(keys)
    for c in range(store.n_clips):
        t = cols["t"][store.clip_rows(c)]
        assert np.all(np.diff(t) > 0)


def test_stored_landmarks_follow_the_ground_truth_expression(video_store, sample_dir):
    from fercl_cli.sample.expressions import mouth_opening

    out, _ = video_store
    store, keys, cols = _columns(out)
    truth = pd.read_csv(sample_dir / "voxceleb" / "ground_truth.csv", dtype={"clip": str})
    kept = truth[truth["interval_frame"] == 1].sort_values(["voxceleb_id", "video_id", "clip", "frame"])
    assert len(kept) == store.n_frames
    surprise = (kept["expression"] == "surprise").to_numpy() * kept["intensity"].to_numpy()
    opening = np.array([mouth_opening(lm) for lm in cols["landmarks"]])
    assert np.corrcoef(surprise, opening)[0, 1] > 0.4


def test_frames_layout_gives_the_same_clips_and_frames(video_store, sample_dir, tmp_path):
    out, _ = video_store
    frames = tmp_path / "frames.h5"
    summary = _preprocess(
        ["voxceleb", str(sample_dir / "voxceleb"), "--layout", "frames", "--out", str(frames), *FAST]
    )
    assert summary["layout"] == "frames"
    a, keys_a, cols_a = _columns(out)
    b, keys_b, cols_b = _columns(frames)
    assert keys_a == keys_b
    np.testing.assert_allclose(cols_a["t"], cols_b["t"], atol=1e-4)
    # Different renderings of the same frames (mp4 vs. JPEG), aligned onto the same template.
    assert np.abs(cols_a["landmarks"] - cols_b["landmarks"]).mean() < 1.5
    diff = np.abs(a.images(np.arange(a.n_frames)).astype(int) - b.images(np.arange(b.n_frames)).astype(int))
    assert diff.mean() < 20


def test_kill_minus_9_then_rerun_equals_an_uninterrupted_run(video_store, sample_dir, tmp_path):
    out, _ = video_store
    killed = tmp_path / "killed.h5"
    cmd = [
        sys.executable,
        "-m",
        "fercl_cli",
        "preprocess",
        "voxceleb",
        str(sample_dir / "voxceleb"),
        "--out",
        str(killed),
        *FAST,
        "--commit-seconds",
        "0",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if killed.exists():
            try:
                if 1 <= FaceStore(killed).n_clips < 6:
                    break
            except Exception:  # the store may be mid-creation; poll again
                pass
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = FaceStore(killed).n_clips
    assert partial < 6, "the run finished before it was killed"
    summary = _preprocess(["voxceleb", str(sample_dir / "voxceleb"), "--out", str(killed), *FAST])
    assert summary["clips_already_done"] == partial and summary["clips_processed"] == 6 - partial
    _, keys_a, cols_a = _columns(out)
    _, keys_b, cols_b = _columns(killed)
    assert keys_a == keys_b
    for name in cols_a:
        np.testing.assert_array_equal(cols_a[name], cols_b[name])


def test_shards_merged_equal_a_single_run(video_store, sample_dir, tmp_path):
    out, _ = video_store
    shards = [tmp_path / f"shard{i}.h5" for i in range(2)]
    for i, shard in enumerate(shards):
        _preprocess(
            ["voxceleb", str(sample_dir / "voxceleb"), "--out", str(shard), *FAST, "--shard", f"{i}/2"]
        )
    merged = tmp_path / "merged.h5"
    result = runner.invoke(app, ["store", "merge", str(merged), *map(str, shards)])
    assert result.exit_code == 0, result.output
    a, keys_a, cols_a = _columns(out)
    b, keys_b, cols_b = _columns(merged)
    assert keys_a == keys_b
    for name in cols_a:
        np.testing.assert_array_equal(cols_a[name], cols_b[name])
    np.testing.assert_array_equal(a.images(np.arange(a.n_frames)), b.images(np.arange(b.n_frames)))


def test_corrupt_video_is_recorded_and_the_run_goes_on(sample_dir, tmp_path):
    root = tmp_path / "vox"
    shutil.copytree(sample_dir / "voxceleb" / "videos" / "id10001", root / "id10001")
    (root / "id10001" / "broken").mkdir()
    (root / "id10001" / "broken" / "00001.mp4").write_bytes(b"\x00\x01 not a video")
    summary = _preprocess(["voxceleb", str(root), "--out", str(tmp_path / "s.h5"), *FAST])
    assert summary["clips_processed"] == 3 and summary["clips_unreadable"] == 1
    assert summary["clips_without_frames"] == 0  # an unreadable video is not "a clip without any face"
    failures = FaceStore(tmp_path / "s.h5").failures()
    assert any("cannot open the video" in f.reason and "00001.mp4" in f.source for _, f in failures)


def test_fps_above_the_videos_rate_is_counted_as_such(sample_dir, tmp_path):
    root = tmp_path / "vox"
    shutil.copytree(sample_dir / "voxceleb" / "videos" / "id10001", root / "id10001")
    summary = _preprocess(["voxceleb", str(root), "--out", str(tmp_path / "s.h5"), *FAST, "--fps", "50"])
    assert summary["clips_fps_above_video"] == summary["clips_processed"] > 0
    assert summary["clips_without_frames"] == 0 and summary["clips_unreadable"] == 0
    failures = FaceStore(tmp_path / "s.h5").failures()
    assert all("is above the video's 25.000 fps; lower --fps" in f.reason for _, f in failures)


def test_bad_inputs_fail_before_any_work(sample_dir, tmp_path, monkeypatch, video_store):
    result = runner.invoke(
        app, ["preprocess", "voxceleb", str(tmp_path / "nope"), "--out", str(tmp_path / "x.h5")]
    )
    assert result.exit_code == 2 and "not a readable folder" in result.output
    out, _ = video_store
    copy = tmp_path / "other.h5"
    shutil.copy(out, copy)
    result = runner.invoke(
        app,
        [
            "preprocess",
            "voxceleb",
            str(sample_dir / "voxceleb"),
            "--out",
            str(copy),
            "--workers",
            "0",
            "--size",
            "96",
        ],
    )
    assert result.exit_code == 2 and "error:" in result.output and "size" in result.output
    from fercl_cli.faces import models

    monkeypatch.setattr(models, "package_models_dir", lambda: None)
    monkeypatch.delenv(models.ENV_VAR, raising=False)
    result = runner.invoke(
        app,
        ["preprocess", "folder", str(sample_dir / "voxceleb" / "videos"), "--out", str(tmp_path / "m.h5")],
    )
    assert result.exit_code == 2 and "shape_predictor_68_face_landmarks.dat" in result.output
    assert not (tmp_path / "m.h5").exists()


def test_frame_folders_with_hashed_names_preprocess_without_overflow(sample_dir, tmp_path):
    source = next((sample_dir / "voxceleb" / "unzippedIntervalFaces" / "data").glob("*/1.6/*/1"))
    clip = tmp_path / "tree" / "person" / "clip1"
    clip.mkdir(parents=True)
    for i, frame in enumerate(sorted(source.glob("*.jpg"))):
        shutil.copy(frame, clip / f"{i:02d}_{'9' * 12}{i:08d}.jpg")
    summary = _preprocess(["folder", str(tmp_path / "tree"), "--out", str(tmp_path / "h.h5"), *FAST])
    assert summary["clips_processed"] == 1 and summary["frames_kept"] > 0
    store = FaceStore(tmp_path / "h.h5")
    numbers = store.column("frame_number")
    assert store.n_frames == summary["frames_kept"] and (np.diff(numbers) > 0).all()


def test_paths_with_spaces_unicode_and_symlink_loops(sample_dir, tmp_path):
    root = tmp_path / "my data" / "vöx çeleb"
    shutil.copytree(sample_dir / "voxceleb" / "videos", root / "videos")
    (root / "videos" / "id10001" / "loop").symlink_to("..")
    (root / "videos" / "back to top").symlink_to("../..")
    out = tmp_path / "my data" / "fäces out.h5"
    summary = _preprocess(["voxceleb", str(root), "--out", str(out), *FAST])
    assert summary["clips_processed"] == 6
    folder = _preprocess(["folder", str(root / "videos"), "--out", str(tmp_path / "földer.h5"), *FAST])
    assert folder["clips_found"] == 6 and any("symbolic links" in note for note in folder["notes"])
    assert FaceStore(out).n_frames == FaceStore(tmp_path / "földer.h5").n_frames
