"""Damaged stores × every stage: one ``error:`` line (exit 2; ``store validate`` lists the problems and
exits 1), no traceback, and the damaged file is never written (its bytes are unchanged)."""

import hashlib
import math
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.store.journal import CommitRecord, _encode_record

runner = CliRunner()
FAST = ["--workers", "0", "--size", "64"]
TINY_RUN = [
    "--arch",
    "resnet18",
    "--size",
    "24",
    "--batch-clips",
    "2",
    "--workers",
    "0",
    "--device",
    "cpu",
    "--epochs",
    "1",
]


def _restamp(path: Path) -> None:
    """Give a file edited by h5py behind fercl's back a commit record of its new size (so the damage is
    what the check sees, not a truncation)."""
    size = path.stat().st_size
    fd = os.open(path, os.O_RDWR)
    try:
        os.pwrite(fd, _encode_record(CommitRecord(size=size, sequence=99)), 0)
    finally:
        os.close(fd)


def _delete_t(h5):
    del h5["frames/t"]


def _corrupt_clip_start(h5):
    h5["clips/start"][1] = 10**9


def _nan_landmarks(h5):
    h5["frames/landmarks"][3, 5] = (math.nan, math.nan)


def _rows_beyond_data(h5):
    h5.attrs["committed_rows"] = int(h5.attrs["committed_rows"]) + 50


def _wrong_dtype(h5):
    del h5["frames/score"]
    h5["frames"].create_dataset(
        "score", data=np.zeros(int(h5.attrs["committed_rows"]), np.int64), maxshape=(None,)
    )


EDITS = {
    "frames/t deleted": _delete_t,
    "clips/start corrupted": _corrupt_clip_start,
    "NaN landmarks": _nan_landmarks,
    "committed_rows beyond the data": _rows_beyond_data,
    "frames/score of the wrong dtype": _wrong_dtype,
}


def _repacked(source: Path, target: Path) -> None:
    """What h5repack does: the same objects in a new file, without fercl's user block."""
    with h5py.File(source, "r", locking=False) as src, h5py.File(target, "w") as dst:
        for name in src:
            src.copy(src[name], dst, name)
        dst.attrs.update(dict(src.attrs))


@pytest.fixture(scope="module")
def good_store(sample_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("damaged") / "faces.h5"
    result = runner.invoke(
        app, ["preprocess", "voxceleb", str(sample_dir / "voxceleb"), "--out", str(out), *FAST]
    )
    assert result.exit_code == 0, result.output
    return out


DAMAGES = [*EDITS, "repacked without the user block"]


def _damaged(
    good: Path, path: Path, damage: str, edits: Mapping[str, Callable[[h5py.File], object]] = EDITS
) -> Path:
    """``path``: a copy of ``good`` with ``edits[damage]`` applied behind fercl's back, or else repacked."""
    if damage in edits:
        shutil.copy(good, path)
        with h5py.File(path, "r+", locking=False) as h5:
            edits[damage](h5)
        _restamp(path)
    else:
        _repacked(good, path)
    return path


def _stage_args(stage: str, store: Path, folder: Path, sample_dir: Path) -> list[str]:
    return {
        "inspect": ["inspect", str(store)],
        "validate": ["store", "validate", str(store)],
        "swap": ["swap", str(store), "--out", str(folder / "swaps.h5")],
        "describe": ["describe", str(store)],
        "pretrain": [
            "pretrain",
            str(store),
            "--out",
            str(folder / "run"),
            *TINY_RUN,
        ],
        "merge": ["store", "merge", str(folder / "merged.h5"), str(store)],
        "preprocess": ["preprocess", "voxceleb", str(sample_dir / "voxceleb"), "--out", str(store), *FAST],
    }[stage]


def _assert_one_error_line(result, path: Path) -> None:
    """Exit status 2, no traceback (nor an exception escaping), one ``error:`` line naming ``path``."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(path) in errors[0], result.output


STAGES = ["inspect", "validate", "swap", "describe", "pretrain", "merge", "preprocess"]


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("stage", STAGES)
def test_a_damaged_store_is_refused_in_one_line_and_never_written(
    good_store, sample_dir, tmp_path, damage, stage
):
    store = _damaged(good_store, tmp_path / "faces.h5", damage)
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    result = runner.invoke(app, _stage_args(stage, store, tmp_path, sample_dir), env={"COLUMNS": "200"})
    if stage == "validate":  # lists the problems and exits 1 (an escaping exception would exit 1 too)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    else:
        _assert_one_error_line(result, store)
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
    assert not (tmp_path / "merged.h5").exists() and not (tmp_path / "swaps.h5").exists()


@pytest.fixture(scope="module")
def good_bank(good_store, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("bank")
    store = folder / "faces.h5"
    shutil.copy(good_store, store)
    result = runner.invoke(app, ["swap", str(store), "--out", str(folder / "swaps.h5")])
    assert result.exit_code == 0, result.output
    return store, folder / "swaps.h5"


BANK_EDITS = {
    "swaps/image deleted": lambda h5: h5.__delitem__("swaps/image"),
    "committed_swaps beyond the data": lambda h5: h5.attrs.__setitem__("committed_swaps", 10**6),
    "index pointing outside": lambda h5: (
        h5["index/start"].__setitem__(0, 10**6) or h5["index/count"].__setitem__(0, 3)
    ),
}


@pytest.mark.parametrize("damage", [*BANK_EDITS, "repacked without the user block"])
@pytest.mark.parametrize("stage", ["inspect", "swap", "pretrain"])
def test_a_damaged_swap_bank_is_refused_in_one_line_and_never_written(good_bank, tmp_path, damage, stage):
    store, good = good_bank
    bank = _damaged(good, tmp_path / "swaps.h5", damage, BANK_EDITS)
    before = hashlib.sha256(bank.read_bytes()).hexdigest()
    args = {
        "inspect": ["inspect", str(bank)],
        "swap": ["swap", str(store), "--out", str(bank)],
        "pretrain": [
            "pretrain",
            str(store),
            "--out",
            str(tmp_path / "run"),
            "--face-swap",
            "--swaps",
            str(bank),
            *TINY_RUN,
        ],
    }[stage]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    _assert_one_error_line(result, bank)
    assert hashlib.sha256(bank.read_bytes()).hexdigest() == before
