import os
import shutil
import signal

import pytest

from fercl_cli.store import journal
from fercl_cli.store.journal import JournaledFile, journal_path, read_record, recover
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.validate import validate
from tests.factories.clips import clip_specs, write_clips
from tests.store.checks import assert_store_holds


@pytest.fixture
def committed(tmp_path):
    """A JournaledFile with one commit: 512 bytes of user block, then 'a' * 8000."""
    path = tmp_path / "blob"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    handle = JournaledFile(path, fd, None)
    handle.seek(512)
    handle.write(b"a" * 8000)
    handle.commit()
    yield path, fd, handle
    os.close(fd)


def test_overwrites_stay_in_memory_until_commit_and_new_space_goes_to_disk(committed):
    path, fd, handle = committed
    assert read_record(fd) == journal.CommitRecord(size=8512, sequence=1)
    handle.seek(5000)
    handle.write(b"B" * 10)
    handle.seek(8512)
    handle.write(b"T" * 100)
    assert os.pread(fd, 10, 5000) == b"a" * 10
    assert os.pread(fd, 100, 8512) == b"T" * 100
    handle.seek(4990)
    assert handle.read(30) == b"a" * 10 + b"B" * 10 + b"a" * 10
    handle.commit()
    assert os.pread(fd, 10, 5000) == b"B" * 10
    assert read_record(fd) == journal.CommitRecord(size=8612, sequence=2)
    assert not journal_path(path).exists()


def test_rollback_forgets_everything_since_the_last_commit(committed):
    _, fd, handle = committed
    handle.seek(600)
    handle.write(b"X" * 4000)
    handle.seek(9000)
    handle.write(b"T")
    handle.rollback()
    handle.seek(600)
    assert handle.read(10) == b"a" * 10
    assert os.fstat(fd).st_size == 8512
    handle.seek(0, os.SEEK_END)
    assert handle.tell() == 8512


def test_truncation_below_the_committed_size_waits_for_the_commit(committed):
    _, fd, handle = committed
    handle.truncate(3000)
    assert os.fstat(fd).st_size == 8512
    handle.seek(2990)
    assert handle.read(20) == b"a" * 10 + bytes(10)
    handle.truncate(6000)
    handle.seek(5000)
    assert handle.read(10) == bytes(10)
    handle.commit()
    assert os.fstat(fd).st_size == 6000
    assert os.pread(fd, 20, 2990) == b"a" * 10 + bytes(10)


def _interrupted_commit(monkeypatch, handle):
    """Commit until the journal is durable, then stop as if killed before any page reached the file."""

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(journal, "_apply", killed)
    handle.seek(1000)
    handle.write(b"N" * 5000)
    with pytest.raises(KeyboardInterrupt):
        handle.commit()
    monkeypatch.undo()


def test_recover_replays_a_complete_journal(committed, monkeypatch):
    path, fd, handle = committed
    _interrupted_commit(monkeypatch, handle)
    assert os.pread(fd, 10, 1000) == b"a" * 10
    assert recover(path, fd) == journal.CommitRecord(size=8512, sequence=2)
    assert os.pread(fd, 5000, 1000) == b"N" * 5000
    assert not journal_path(path).exists()


def test_recover_ignores_a_torn_journal_and_a_stale_one(committed, monkeypatch):
    path, fd, handle = committed
    _interrupted_commit(monkeypatch, handle)
    stale = journal_path(path).read_bytes()
    with journal_path(path).open("r+b") as torn:
        torn.truncate(len(stale) - 3)
    assert recover(path, fd) == journal.CommitRecord(size=8512, sequence=1)
    assert os.pread(fd, 10, 1000) == b"a" * 10
    fresh = JournaledFile(path, fd, read_record(fd))
    fresh.seek(700)
    fresh.write(b"C")
    fresh.commit()
    fresh.commit()
    journal_path(path).write_bytes(stale)  # a journal for sequence 2, but the file is at sequence 3
    assert recover(path, fd).sequence == 3
    assert os.pread(fd, 10, 1000) == b"a" * 10


def test_recover_cuts_bytes_written_after_the_last_commit(committed):
    path, fd, handle = committed
    handle.seek(8512)
    handle.write(b"garbage" * 100)
    assert os.fstat(fd).st_size > 8512
    recover(path, fd)
    assert os.fstat(fd).st_size == 8512


_MUTATIONS = ("pwrite", "ftruncate", "replace", "unlink", "fsync")


def _run_killed_at(kill_at: int, work) -> tuple[bool, int]:
    """Fork; the child runs ``work`` and SIGKILLs itself just before its ``kill_at``-th file mutation
    (0: never). Returns (killed, mutations counted by a child that was not killed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child process
        os.close(read_end)
        count = [0]
        for name in _MUTATIONS:
            real = getattr(os, name)

            def counted(*args, _real=real, **kwargs):
                count[0] += 1
                if count[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
                return _real(*args, **kwargs)

            setattr(os, name, counted)
        work()
        os.write(write_end, str(count[0]).encode())
        os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    output = os.read(read_end, 64)
    os.close(read_end)
    return os.WIFSIGNALED(status), int(output or 0)


def test_a_kill_before_any_file_mutation_leaves_exactly_a_commit_and_writing_resumes(tmp_path):
    specs = clip_specs(8)
    base, path = tmp_path / "base.h5", tmp_path / "store.h5"
    write_clips(base, specs[:4])

    def work():
        write_clips(path, specs[:6])

    shutil.copy(base, path)
    killed, total = _run_killed_at(0, work)
    assert not killed and total > 20
    seen = set()
    for kill_at in range(1, total + 1):
        for leftover in tmp_path.glob("store.h5*"):
            leftover.unlink()
        shutil.copy(base, path)
        killed, _ = _run_killed_at(kill_at, work)
        assert killed
        store = FaceStore(path)
        assert validate(path) == [], kill_at
        assert store.n_clips in (4, 6), kill_at  # clips 4 and 5 are committed together
        assert_store_holds(store, specs[: store.n_clips])
        seen.add(store.n_clips)
        store.close()
        if kill_at % 7 == 0:
            write_clips(path, specs)
            assert_store_holds(FaceStore(path), specs)
    assert seen == {4, 6}


def test_a_kill_while_creating_leaves_no_store_and_a_rerun_starts_clean(tmp_path):
    specs = clip_specs(2)
    path = tmp_path / "new.h5"
    _, total = _run_killed_at(0, lambda: write_clips(path, specs))
    for leftover in tmp_path.iterdir():
        leftover.unlink()
    # Every 9th mutation while HDF5 lays out the new file (all of it in the unpublished .creating file),
    # then every one of the last 15 (publishing, first commits, closing).
    for kill_at in sorted(set(range(1, total + 1, 9)) | set(range(max(1, total - 14), total + 1))):
        killed, _ = _run_killed_at(kill_at, lambda: write_clips(path, specs))
        assert killed
        if path.exists():
            assert validate(path) == []
        write_clips(path, specs)
        assert_store_holds(FaceStore(path), specs)
        for leftover in tmp_path.iterdir():
            leftover.unlink()
