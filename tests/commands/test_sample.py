import json

import pandas as pd
from typer.testing import CliRunner

from fercl_cli.cli import app

runner = CliRunner()
TINY = ["--identities", "1", "--clips-per-identity", "1", "--seconds", "1", "--eval-identities", "2",
        "--images-per-class", "1", "--lfw-images", "2"]  # fmt: skip


def test_help_shows_an_example():
    result = runner.invoke(app, ["sample", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example: fercl sample /tmp/s" in result.output
    for option in ("--identities", "--clips-per-identity", "--seconds", "--seed", "--json"):
        assert option in result.output


def test_json_summary_describes_the_written_corpus(tmp_path):
    out = tmp_path / "s"
    result = runner.invoke(app, ["sample", str(out), *TINY, "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["options"]["seed"] == 3
    assert summary["counts"]["voxceleb"] == {
        "identities": 1, "videos": 1, "clips": 1, "frames": 25, "interval_frames": 5
    }  # fmt: skip
    assert summary["counts"]["fer2013"]["training"] + summary["counts"]["fer2013"]["public_test"] > 0
    assert summary["real_identities"] + summary["derived_identities"] == 3
    meta = pd.read_csv(summary["paths"]["voxceleb_meta"], sep="\t")
    assert meta["VGGFace1 ID"].tolist() == summary["pretraining_identities"]


def test_table_output_lists_the_four_datasets(tmp_path):
    result = runner.invoke(app, ["sample", str(tmp_path / "s"), *TINY], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("VoxCeleb1", "AffectNet", "FER2013", "LFW", "real", "derived"):
        assert name in result.stdout


def test_bad_input_is_one_line_with_exit_code_2(tmp_path):
    a_file = tmp_path / "f"
    a_file.write_text("x")
    cases = [
        ([str(tmp_path / "s"), "--identities", "0"], "--identities must be at least 1"),
        ([str(tmp_path / "s"), "--seconds", "-2"], "--seconds must be at least 0.5"),
        ([str(a_file)], "is a file"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["sample", *args])
        assert result.exit_code == 2
        assert message in result.output
        assert "Traceback" not in result.output
