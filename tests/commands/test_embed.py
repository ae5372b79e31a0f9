import csv
import json

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from fercl_cli.cli import app
from tests.factories.media import write_media

runner = CliRunner()
TINY = ["--checkpoint", "random-raw", "--arch", "resnet18", "--size", "32", "--device", "cpu"]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return write_media(tmp_path_factory.mktemp("media"))


def embed(*args: str):
    return runner.invoke(app, ["embed", *args, *TINY])


def test_h5_rows_hold_every_face_and_the_failures(media, tmp_path):
    out = tmp_path / "feats.h5"
    inputs = [str(media[n]) for n in ("hopper.jpg", "blank.png", "broken.jpg", "clip.mp4")]
    result = embed(*inputs, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"unreadable: {media['broken.jpg']}: cannot decode the image" in result.output
    assert f"no row: {media['blank.png']}: no face" in result.output
    with h5py.File(out) as f:
        assert f["features"].shape == (6, 512) and f["features"].dtype == np.float32
        assert f["boxes"].shape == (6, 4) and f["landmarks"].shape == (6, 68, 2)
        assert f["frame"][:].tolist() == [-1, 0, 6, 12, 18, 24]
        assert np.isnan(f["t"][0]) and f["t"][-1] == pytest.approx(24 / 25)
        assert [s.decode() for s in f["sources"][:]] == [str(media["hopper.jpg"])] + [
            str(media["clip.mp4"])
        ] * 5
        assert len(json.loads(f.attrs["summary"])["failures"]) == 2


def test_npy_with_a_metadata_sidecar_and_csv_with_feature_columns(media, tmp_path):
    npy, table = tmp_path / "feats.npy", tmp_path / "feats.csv"
    assert embed(str(media["hopper.jpg"]), str(media["astronaut.png"]), "--out", str(npy)).exit_code == 0
    assert embed(str(media["hopper.jpg"]), str(media["astronaut.png"]), "--out", str(table)).exit_code == 0
    features = np.load(npy)
    with open(tmp_path / "feats.npy.csv") as handle:
        meta = list(csv.DictReader(handle))
    with open(table) as handle:
        rows = list(csv.DictReader(handle))
    assert features.shape == (2, 512) and len(meta) == len(rows) == 2
    assert [r["source"] for r in meta] == [str(media["hopper.jpg"]), str(media["astronaut.png"])]
    assert meta[0]["frame"] == "-1" and meta[0]["t"] == "" and "lm67_y" in meta[0] and "f0" not in meta[0]
    np.testing.assert_allclose(
        [float(rows[1][f"f{j}"]) for j in range(512)], features[1], rtol=1e-6, atol=1e-7
    )


def test_json_summary_lists_failures_and_written_files(media, tmp_path):
    out = tmp_path / "feats.npy"
    result = embed(str(media["broken.mp4"]), str(media["astronaut.png"]), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["faces"] == 1 and payload["files"] == 2 and payload["crop_size"] == 37
    assert payload["failures"][0]["source"] == str(media["broken.mp4"])
    assert payload["written"] == [str(out), str(tmp_path / "feats.npy.csv")]


def test_a_failed_write_leaves_no_file(media, tmp_path, monkeypatch):
    import fercl_cli.apply.write as write

    def broken(embedding, tmp):
        tmp.write_bytes(b"half")
        raise OSError("simulated I/O error")

    monkeypatch.setattr(write, "_write_h5", broken)
    out = tmp_path / "feats.h5"
    result = embed(str(media["astronaut.png"]), "--out", str(out))
    assert result.exit_code != 0 and list(tmp_path.iterdir()) == []


def test_bad_outputs_and_inputs_are_one_line(media, tmp_path):
    bad_suffix = embed(str(media["hopper.jpg"]), "--out", str(tmp_path / "feats.txt"))
    assert bad_suffix.exit_code == 2 and "give a path ending in .h5, .npy, .csv" in bad_suffix.output
    missing = embed(str(tmp_path / "nope.jpg"), "--out", str(tmp_path / "f.h5"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
