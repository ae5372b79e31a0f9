import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.faces.align import align_face
from fercl_cli.faces.template import MEAN_SHAPE
from fercl_cli.sources.affectnet import box_crop
from fercl_cli.sources.affectnet_npy import AffectNetNpySet, npy_layout, open_affectnet_npy
from fercl_cli.sources.affectnet_release import affectnet_release, open_affectnet

LANDMARKS = (MEAN_SHAPE * 24.0 + (48.0, 40.0)).astype(np.float32)


def picture(value: int) -> np.ndarray:
    rng = np.random.default_rng(value)
    return np.clip(value + rng.integers(-40, 40, (96, 96, 3)), 0, 255).astype(np.uint8)


def annotate(folder: Path, stem: str, exp, val="0.25", aro="-0.5", lnd=True, image=True) -> None:
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "annotations").mkdir(parents=True, exist_ok=True)
    if image:
        cv2.imwrite(str(folder / "images" / f"{stem}.jpg"), picture(30 * int(stem) % 250))
    np.save(folder / "annotations" / f"{stem}_exp.npy", exp)
    for kind, value in (("val", val), ("aro", aro)):
        if value is not None:
            np.save(folder / "annotations" / f"{stem}_{kind}.npy", np.array(value))
    if lnd:
        np.save(folder / "annotations" / f"{stem}_lnd.npy", LANDMARKS.reshape(-1).astype(str))


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """The .npy layout; train_set exercises every kind of annotation."""
    train = tmp_path / "train_set"
    annotate(train, "10", np.array("3"))  # numpy string, as the release stores it; sorts after 2
    annotate(train, "2", np.int64(1), val="-2")  # an integer code; valence missing
    annotate(train, "3", np.array("9"))  # Uncertain: dropped
    annotate(train, "4", np.array("7"), lnd=False)  # Contempt; no landmarks: resized whole
    annotate(train, "5", np.array("0"), image=False)  # annotated but the image is absent
    annotate(train, "6", np.array("2"), aro=None)  # arousal file absent
    annotate(tmp_path / "val_set", "0", np.array("6"))
    return tmp_path


def test_the_npy_release_is_read_with_labels_splits_and_valence_arousal(release: Path):
    source = open_affectnet(release)
    assert source.release == "npy" and affectnet_release(release) == "npy"
    assert len(source) == 6  # 6 train annotations - 1 Uncertain + 1 validation
    records = list(source)
    assert [(r.key, r.label, r.split) for r in records] == [
        ("train_set/images/2.jpg", 1, "train"),
        ("train_set/images/4.jpg", 7, "train"),
        ("train_set/images/6.jpg", 2, "train"),
        ("train_set/images/10.jpg", 3, "train"),
        ("val_set/images/0.jpg", 6, "test"),
    ]
    assert math.isnan(records[0].valence) and records[0].arousal == -0.5
    assert records[3].valence == 0.25 and math.isnan(records[2].arousal)
    photo = cv2.cvtColor(cv2.imread(str(release / records[3].key)), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(records[3].image, align_face(photo, LANDMARKS, size=128).image)
    whole = cv2.cvtColor(cv2.imread(str(release / records[1].key)), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(records[1].image, box_crop(whole, np.array([0, 0, 96, 96]), 128))
    np.testing.assert_array_equal(
        records[1].image, cv2.resize(whole, (128, 128), interpolation=cv2.INTER_CUBIC)
    )
    counts = source.counts()
    assert counts["rows_train"] == 5 and counts["rows_test"] == 1
    assert (counts["dropped_non_emotion"], counts["dropped_contempt"]) == (1, 0)
    assert (counts["missing_images"], counts["whole_image_crops"]) == (1, 1)
    assert (counts["missing_valence"], counts["missing_arousal"]) == (1, 1)
    notes = source.notes()
    assert "train_set: dropped 1 image(s) with expression codes 8-10 (None, Uncertain, Non-Face)" in notes
    assert (
        f"train_set: 1 annotated image(s) not found under {release / 'train_set' / 'images'}; the rest were read"
        in notes
    )
    assert (
        "train_set: 1 face crop(s) without usable landmarks (_lnd.npy) were resized whole, not aligned"
        in notes
    )


def test_seven_classes_drop_contempt(release: Path):
    part = AffectNetNpySet(release / "train_set", "train", classes=7)
    assert part.labels.tolist() == [1, 0, 2, 3] and part.dropped_contempt == 1
    assert "train_set: 7-class variant: dropped 1 Contempt image(s)" in part.notes()


def test_a_folder_mixing_both_releases_is_refused(release: Path):
    (release / "Manually_Annotated_file_lists").mkdir()
    (release / "Manually_Annotated_file_lists" / "training.csv").write_text("x\n")
    (release / "validation.csv").write_text("x\n")
    with pytest.raises(FerclError) as error:
        open_affectnet(release)
    assert str(error.value) == (
        f"{release}: mixes the two AffectNet releases, the CSV one (validation.csv, "
        "Manually_Annotated_file_lists/training.csv) and the .npy one (train_set/, val_set/); pass a folder "
        "that holds only one of them"
    )


def test_an_incomplete_layout_and_an_image_folder_are_named(release: Path, tmp_path_factory):
    with pytest.raises(FerclError) as error:
        npy_layout(release, images=release / "elsewhere")
    assert str(error.value) == (
        f"{release / 'elsewhere'}: --images applies to AffectNet's CSV release; the .npy release under "
        f"{release} keeps its images in train_set/images and val_set/images: drop --images"
    )
    (release / "val_set" / "annotations" / "0_exp.npy").unlink()
    with pytest.raises(FerclError, match=r"val_set/annotations: no <n>_exp\.npy annotation found"):
        open_affectnet_npy(release)
    only_train = tmp_path_factory.mktemp("only_train")
    annotate(only_train / "train_set", "0", np.array("1"))
    with pytest.raises(FerclError) as error:
        open_affectnet(only_train)
    assert str(error.value) == (
        f"{only_train / 'val_set'}: folder not found; AffectNet's .npy release has train_set/ and val_set/, "
        "each with images/<n>.jpg and annotations/<n>_exp.npy, _val, _aro, _lnd"
    )


@pytest.mark.parametrize(
    ("exp", "message"),
    [
        (np.array("12"), "expression 12 is not an AffectNet code 0-10; fix or remove the file"),
        (np.array("1.5"), "expression 1.5 is not an AffectNet code 0-10; fix or remove the file"),
        (
            np.array(["1", "2"]),
            "holds 2 values, not one; replace or remove the file",
        ),
        (
            np.array("happy"),
            "holds 'happy', not a number; replace or remove the file",
        ),
    ],
)
def test_bad_expression_files_are_one_line_naming_the_file(release: Path, exp, message):
    path = release / "train_set" / "annotations" / "10_exp.npy"
    np.save(path, exp)
    with pytest.raises(FerclError) as error:
        open_affectnet(release)
    assert str(error.value) == f"{path}: {message}"


def test_an_unloadable_expression_file_is_named(release: Path):
    path = release / "train_set" / "annotations" / "2_exp.npy"
    path.write_bytes(b"not numpy")
    with pytest.raises(FerclError, match=f"{path}: not a readable .npy file .*; replace or remove the file"):
        open_affectnet(release)


def test_a_valence_outside_the_range_stops_the_pass_naming_the_file(release: Path):
    path = release / "val_set" / "annotations" / "0_val.npy"
    np.save(path, np.array("1.5"))
    with pytest.raises(FerclError) as error:
        list(open_affectnet(release))
    assert str(error.value) == f"{path}: 1.5 is outside [-1, 1] (or -2 for missing); fix or remove the file"
