import json

import cv2
import h5py
from typer.testing import CliRunner

from fercl_cli import cli
from tests.factories.clips import clip_specs, write_clips

runner = CliRunner()


def test_inspect_prints_a_table_and_json_and_writes_a_sheet(tmp_path):
    path = tmp_path / "faces.h5"
    specs = clip_specs(9)
    write_clips(path, specs, encoding="jpeg")
    table = runner.invoke(cli.app, ["inspect", str(path)])
    assert table.exit_code == 0, table.output
    for text in ("frames", "identities", "jpeg", "16 px", "schema version"):
        assert text in table.output
    sheet = tmp_path / "sheet.png"
    result = runner.invoke(
        cli.app, ["inspect", str(path), "--json", "--sheet", str(sheet), "--n", "5", "--seed", "2"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["frames"] == sum(spec.frames for spec in specs) and summary["clips"] == 9
    assert summary["encoding"] == "jpeg" and len(summary["sheet"]["rows"]) == 5
    assert cv2.imread(str(sheet)).shape == (160, 5 * 160, 3)


def test_inspect_reports_bad_files_in_one_line(tmp_path):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as h5:
        h5["x"] = [1, 2]
    for path, message in (
        (tmp_path / "absent.h5", "no such face store"),
        (foreign, "not a fercl face store"),
    ):
        result = runner.invoke(cli.app, ["inspect", str(path)])
        assert result.exit_code == 2
        assert message in result.output and "Traceback" not in result.output
