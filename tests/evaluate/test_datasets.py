import os
import shutil
from pathlib import Path

from fercl_cli.evaluate.datasets import affectnet_spec, fer2013_spec, rafdb_spec
from tests.evaluate.data import (
    make_affectnet,
    make_affectnet_npy,
    make_fer2013_csv,
    make_ferplus_csv,
    make_rafdb,
)


def test_fer2013_keys_follow_the_split_and_the_label_set(tmp_path: Path):
    csv = make_fer2013_csv(tmp_path / "fer" / "fer2013.csv", per_split=(1, 1, 1))
    ferplus = make_ferplus_csv(csv)

    def key(split, labels):
        return fer2013_spec(csv, size=37, split=split, ferplus=labels).key

    keys = {key(split, labels) for split in ("public", "private") for labels in (None, ferplus)}
    assert len(keys) == 4
    assert key(None, None) == key("public", None)  # the default is today's split
    before = key(None, ferplus)
    os.utime(ferplus, ns=(0, 0))
    assert key(None, ferplus) != before  # the FER+ file is one of the files the key covers


def test_affectnet_keys_and_options_name_the_release(tmp_path: Path):
    csv = affectnet_spec(make_affectnet(tmp_path / "csv", 1, 1), images=None, classes=8, size=37)
    npy = affectnet_spec(make_affectnet_npy(tmp_path / "npy", 1, 1), images=None, classes=8, size=37)
    assert (csv.options["release"], npy.options["release"]) == ("csv", "npy")
    assert csv.key != npy.key
    assert affectnet_spec(tmp_path / "npy", images=None, classes=7, size=37).key != npy.key


def test_rafdb_keys_follow_the_image_folder_read(tmp_path: Path):
    root = make_rafdb(tmp_path / "rafdb", 1, 1)
    shutil.copytree(root / "Image" / "aligned", root / "Image" / "original")
    aligned = rafdb_spec(root, images="auto", size=37)
    original = rafdb_spec(root, images="original", size=37)
    assert (aligned.options["images"], original.options["images"]) == ("aligned", "original")
    assert aligned.key != original.key
    assert rafdb_spec(root, images="aligned", size=37).key == aligned.key
