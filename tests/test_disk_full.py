"""Every writing stage on a full disk: one ``error:`` line naming the path, no traceback, no crash, no
partial file left, and a clean rerun (resuming where the stage resumes) once space is freed.

The disk is a small tmpfs mounted by the test (needs root and mount rights; skipped with the reason
otherwise), filled with a preallocated filler file that is deleted to free the space.
"""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import h5py
import pytest

from fercl_cli.store.reader import FaceStore
from fercl_cli.store.validate import validate
from tests.factories.stores import write_tiny_store

pytestmark = pytest.mark.slow
LEFTOVERS = (".creating", ".journal")  # and any ".tmp" in a name (cache files are ".<name>.<pid>.tmp")


class SmallDisk:
    """A tmpfs at ``root``; :meth:`fill` leaves ``free`` bytes, :meth:`free_up` deletes the filler."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self, free: int) -> None:
        available = shutil.disk_usage(self.root).free
        with open(self.filler, "wb") as handle:
            os.posix_fallocate(handle.fileno(), 0, max(1, available - free))

    def free_up(self) -> None:
        self.filler.unlink()

    def leftovers(self) -> list[str]:
        """Partial files and scratch folders a failed stage must not leave behind."""
        return [
            str(path.relative_to(self.root))
            for path in self.root.rglob("*")
            if path.name.endswith(LEFTOVERS) or ".tmp" in path.name or path.name.startswith(".describe-")
        ]


@pytest.fixture
def disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    root = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200m", "tmpfs", str(root)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield SmallDisk(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def fercl(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "fercl_cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def assert_clean_refusal(result: subprocess.CompletedProcess, disk: SmallDisk) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert str(disk.root) in errors[0], errors[0]
    assert "disk is full" in errors[0] or "is free there" in errors[0], errors[0]
    assert disk.leftovers() == []
    return errors[0]


@pytest.fixture(scope="module")
def faces(sample_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("full") / "faces.h5"
    result = fercl(
        "preprocess", "voxceleb", sample_dir / "voxceleb", "--out", out, "--workers", "0", "--size", "64"
    )
    assert result.returncode == 0, result.stderr
    return out


def test_preprocess_fails_mid_run_and_resumes(disk, faces, sample_dir):
    out = disk.root / "faces.h5"
    args = ["preprocess", "voxceleb", sample_dir / "voxceleb", "--out", out, "--workers", "0", "--size", "64"]
    disk.fill(int(faces.stat().st_size * 0.5))
    assert_clean_refusal(fercl(*args, "--commit-seconds", "0"), disk)
    assert validate(out) == []
    done = FaceStore(out).n_clips
    assert 0 < done < 6, "the disk should fill after some clips were committed"
    disk.free_up()
    rerun = fercl(*args, "--json")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["clips_already_done"] == done and summary["clips_processed"] == 6 - done
    assert FaceStore(out).n_frames == FaceStore(faces).n_frames and validate(out) == []


def test_merge_fails_cleanly_and_resumes(disk, faces):
    out = disk.root / "merged.h5"
    disk.fill(200_000)
    assert_clean_refusal(fercl("store", "merge", out, faces), disk)
    disk.free_up()
    assert fercl("store", "merge", out, faces).returncode == 0
    assert FaceStore(out).n_frames == FaceStore(faces).n_frames


def test_swap_fails_cleanly_and_resumes(disk, faces):
    store = disk.root / "faces.h5"
    shutil.copy(faces, store)
    out = disk.root / "swaps.h5"
    disk.fill(300_000)
    assert_clean_refusal(fercl("swap", store, "--out", out), disk)
    disk.free_up()
    rerun = fercl("swap", store, "--out", out, "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["total_swaps"] > 0


def test_describe_refuses_before_work_and_never_crashes(disk, faces):
    store = disk.root / "faces.h5"
    shutil.copy(faces, store)
    before = store.read_bytes()
    disk.fill(100_000)
    assert_clean_refusal(fercl("describe", store), disk)
    assert store.read_bytes() == before
    disk.free_up()
    assert fercl("describe", store).returncode == 0
    with h5py.File(store, "r") as h5:
        assert "geometry" in h5["descriptors"]


def test_pretrain_checks_space_before_training_and_runs_once_freed(disk, tmp_path):
    store = write_tiny_store(tmp_path / "tiny.h5")
    out = disk.root / "run"
    args = ["pretrain", store, "--out", out, "--arch", "resnet18", "--size", "24", "--batch-clips", "2"]
    args += ["--workers", "0", "--device", "cpu", "--epochs", "1"]
    disk.fill(1_000_000)
    assert_clean_refusal(fercl(*args), disk)
    assert not (out / "metrics.jsonl").exists() and not (out / "last.pt").exists()
    disk.free_up()
    assert fercl(*args).returncode == 0


def test_evaluate_cache_and_sample_fail_cleanly(disk, sample_dir):
    cache = disk.root / "cache"
    args = ["evaluate", "--task", "fer2013", "--data", sample_dir / "fer2013" / "fer2013.csv"]
    args += ["--checkpoint", "random", "--arch", "resnet18", "--size", "32", "--cache", cache]
    disk.fill(50_000)
    assert_clean_refusal(fercl(*args), disk)
    corpus = disk.root / "corpus"
    sample = ["sample", corpus, "--identities", "2", "--clips-per-identity", "1", "--seconds", "2"]
    assert_clean_refusal(fercl(*sample, "--eval-identities", "2"), disk)
    assert not corpus.exists() or list(corpus.iterdir()) == []
    disk.free_up()
    assert fercl(*args).returncode == 0
    assert fercl(*sample, "--eval-identities", "2").returncode == 0


def test_export_checks_space_and_keeps_no_partial_file(disk):
    out = disk.root / "exports" / "face.pth"
    args = ["export", "random", "--arch", "resnet18", "--format", "torchvision", "--out", out]
    disk.fill(1_000_000)  # the resnet18 backbone needs about 45 MB
    assert "face.pth needs about" in assert_clean_refusal(fercl(*args), disk)
    assert not out.exists()
    disk.free_up()
    assert fercl(*args).returncode == 0
    assert out.exists() and out.with_name("face.pth.json").exists()


def test_a_plain_hdf5_file_on_a_full_disk_raises_instead_of_crashing(disk):
    target = disk.root / "cache.h5"
    disk.fill(20_000)
    script = f"""
import errno, numpy as np
from pathlib import Path
from fercl_cli.store.guarded import new_h5
try:
    with new_h5(Path({str(target)!r})) as h5:
        h5.create_dataset("x", data=np.ones((512, 1024), np.float32))
except OSError as exc:
    print("raised", exc.errno == errno.ENOSPC, exc.filename, exc.needed > 2_000_000)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["raised", "True", str(target), "True"]
