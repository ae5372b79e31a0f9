import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from matplotlib import cbook

from fercl_cli.errors import FerclError
from fercl_cli.sources.lfw import PAIRS_FILES, default_data_home, load_lfw


def lfw_photos() -> dict[str, list[np.ndarray]]:
    """250×250 RGB photos per person, framed like LFW (face about 100 px wide, centred)."""
    astronaut = skimage.data.astronaut()
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = cv2.cvtColor(
            cv2.imdecode(np.frombuffer(f.read(), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
        )
    return {
        "George_W_Bush": [astronaut[2 * i : 250 + 2 * i, 95 + 3 * i : 345 + 3 * i] for i in range(4)],
        "Colin_Powell": [
            cv2.resize(hopper[5 * i : 470 + 5 * i, 38:508], (250, 250), interpolation=cv2.INTER_AREA)
            for i in range(3)
        ],
        "Grey_Wall": [np.full((250, 250, 3), 100, np.uint8)] * 3,
        "Solo_Person": [astronaut[:250, :250]],
    }


def make_lfw_home(data_home: Path, pairs: tuple[str, ...] = PAIRS_FILES) -> Path:
    """scikit-learn's offline layout: lfw_home/lfw_funneled/<Name>/<Name>_000k.jpg plus the pairs files."""
    lfw_home = data_home / "lfw_home"
    for name, photos in lfw_photos().items():
        (lfw_home / "lfw_funneled" / name).mkdir(parents=True)
        for k, photo in enumerate(photos, start=1):
            path = lfw_home / "lfw_funneled" / name / f"{name}_{k:04d}.jpg"
            cv2.imwrite(str(path), cv2.cvtColor(np.ascontiguousarray(photo), cv2.COLOR_RGB2BGR))
    for pairs_file in pairs:
        (lfw_home / pairs_file).write_text("10\n")
    return lfw_home


def test_reads_people_with_enough_images_as_rgb_uint8(tmp_path: Path):
    make_lfw_home(tmp_path)
    people = load_lfw(tmp_path, min_faces_per_person=3)
    assert people.class_names == ("Colin Powell", "George W Bush", "Grey Wall")
    assert len(people) == 10
    np.testing.assert_array_equal(np.bincount(people.labels), [3, 4, 3])
    records = list(people)
    assert {r.split for r in records} == {"all"}
    assert [r.label for r in records] == people.labels.tolist()
    for r in records:
        assert r.image.dtype == np.uint8 and r.image.shape == (128, 128, 3)
        np.testing.assert_array_equal(r.image[..., 0], r.image[..., 2])
    grey_wall = [r.image for r in records if people.class_names[r.label] == "Grey Wall"]
    assert all(np.abs(im.astype(int) - 100).max() <= 1 for im in grey_wall)
    assert people.counts() == {"rows": 10, "identities": 3}
    (note,) = people.notes()
    assert "10 images of 3 people with at least 3 images each" in note
    assert "62×47, grey replicated into R, G and B; fed as 128×128, aspect ratio not kept" in note


def test_native_size_and_colour_are_available(tmp_path: Path):
    make_lfw_home(tmp_path)
    people = load_lfw(tmp_path, min_faces_per_person=4, color=True, size=None)
    assert people.class_names == ("George W Bush",)
    assert people.images.shape == (4, 62, 47, 3)
    assert np.abs(people.images[..., 0].astype(int) - people.images[..., 2]).max() > 20


@pytest.mark.parametrize("missing", ["pairs.txt", "lfw_funneled"])
def test_an_unprepared_lfw_home_is_explained_and_nothing_is_downloaded(tmp_path: Path, missing: str):
    lfw_home = make_lfw_home(tmp_path, pairs=tuple(p for p in PAIRS_FILES if p != missing))
    if missing == "lfw_funneled":
        (lfw_home / "lfw_funneled").rename(lfw_home / "elsewhere")
    with pytest.raises(FerclError) as error:
        load_lfw(tmp_path)
    message = str(error.value)
    assert message.startswith(f"{lfw_home}: missing {missing};")
    assert "lfw_home/lfw_funneled/<Name>/<Name>_0001.jpg" in message and "pairsDevTrain.txt" in message
    assert "fercl never downloads it" in message
    assert not list(lfw_home.glob("*.tgz"))


def test_a_missing_data_home_is_not_created(tmp_path: Path):
    with pytest.raises(
        FerclError, match="missing lfw_funneled, pairsDevTrain.txt, pairsDevTest.txt, pairs.txt"
    ):
        load_lfw(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()


def test_too_few_images_per_person_and_unreadable_images_are_errors(tmp_path: Path):
    make_lfw_home(tmp_path / "a")
    with pytest.raises(
        FerclError, match=r"lfw_funneled: no person has 200 or more images .*; lower --min-faces"
    ):
        load_lfw(tmp_path / "a")
    lfw_home = make_lfw_home(tmp_path / "b")
    (lfw_home / "lfw_funneled" / "Grey_Wall" / "Grey_Wall_0002.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(FerclError, match=r"scikit-learn could not read LFW .*offline use needs"):
        load_lfw(tmp_path / "b", min_faces_per_person=3)


def test_the_default_data_home_follows_scikit_learn(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    assert default_data_home() == tmp_path
    monkeypatch.delenv("SCIKIT_LEARN_DATA")
    assert default_data_home() == Path("~/scikit_learn_data").expanduser()


def test_the_lfw_home_folder_itself_is_accepted_as_data_home(tmp_path: Path):
    lfw_home = make_lfw_home(tmp_path)
    assert lfw_home.name == "lfw_home"
    via_parent = load_lfw(tmp_path, min_faces_per_person=3)
    via_home = load_lfw(lfw_home, min_faces_per_person=3)
    assert via_home.class_names == via_parent.class_names and len(via_home) == len(via_parent)


def test_a_read_only_lfw_home_is_read_without_writing_to_it(tmp_path: Path):
    make_lfw_home(tmp_path / "data")
    mount = tmp_path / "ro"
    mount.mkdir()
    bound = subprocess.run(["mount", "--bind", str(tmp_path / "data"), str(mount)], capture_output=True)
    if os.geteuid() != 0 or bound.returncode != 0:
        pytest.skip("a read-only bind mount needs root and mount rights")
    try:
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(mount)], capture_output=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.decode().strip()}")
        people = load_lfw(mount, min_faces_per_person=3)
        assert len(people) == 10 and people.class_names[0] == "Colin Powell"
        assert not (tmp_path / "data" / "lfw_home" / "joblib").exists()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
