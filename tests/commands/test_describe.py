import json

import torch
from torchvision.models import resnet18
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.store.reader import FaceStore
from tests.factories.stores import write_empty_store, write_portrait_store, write_store_without_landmarks

runner = CliRunner()


def test_describe_defaults_to_geometry_and_reports_json(tmp_path):
    store = write_portrait_store(tmp_path / "faces.h5", frames=3, no_landmarks=((3, 0),))
    result = runner.invoke(app, ["describe", str(store), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["kind"] == "geometry" and summary["frames"] == 12 and summary["flagged"] == 1
    assert FaceStore(store).descriptor_kinds == ["geometry"]


def test_describe_resnet18_from_a_weights_file_prints_a_table(tmp_path):
    store = write_portrait_store(tmp_path / "faces.h5", frames=1)
    torch.save(resnet18(weights=None).state_dict(), tmp_path / "r18.pth")
    result = runner.invoke(
        app, ["describe", str(store), "--weights", str(tmp_path / "r18.pth")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "descriptors/resnet18 (1024-d, float16)" in result.output and "weights sha256" in result.output
    assert FaceStore(store).descriptors("resnet18").shape == (4, 1024)


def test_describe_errors_are_one_line(tmp_path):
    store = write_portrait_store(tmp_path / "faces.h5", frames=1)
    (tmp_path / "junk.pth").write_bytes(b"junk")
    cases = [
        ([str(write_empty_store(tmp_path / "empty.h5"))], "the store has no frames"),
        ([str(write_store_without_landmarks(tmp_path / "bare.h5"))], "no frame has landmarks"),
        ([str(store), "--kind", "resnet18"], "pass --weights"),
        (
            [str(store), "--weights", str(tmp_path / "junk.pth")],
            "junk.pth: not a readable PyTorch weights file",
        ),
        (
            [str(store), "--kind", "geometry", "--weights", str(tmp_path / "junk.pth")],
            "only used by --kind resnet18",
        ),
        ([str(store), "--kind", "sift"], "--kind sift"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["describe", *args])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and message in result.output
        assert len(result.output.strip().splitlines()) == 1
