from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from fercl_cli.errors import FerclError
from fercl_cli.sources.fer2013 import Fer2013Csv, Fer2013Folders, grey_to_rgb, open_fer2013


@pytest.fixture(scope="module")
def faces() -> list[np.ndarray]:
    """Five 48×48 grey faces: the astronaut's face, shifted a little each time."""
    grey = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)
    return [
        cv2.resize(grey[70 + 4 * i : 170 + 4 * i, 170:270], (48, 48), interpolation=cv2.INTER_AREA)
        for i in range(5)
    ]


def pixels(face: np.ndarray) -> str:
    return " ".join(str(v) for v in face.reshape(-1))


ROWS = [(3, "Training"), (0, "Training"), (6, "PrivateTest"), (5, "PublicTest"), (1, "PublicTest")]


@pytest.fixture
def csv(tmp_path: Path, faces) -> Path:
    path = tmp_path / "fer2013.csv"
    lines = ["emotion,pixels,Usage"] + [f"{e},{pixels(f)},{u}" for (e, u), f in zip(ROWS, faces, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_rows_map_usage_to_protocol_splits(csv: Path, faces):
    source = Fer2013Csv(csv, size=48, chunk_rows=2)
    records = list(source)
    assert len(source) == len(records) == 5
    assert [(r.label, r.split) for r in records] == [
        (3, "train"),
        (0, "train"),
        (6, "select"),
        (5, "test"),
        (1, "test"),
    ]
    assert records[2].key == "fer2013.csv:4"
    for record, face in zip(records, faces, strict=True):
        assert record.image.dtype == np.uint8 and record.image.shape == (48, 48, 3)
        for channel in range(3):
            np.testing.assert_array_equal(record.image[:, :, channel], face)
    assert source.counts() == {"rows": 5, "train": 2, "select": 1, "test": 2}
    assert source.class_names[6] == "Neutral"


def test_grey_48_px_is_replicated_and_resized_explicitly(csv: Path, faces):
    source = open_fer2013(csv.parent, size=112)
    first = next(iter(source))
    expected = cv2.resize(faces[0], (112, 112), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_array_equal(first.image, np.dstack([expected] * 3))
    notes = source.notes()
    assert "replicating the grey channel into R, G and B and resizing to 112×112 (bicubic)" in notes[0]
    assert (
        "Training (2) fits, PrivateTest (1) selects hyper-parameters, PublicTest (2) is reported" in notes[1]
    )


def test_csv_column_names_with_spaces_are_accepted(tmp_path: Path, faces):
    path = tmp_path / "icml_face_data.csv"
    path.write_text(f"emotion, Usage, pixels\n2,PublicTest,{pixels(faces[0])}\n")
    (record,) = open_fer2013(path)
    assert (record.label, record.split) == (2, "test")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("emotion,Usage\n1,Training\n", r"fer2013\.csv: missing column\(s\) pixels"),
        ("", r"fer2013\.csv: not a readable FER2013 CSV"),
        (
            "emotion,pixels,Usage\n7,0 0,Training\n",
            r"fer2013\.csv: line 2: emotion '7' is not a FER2013 class",
        ),
        (
            "emotion,pixels,Usage\n1,0 0,Training\n2,0 0,Validation\n",
            r"line 3: Usage 'Validation' is not one of",
        ),
    ],
)
def test_bad_csvs_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str):
    (tmp_path / "fer2013.csv").write_text(text)
    with pytest.raises(FerclError, match=message):
        open_fer2013(tmp_path)


@pytest.mark.parametrize("bad_pixels", ["1 2 3", " ".join(["300"] * 2304), " ".join(["a"] * 2304)])
def test_malformed_pixels_are_reported_with_their_line(tmp_path: Path, faces, bad_pixels: str):
    path = tmp_path / "fer2013.csv"
    path.write_text(f"emotion,pixels,Usage\n1,{pixels(faces[0])},Training\n1,{bad_pixels},Training\n")
    records = iter(Fer2013Csv(path))
    next(records)
    with pytest.raises(
        FerclError, match=r"fer2013\.csv: line 3: pixels must be 2304 space-separated integers"
    ):
        next(records)


@pytest.fixture
def folders(tmp_path: Path, faces) -> Path:
    for rel, face in [("train/angry/a.png", 0), ("train/Happy/b.png", 1), ("test/neutral/c.png", 2)]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / rel), faces[face])
    (tmp_path / "test/sad").mkdir()
    (tmp_path / "test/sad/broken.png").write_bytes(b"not a png")
    (tmp_path / "test/sad/readme.txt").write_text("ignored")
    return tmp_path


def test_folder_layout_maps_class_names_and_splits(folders: Path, faces):
    source = open_fer2013(folders, size=64)
    assert isinstance(source, Fer2013Folders)
    records = list(source)
    assert [(r.key, r.label, r.split) for r in records] == [
        ("train/Happy/b.png", 3, "train"),
        ("train/angry/a.png", 0, "train"),
        ("test/neutral/c.png", 6, "test"),
    ]
    np.testing.assert_array_equal(records[1].image, grey_to_rgb(faces[0], 64))
    assert source.counts() == {"rows": 4, "train": 2, "test": 2, "unreadable_images": 1}
    notes = "\n".join(source.notes())
    assert "no PrivateTest: hyper-parameters are chosen on a held-out part of train/" in notes
    assert "1 image file(s) could not be decoded" in notes


def test_bad_folder_layouts_are_named(folders: Path, tmp_path: Path):
    (folders / "test" / "contempt").mkdir()
    with pytest.raises(FerclError, match=r"contempt: unknown class folder; expected one of angry, disgust"):
        Fer2013Folders(folders)
    (folders / "test" / "contempt").rmdir()
    for path in (folders / "test").rglob("*"):
        if path.is_file():
            path.unlink()
    with pytest.raises(FerclError, match=r"test: no images found"):
        Fer2013Folders(folders)
    empty = tmp_path / "empty"
    (empty / "train").mkdir(parents=True)
    with pytest.raises(FerclError, match=r"test: folder not found; the FER2013 folder layout is"):
        open_fer2013(empty)
    with pytest.raises(FerclError, match=r"no FER2013 data found; expected fer2013\.csv"):
        open_fer2013(tmp_path / "nothing")
    with pytest.raises(FerclError, match="FER2013 CSV not found"):
        Fer2013Csv(tmp_path / "fer2013.csv")


def test_the_private_split_reports_private_test_and_selects_on_public_test(csv: Path):
    public, private = Fer2013Csv(csv), Fer2013Csv(csv, split="private")
    assert [r.split for r in public] == ["train", "train", "select", "test", "test"]
    assert [r.split for r in private] == ["train", "train", "test", "select", "select"]
    assert private.counts() == {"rows": 5, "train": 2, "select": 2, "test": 1}
    assert private.notes()[1] == (
        "FER2013 splits: Training (2) fits, PublicTest (2) selects hyper-parameters, PrivateTest (1) is "
        "reported (split private)"
    )
    with pytest.raises(ValueError, match="split must be one of public, private"):
        Fer2013Csv(csv, split="both")


def test_the_folder_layout_refuses_a_split_and_ferplus_labels(folders: Path):
    with pytest.raises(FerclError) as error:
        open_fer2013(folders, split="public")
    assert str(error.value) == (
        f"{folders}: the FER2013 folder layout has no PublicTest or PrivateTest to choose between "
        "(test/ is reported); drop --split, or pass fer2013.csv"
    )
    with pytest.raises(FerclError, match=r"FER\+ labels \(fer2013new\.csv\) follow the rows of fer2013\.csv"):
        open_fer2013(folders, ferplus=folders / "fer2013new.csv")
