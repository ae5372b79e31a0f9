"""Worker processes die with their parent: ``kill -9`` of a preprocess or swap run leaves no orphan."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories.stores import write_tiny_store

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_parent_and_count_survivors(args: list[str], workers: int) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fercl_cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    children: list[int] = []
    while time.monotonic() < deadline and len(children) < workers:
        assert proc.poll() is None, "the run ended before its workers started"
        children = _children(proc.pid)
        time.sleep(0.05)
    assert len(children) >= workers, children
    time.sleep(1.0)  # let the workers finish their initializers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    return sum(_alive(pid) for pid in children)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_preprocess_workers_die_with_a_killed_parent(sample_dir, tmp_path):
    args = ["preprocess", "voxceleb", str(sample_dir / "voxceleb"), "--out", str(tmp_path / "f.h5")]
    assert _kill_parent_and_count_survivors([*args, "--workers", "2", "--size", "64"], 2) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_swap_workers_die_with_a_killed_parent(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5", clips=12, frames=60)
    args = ["swap", str(store), "--out", str(tmp_path / "s.h5"), "--workers", "2", "--per-frame", "4"]
    assert _kill_parent_and_count_survivors(args, 2) == 0
