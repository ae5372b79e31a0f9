import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fercl_cli.cli import app
from tests.evaluate.data import INPUT_SIZE, make_affectnet, make_checkpoint
from tests.sources.test_lfw import make_lfw_home

runner = CliRunner()


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> list[Path]:
    """Three results files written by fercl evaluate --out: two tasks of one checkpoint, and random init."""
    root = tmp_path_factory.mktemp("report")
    affectnet, lfw = make_affectnet(root / "affectnet"), make_lfw_home(root / "lfw").parent
    run = make_checkpoint(root / "timeaug")
    jobs = {
        "affectnet.json": [
            "--task",
            "affectnet",
            "--protocol",
            "knn",
            "--checkpoint",
            str(run),
            "--data",
            str(affectnet),
        ],
        "lfw.json": ["--task", "lfw", "--checkpoint", str(run), "--data", str(lfw), "--min-faces", "3"],
        "random.json": ["--task", "lfw", "--checkpoint", "random", "--arch", "resnet18", "--data", str(lfw)]
        + ["--min-faces", "3"],
    }
    for name, args in jobs.items():
        done = runner.invoke(app, ["evaluate", "--size", str(INPUT_SIZE), *args, "--out", str(root / name)])
        assert done.exit_code == 0, done.output
    return [root / name for name in jobs]


def test_json_table_has_a_row_per_checkpoint_and_the_paper_rows(results, tmp_path: Path):
    markdown = tmp_path / "table.md"
    result = runner.invoke(
        app, ["report", *map(str, results), "--paper", "--markdown", str(markdown), "--json"]
    )
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    names = [row["name"] for row in table["rows"]]
    assert (
        names[0].startswith("timeaug (resnet18, ")
        and names[1] == "random init (resnet18, seed 0, BN calibrated)"
    )
    assert len(names) == 2 + 12 and names[-1] == "paper: All four"
    labels = [c["label"] for c in table["columns"]]
    assert "AffectNet F1 % [knn]" in labels and "LFW id↓ Acc % [nn1]" in labels
    assert "AffectNet F1 % [paper]" in labels
    first = table["rows"][0]
    assert first["files"] == [str(results[0]), str(results[1])]
    assert set(first["cells"]) == {
        "AffectNet F1 % [knn]",
        "AffectNet Acc % [knn]",
        "LFW id↓ F1 % [nn1]",
        "LFW id↓ Acc % [nn1]",
    }
    assert "| paper: TimeAug | paper (published) |" in markdown.read_text()


def test_rich_table_and_notes(results):
    result = runner.invoke(app, ["report", *map(str, results), "--paper"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())
    assert "fercl report" in shown and "paper: All four" in shown
    assert "lower identity accuracy / macro-F1 means less identity leakage" in shown
    assert "not reproduced by fercl" in shown
    assert "[nn1]" in shown and "[protocol] after each metric" in shown  # escaped, not read as markup
    assert "[linear]" in shown or "[paper]" in shown


def test_a_file_that_is_not_a_results_file_is_one_line(tmp_path: Path):
    (tmp_path / "x.json").write_text("[]")
    result = runner.invoke(app, ["report", str(tmp_path / "x.json")])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"error: {tmp_path / 'x.json'}: not a fercl evaluate results file (format 'fercl-evaluate-results' expected)"
    )


def test_a_wide_report_is_split_into_tables_that_fit_120_columns(results):
    result = runner.invoke(app, ["report", *map(str, results), "--paper"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 120
    assert "fercl report (1/" in result.stdout
    for label in ("AffectNet F1 % [knn]", "LFW id↓ Acc % [nn1]", "paper: TimeAug+HardNeg+FaceSwap"):
        assert any(label in line for line in lines), label  # whole on one line, never folded
