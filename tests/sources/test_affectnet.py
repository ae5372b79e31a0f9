import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from fercl_cli.errors import FerclError
from fercl_cli.faces.align import align_face
from fercl_cli.faces.template import MEAN_SHAPE
from fercl_cli.sources.affectnet import AffectNetCsv, box_crop, parse_landmarks
from fercl_cli.sources.affectnet_release import open_affectnet

HEADER = (
    "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"
)
ASTRONAUT_BOX = (175, 76, 91, 91)  # dlib's HOG box of the face in skimage's astronaut, x, y, w, h


def astronaut_landmarks() -> np.ndarray:
    """A plausible 68-point face in the astronaut's face box (the template mean shape, eyes 36 px apart)."""
    x, y, w, h = ASTRONAUT_BOX
    return (MEAN_SHAPE * 0.4 * w + (x + w / 2, y + 0.4 * h)).astype(np.float32)


def landmark_text(points: np.ndarray) -> str:
    return ";".join(f"{v:.2f}" for v in points.reshape(-1))


def row(
    path: str, landmarks: str, expression: int, valence: float = 0.1, arousal: float = 0.2, box=ASTRONAUT_BOX
):
    return f"{path},{box[0]},{box[1]},{box[2]},{box[3]},{landmarks},{expression},{valence},{arousal}"


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


@pytest.fixture
def dataset(tmp_path: Path, astronaut: np.ndarray) -> Path:
    """An AffectNet folder in the official layout; training.csv exercises every kind of row."""
    images = tmp_path / "Manually_Annotated_Images"
    (images / "1").mkdir(parents=True)
    cv2.imwrite(str(images / "1" / "astro.png"), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    (images / "1" / "broken.jpg").write_bytes(b"not a jpeg")
    good = landmark_text(astronaut_landmarks())
    lines = [
        HEADER,
        row("1/astro.png", good, 1, 0.5, -0.25),  # aligned
        row("1/astro.png", "12;34;oops", 7, -2, 0.3),  # contempt, malformed landmarks -> box crop
        row("1/missing.png", good, 0),  # listed but absent
        row("1/astro.png", good, 9, -2, -2),  # Uncertain: dropped
        row("1/astro.png", good, 10, -2, -2),  # Non-Face: dropped
        row("1/astro.png", ";".join(["10"] * 136), 3),  # degenerate landmarks -> box crop
        row("1/broken.jpg", good, 2),  # undecodable
        row("1/astro.png", "", 4, box=(900, 900, 50, 50)),  # no landmarks, box outside the image
    ]
    lists = tmp_path / "Manually_Annotated_file_lists"
    lists.mkdir()
    (lists / "training.csv").write_text("\n".join(lines) + "\n")
    # validation.csv as some copies ship it: no header row.
    (lists / "validation.csv").write_text(row("1/astro.png", good, 6, 0.0, 0.75) + "\n")
    return tmp_path


def test_reads_the_official_layout_with_labels_splits_and_valence_arousal(dataset: Path, astronaut):
    source = open_affectnet(dataset)
    assert source.class_names[-1] == "Contempt" and len(source.class_names) == 8
    assert len(source) == 7  # 8 training rows - 2 non-emotion + 1 validation row
    records = list(source)
    assert [(r.label, r.split) for r in records] == [(1, "train"), (7, "train"), (3, "train"), (6, "test")]
    first = records[0]
    assert first.key == "1/astro.png"
    assert (first.valence, first.arousal) == (0.5, -0.25)
    assert math.isnan(records[1].valence) and records[1].arousal == pytest.approx(0.3)
    for r in records:
        assert r.image.dtype == np.uint8 and r.image.shape == (128, 128, 3)
    landmarks = parse_landmarks(landmark_text(astronaut_landmarks()))
    np.testing.assert_array_equal(first.image, align_face(astronaut, landmarks, size=128).image)
    np.testing.assert_array_equal(records[1].image, box_crop(astronaut, np.array(ASTRONAUT_BOX), 128))


def test_counts_and_notes_report_every_drop_skip_and_fallback(dataset: Path):
    source = open_affectnet(dataset)
    list(source)
    counts = source.counts()
    assert counts["rows_train"] == 6 and counts["rows_test"] == 1
    assert counts["dropped_non_emotion"] == 2 and counts["dropped_contempt"] == 0
    assert counts["missing_images"] == 1 and counts["unreadable_images"] == 1
    assert counts["box_crops"] == 2 and counts["unusable_boxes"] == 1
    assert counts["missing_valence"] == 1
    notes = "\n".join(source.notes())
    assert "training.csv: dropped 2 row(s) with expression codes 8-10" in notes
    assert "1 listed image(s) not found" in notes
    assert "validation.csv: no header row" in notes
    list(source)
    assert source.counts()["missing_images"] == 1  # counters restart with each pass


def test_seven_classes_drop_contempt_and_say_how_many(dataset: Path):
    source = open_affectnet(dataset, classes=7)
    assert len(source.class_names) == 7
    assert source.counts()["dropped_contempt"] == 1
    assert "training.csv: 7-class variant: dropped 1 Contempt row(s)" in source.notes()
    assert all(r.label != 7 for r in source)


def test_without_alignment_every_face_is_a_box_crop(dataset: Path, astronaut):
    part = AffectNetCsv(
        dataset / "Manually_Annotated_file_lists" / "training.csv",
        dataset / "Manually_Annotated_Images",
        "train",
        size=64,
        align=False,
    )
    first = next(iter(part))
    np.testing.assert_array_equal(first.image, box_crop(astronaut, np.array(ASTRONAUT_BOX), 64))
    list(part)
    assert part.counts()["box_crops"] == 0
    assert any("without alignment" in n for n in part.notes())


def test_box_crop_is_the_square_around_the_box_and_pads_at_the_border():
    image = np.arange(40 * 60 * 3, dtype=np.uint8).reshape(40, 60, 3)
    # 20x10 box centred at (30, 20): the square is x 20..40, y 10..30.
    crop = box_crop(image, np.array([20, 15, 20, 10]), 20)
    np.testing.assert_array_equal(crop, image[10:30, 20:40])
    # A box hanging off the top-left corner is completed by replicating the border.
    corner = box_crop(image, np.array([-5, -5, 10, 10]), 10)
    np.testing.assert_array_equal(corner[5:, 5:], image[:5, :5])
    np.testing.assert_array_equal(corner[0, 0], image[0, 0])
    assert box_crop(image, np.array([70, 0, 10, 10]), 10) is None
    assert box_crop(image, np.array([0, 0, 0, 10]), 10) is None


def test_parse_landmarks_accepts_136_numbers_only():
    points = astronaut_landmarks()
    np.testing.assert_allclose(parse_landmarks(landmark_text(points) + ";"), points, atol=0.01)
    assert parse_landmarks("1;2;3") is None
    assert parse_landmarks(";".join(["x"] * 136)) is None
    assert parse_landmarks("nan;" * 136) is None


def write_training(tmp_path: Path, lines: list[str]) -> Path:
    (tmp_path / "Manually_Annotated_Images").mkdir(exist_ok=True)
    (tmp_path / "training.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "validation.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_missing_columns_are_named_with_the_file(tmp_path: Path):
    header = HEADER.replace(",valence,arousal", "")
    root = write_training(tmp_path, [header, "1/a.jpg,1,2,3,4,,1"])
    with pytest.raises(FerclError, match=r"training\.csv: missing column\(s\) valence, arousal"):
        open_affectnet(root)


def test_a_header_with_a_misspelt_column_names_only_that_column(tmp_path: Path):
    root = write_training(tmp_path, [HEADER.replace("face_width", "face_w"), row("1/a.jpg", "", 1)])
    with pytest.raises(FerclError, match=r"missing column\(s\) face_width;"):
        open_affectnet(root)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (row("1/a.jpg", "", 1).replace(",76,", ",seventy,", 1), r"line 3: column face_y must be a number"),
        (row("1/a.jpg", "", 11), r"line 3: column expression must be an integer code 0-10"),
        (row("1/a.jpg", "", 1, valence=1.5), r"line 3: column valence must be in \[-1, 1\]"),
        (row("1/a.jpg", "", 1, arousal=float("nan")), r"line 3: column arousal must be a number"),
    ],
)
def test_malformed_values_name_the_file_line_and_column(tmp_path: Path, bad_row: str, message: str):
    root = write_training(tmp_path, [HEADER, row("1/a.jpg", "", 1), bad_row])
    with pytest.raises(FerclError, match=r"training\.csv: " + message):
        open_affectnet(root)


def test_missing_files_and_folders_are_named(tmp_path: Path):
    with pytest.raises(FerclError, match="AffectNet folder not found"):
        open_affectnet(tmp_path / "nowhere")
    with pytest.raises(
        FerclError, match=r"image folder not found; expected one of .*Manually_Annotated_Images"
    ):
        open_affectnet(tmp_path)
    (tmp_path / "Manually_Annotated_Images").mkdir()
    with pytest.raises(FerclError, match=r"training\.csv not found"):
        open_affectnet(tmp_path)
    (tmp_path / "training.csv").write_text("")
    with pytest.raises(FerclError, match="image folder not found; pass"):
        AffectNetCsv(tmp_path / "training.csv", tmp_path / "pictures", "train")
    with pytest.raises(FerclError, match=r"training\.csv: not a readable AffectNet CSV"):
        AffectNetCsv(tmp_path / "training.csv", tmp_path / "Manually_Annotated_Images", "train")


def test_landmarks_stay_with_their_rows_across_chunks(dataset: Path):
    lists, images = dataset / "Manually_Annotated_file_lists", dataset / "Manually_Annotated_Images"
    whole = list(AffectNetCsv(lists / "training.csv", images, "train"))
    chunked = list(AffectNetCsv(lists / "training.csv", images, "train", chunk_rows=2))
    assert [r.key for r in chunked] == [r.key for r in whole]
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a.image, b.image)
