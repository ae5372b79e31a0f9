import shutil

import h5py
import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.descriptors import write_descriptors
from fercl_cli.store.validate import validate
from tests.factories.clips import clip_specs, write_clips

SPECS = clip_specs(9)  # clip 1 has 2 frames (rows 1-2), clip 6 none; row 4 has no landmarks


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    folder = tmp_path_factory.mktemp("validate")
    raw, jpeg = folder / "raw.h5", folder / "jpeg.h5"
    write_clips(raw, SPECS)
    write_clips(jpeg, SPECS, encoding="jpeg")
    return raw, jpeg


def _edited(sound_path, tmp_path, edit):
    path = tmp_path / sound_path.name
    shutil.copy(sound_path, path)
    with h5py.File(path, "r+", locking=False) as h5:
        edit(h5)
    return validate(path)


def test_sound_stores_have_no_problems(sound):
    assert validate(sound[0]) == [] and validate(sound[1]) == []


def _set(name, row, value):
    def edit(h5):
        data = h5[name][...]
        data[row] = value
        h5[name][...] = data

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda h5: h5.attrs.modify("committed_rows", h5.attrs["committed_rows"] + 1), "committed counter"),
        (_set("clips/start", 2, 4), "does not start where"),
        (_set("frames/clip", 3, 0), "frames/clip of row 3"),
        (_set("frames/t", 2, 0.0), "not strictly increasing within a clip at row 2"),
        (_set("frames/landmarks", 5, 500.0), "outside"),
        (_set("frames/landmarks", 4, 3.0), "no landmarks"),
        (_set("frames/source_landmarks", 5, 0.0), "not matrix x source_landmarks"),
        (_set("frames/matrix", 0, np.nan), "not finite at row 0"),
        (_set("frames/detector", 0, 77), "unknown code at row 0"),
        (_set("clips/identity", 0, 40), "points outside identities"),
        (_set("failures/clip", 0, 99), "failures/clip points outside"),
        (_set("identities/name", 1, "id00000"), "duplicate names"),
    ],
)
def test_each_broken_invariant_is_reported(sound, tmp_path, edit, expected):
    problems = _edited(sound[0], tmp_path, edit)
    assert any(expected in problem for problem in problems), problems


def test_duplicate_clip_keys_are_reported(sound, tmp_path):
    def edit(h5):
        for column in ("identity", "video", "name"):
            data = h5[f"clips/{column}"][...]
            data[5] = data[0]
            h5[f"clips/{column}"][...] = data

    assert any("same (identity, video, name) key" in p for p in _edited(sound[0], tmp_path, edit))


def test_broken_jpeg_offsets_are_reported(sound, tmp_path):
    problems = _edited(sound[1], tmp_path, _set("frames/jpeg_start", 3, 1))
    assert any("jpeg_start" in problem for problem in problems)


def test_stale_descriptors_are_reported(sound, tmp_path):
    path = tmp_path / "faces.h5"
    shutil.copy(sound[0], path)
    rows = sum(spec.frames for spec in SPECS)
    write_descriptors(path, "geometry", np.ones((rows, 4), np.float32))
    assert validate(path) == []
    write_clips(path, clip_specs(11))
    assert any("descriptors/geometry covers" in problem for problem in validate(path))


def test_unopenable_files_raise_instead_of_listing(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\0" * 2048)
    with pytest.raises(FerclError):
        validate(bad)
