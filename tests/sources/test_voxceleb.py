import cv2
import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.sources.folders import discover_folder
from fercl_cli.sources.voxceleb import discover_voxceleb, read_meta

META = "VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet\nid10001\tA.J._Buckley\tm\tIreland\tdev\n"


def _jpg(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((4, 4, 3), np.uint8))


def _mp4(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"placeholder video bytes: discovery does not decode")


@pytest.fixture
def vox(tmp_path):
    root = tmp_path / "voxceleb"
    _mp4(root / "videos" / "id10001" / "1zcIwhmdeo4" / "00002.mp4")
    _mp4(root / "videos" / "id10001" / "1zcIwhmdeo4" / "00001.mp4")
    _mp4(root / "videos" / "id10002" / "abc" / "00001.mp4")
    for clip in ("1", "2"):
        _jpg(
            root
            / "unzippedIntervalFaces"
            / "data"
            / "A.J._Buckley"
            / "1.6"
            / "1zcIwhmdeo4"
            / clip
            / "0000375.jpg"
        )
    _jpg(root / "unzippedIntervalFaces" / "data" / "Zed_Unknown" / "1.6" / "xyz" / "00001" / "0000001.jpg")
    (root / "vox1_meta.csv").write_text(META)
    return root


def test_auto_prefers_videos_and_says_both_exist(vox):
    found = discover_voxceleb(vox)
    assert found.layout == "videos"
    assert [c.key for c in found.clips] == [
        ("id10001", "1zcIwhmdeo4", "00001"),
        ("id10001", "1zcIwhmdeo4", "00002"),
        ("id10002", "abc", "00001"),
    ]
    assert "frames" in found.notes[0]


def test_frames_layout_maps_names_through_the_meta_file(vox):
    found = discover_voxceleb(vox, layout="frames")
    keys = [c.key for c in found.clips]
    assert ("id10001", "1zcIwhmdeo4", "00001") in keys and ("Zed_Unknown", "xyz", "00001") in keys
    assert any("Zed_Unknown" in note for note in found.notes)
    direct = discover_voxceleb(vox / "unzippedIntervalFaces", layout="auto", meta=vox / "vox1_meta.csv")
    assert direct.layout == "frames" and len(direct.clips) == 3


def test_bad_roots_and_meta_files_are_clear_errors(tmp_path, vox):
    with pytest.raises(FerclError, match="not a readable folder"):
        discover_voxceleb(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FerclError, match="no VoxCeleb layout"):
        discover_voxceleb(tmp_path / "empty")
    with pytest.raises(FerclError, match="--layout"):
        discover_voxceleb(vox, layout="zip")
    bad = tmp_path / "meta.csv"
    bad.write_text("id\tname\nid1\tx\n")
    with pytest.raises(FerclError, match="VGGFace1 ID"):
        read_meta(bad)
    with pytest.raises(FerclError, match="does not exist"):
        discover_voxceleb(vox, layout="frames", meta=tmp_path / "nope.csv")


def test_generic_folder_tree(tmp_path):
    _mp4(tmp_path / "alice" / "talk.mp4")
    _mp4(tmp_path / "alice" / "day2" / "take.mov")
    _jpg(tmp_path / "bob" / "seq1" / "001.jpg")
    found = discover_folder(tmp_path)
    assert [c.key for c in found.clips] == [
        ("alice", ".", "talk"),
        ("alice", "day2", "take"),
        ("bob", ".", "seq1"),
    ]
    assert [c.kind for c in found.clips] == ["video", "video", "frames"]
