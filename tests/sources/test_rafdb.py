from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from fercl_cli.errors import FerclError
from fercl_cli.faces.align import align_face
from fercl_cli.faces.types import Face
from fercl_cli.sources.rafdb import LABEL_FILE, RAFDB_CLASSES, RafDb

LINES = [
    "train_00001.jpg 5",
    "train_00002.jpg 1",
    "",
    "train_00003.jpg 7",
    "test_0001.jpg 4",
    "test_0002.jpg 2",
]


def aligned_face(code: int) -> np.ndarray:
    """A 100×100 RGB tile, different per label, with some texture."""
    rng = np.random.default_rng(code)
    base = np.array([30 * code, 255 - 30 * code, 100], dtype=np.int64)
    return np.clip(base + rng.integers(-20, 20, (100, 100, 3)), 0, 255).astype(np.uint8)


def write_labels(root: Path, lines: list[str]) -> Path:
    path = root / LABEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_rgb(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 100])


@pytest.fixture
def aligned(tmp_path: Path) -> Path:
    """RAF-DB basic with Image/aligned only: train_00002 is listed but absent, test_0002 does not decode."""
    write_labels(tmp_path, LINES)
    folder = tmp_path / "Image" / "aligned"
    for line in LINES:
        if line and not line.startswith(("train_00002", "test_0002")):
            name, code = line.split()
            write_rgb(folder / f"{Path(name).stem}_aligned.jpg", aligned_face(int(code)))
    (folder / "test_0002_aligned.jpg").write_bytes(b"not a jpeg")
    return tmp_path


def test_aligned_faces_are_read_with_labels_minus_one_and_the_official_split(aligned: Path):
    source = RafDb(aligned, size=128)
    assert source.images == "aligned" and len(source) == 5
    records = list(source)
    assert [(r.key, r.label, r.split) for r in records] == [
        ("Image/aligned/train_00001_aligned.jpg", 4, "train"),
        ("Image/aligned/train_00003_aligned.jpg", 6, "train"),
        ("Image/aligned/test_0001_aligned.jpg", 3, "test"),
    ]
    assert [source.class_names[r.label] for r in records] == ["Sadness", "Neutral", "Happiness"]
    stored = cv2.cvtColor(cv2.imread(str(aligned / records[0].key)), cv2.COLOR_BGR2RGB)
    expected = cv2.resize(stored, (128, 128), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_array_equal(records[0].image, expected)
    assert source.counts() == {
        "rows": 5,
        "train": 3,
        "test": 2,
        "missing_images": 1,
        "unreadable_images": 1,
        "no_face": 0,
        "several_faces": 0,
    }
    assert source.notes() == [
        "RAF-DB: the aligned faces of Image/aligned/ (RAF-DB's own alignment) resized to 128×128",
        f"RAF-DB: 1 listed image(s) not found under {aligned / 'Image' / 'aligned'}; the rest were read",
        "RAF-DB: 1 image(s) could not be decoded and were skipped",
    ]
    small = RafDb(aligned, size=64)
    first = next(iter(small)).image
    np.testing.assert_array_equal(first, cv2.resize(stored, (64, 64), interpolation=cv2.INTER_AREA))


class FakeBackend:
    """Finds the faces it was given for photos of a given mean brightness, none in others."""

    name = "fake"

    def __init__(self, faces: dict[int, list[Face]]) -> None:
        self.faces = faces

    def detect(self, image: np.ndarray) -> list[Face]:
        return self.faces.get(int(round(image.mean())), [])

    def refit(self, image: np.ndarray, box: np.ndarray) -> Face:
        raise NotImplementedError


def test_original_photos_are_detected_and_aligned_with_the_dlib_default(tmp_path: Path):
    """Only Image/original exists: auto reads it; dlib finds the astronaut, not a face in a grey photo."""
    from fercl_cli.faces.dlib_backend import DlibBackend

    astronaut = skimage.data.astronaut()
    write_labels(tmp_path, ["train_00001.jpg 4", "test_0001.jpg 7"])
    write_rgb(tmp_path / "Image" / "original" / "train_00001.jpg", astronaut)
    write_rgb(tmp_path / "Image" / "original" / "test_0001.jpg", np.full((120, 100, 3), 128, np.uint8))
    source = RafDb(tmp_path, size=96)
    assert source.images == "original"
    (record,) = list(source)
    assert (record.key, record.label, record.split) == ("Image/original/train_00001.jpg", 3, "train")
    photo = cv2.cvtColor(cv2.imread(str(tmp_path / record.key)), cv2.COLOR_BGR2RGB)
    face = DlibBackend(upsample=1).detect(photo)[0]
    np.testing.assert_array_equal(record.image, align_face(photo, face.landmarks, size=96).image)
    assert source.counts()["no_face"] == 1
    assert "RAF-DB: no face was found in 1 photo(s); they were skipped" in source.notes()
    assert source.notes()[0].startswith("RAF-DB: faces detected in the photos of Image/original/ (dlib HOG")


def test_the_best_scoring_face_is_kept_and_several_faces_are_counted(tmp_path: Path):
    write_labels(tmp_path, ["train_00001.jpg 1", "train_00002.jpg 2"])
    for name, value in (("train_00001.jpg", 90), ("train_00002.jpg", 200)):
        write_rgb(tmp_path / "Image" / "original" / name, np.full((80, 80, 3), value, np.uint8))
    (tmp_path / "Image" / "aligned").mkdir()  # present, but the original photos are asked for
    landmarks = (np.random.default_rng(0).uniform(20, 60, (68, 2))).astype(np.float32)
    weak = Face(np.zeros(4, np.float32), 0.1, landmarks + 5, "fake")
    strong = Face(np.zeros(4, np.float32), 2.0, landmarks, "fake")
    source = RafDb(tmp_path, images="original", size=32, backend=FakeBackend({90: [weak, strong]}))
    (record,) = list(source)
    photo = np.asarray(cv2.cvtColor(cv2.imread(str(tmp_path / record.key)), cv2.COLOR_BGR2RGB))
    np.testing.assert_array_equal(record.image, align_face(photo, landmarks, size=32).image)
    assert source.counts()["several_faces"] == 1 and source.counts()["no_face"] == 1
    list(source)
    assert source.counts()["several_faces"] == 1  # counters restart with each pass


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["train_00001.jpg 8"],
            "line 1: label '8' is outside 1-7 (1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness, 6 Anger, "
            "7 Neutral); fix or remove the line",
        ),
        (
            ["train_00001.jpg 1", "test_0001.jpg 0"],
            "line 2: label '0' is outside 1-7 (1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness, "
            "6 Anger, 7 Neutral); fix or remove the line",
        ),
        (
            ["train_00001.jpg", "test_0001.jpg 1"],
            "line 1: expected '<image name> <label 1-7>' such as 'train_00001.jpg 5', found 'train_00001.jpg'; "
            "fix or remove the line",
        ),
        (
            ["val_0001.jpg 3"],
            "line 1: image name 'val_0001.jpg' starts with neither train_ nor test_, so its split is unknown; "
            "fix or remove the line",
        ),
        ([""], "no image listed; RAF-DB's label file has one line per image such as 'train_00001.jpg 5'"),
    ],
)
def test_bad_label_lines_are_one_line_naming_the_file_and_line(aligned: Path, lines, message):
    path = write_labels(aligned, lines)
    with pytest.raises(FerclError) as error:
        RafDb(aligned)
    assert str(error.value) == f"{path}: {message}"


def test_missing_pieces_are_one_line_naming_the_path_and_the_fix(aligned: Path, tmp_path_factory):
    with pytest.raises(FerclError) as error:
        RafDb(aligned, images="original")
    assert str(error.value) == (
        f"{aligned / 'Image' / 'original'}: RAF-DB original photos not found (Image/original/<name>.jpg); "
        "pass the RAF-DB basic folder, or --rafdb-images aligned to read Image/aligned"
    )
    (aligned / LABEL_FILE).unlink()
    with pytest.raises(FerclError) as error:
        RafDb(aligned)
    assert str(error.value) == (
        f"{aligned / LABEL_FILE}: RAF-DB label file not found; pass the RAF-DB basic folder (the one holding "
        "EmoLabel/list_patition_label.txt and Image/)"
    )
    bare = tmp_path_factory.mktemp("bare")
    write_labels(bare, LINES)
    with pytest.raises(FerclError) as error:
        RafDb(bare)
    assert str(error.value) == (
        f"{bare / 'Image'}: neither Image/aligned nor Image/original found; RAF-DB basic keeps its faces in "
        "Image/aligned/<name>_aligned.jpg or its photos in Image/original/<name>.jpg: pass its root folder"
    )
    with pytest.raises(FerclError) as error:
        RafDb(bare, images="aligned")
    assert str(error.value) == (
        f"{bare / 'Image' / 'aligned'}: RAF-DB aligned faces not found (Image/aligned/<name>_aligned.jpg); "
        "pass the RAF-DB basic folder, or --rafdb-images original to detect the faces in Image/original"
    )
    with pytest.raises(FerclError, match="RAF-DB folder not found"):
        RafDb(bare / "nothing")
    assert len(RAFDB_CLASSES) == 7
