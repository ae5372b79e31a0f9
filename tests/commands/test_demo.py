import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.demo.runs import TASKS
from fercl_cli.demo.table import COLUMNS

runner = CliRunner()
STAGES = ["sample", "preprocess", "swap", "describe", "pretrain", "evaluate", "report"]


def demo(*args: str):
    return runner.invoke(app, ["demo", *args])


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> dict:
    """``fercl demo --quick --json`` run twice in one folder: the first run and the rerun's output."""
    root = tmp_path_factory.mktemp("demo") / "fercl-demo"
    first = demo("--quick", "--dir", str(root), "--device", "cpu", "--json")
    assert first.exit_code == 0, first.output
    checkpoint = root / "quick" / "runs" / "demo" / "last.pt"
    results = sorted((root / "quick" / "results").glob("*.json"))
    before = {path: path.stat().st_mtime_ns for path in [checkpoint, *results]}
    second = demo("--quick", "--dir", str(root), "--device", "cpu", "--json")
    assert second.exit_code == 0, second.output
    return {
        "root": root,
        "first": json.loads(first.stdout),
        "second": json.loads(second.stdout),
        "before": before,
    }


@pytest.mark.slow
def test_quick_demo_runs_every_stage_and_reports_finite_numbers(quick):
    summary = quick["first"]
    assert [s["stage"] for s in summary["stages"]] == STAGES
    assert all(s["status"] == "ran" for s in summary["stages"]), [s["status"] for s in summary["stages"]]
    assert set(summary) >= {"profile", "dir", "device", "stages", "results", "notes", "files", "next"}
    assert summary["profile"] == "quick" and summary["dir"] == str(quick["root"] / "quick")
    for stage in summary["stages"]:
        assert stage["headline"] and stage["seconds"] >= 0
        for path in stage["outputs"].values():
            assert Path(path.split("#")[0]).exists(), (stage["stage"], path)
    for path in summary["files"].values():
        assert Path(path).exists(), path
    by_stage = {s["stage"]: s for s in summary["stages"]}
    assert by_stage["preprocess"]["details"]["frames_kept"] > 0
    assert by_stage["swap"]["details"]["total_swaps"] > 0
    assert by_stage["describe"]["details"]["frames"] == by_stage["preprocess"]["details"]["frames_kept"]
    pretrain = by_stage["pretrain"]["details"]
    assert pretrain["stopped"] == "finished" and pretrain["steps"] == pretrain["total_steps"] > 0
    assert pretrain["config"]["face_swap"] and pretrain["config"]["mask_fn"] == "top1-other-clip"
    assert pretrain["swapped_views"] > 0 and math.isfinite(pretrain["last_epoch_loss"])
    assert 0 <= pretrain["contrastive_accuracy"] <= 1 and pretrain["chance_accuracy"] == 1 / 15
    assert len(by_stage["evaluate"]["outputs"]) == 2 * len(TASKS)
    assert [(r["task"], r["metric"]) for r in summary["results"]] == [(m.task, m.metric) for m in COLUMNS]
    for row in summary["results"]:
        for value in (row["demo"]["mean"], row["random"]["mean"]):
            assert value is not None and math.isfinite(value), row
        assert row["test_rows"] > 0
    report = Path(summary["files"]["report"]).read_text()
    assert "paper: All four" in report and "LFW id↓" in report
    assert json.loads(Path(summary["files"]["this summary"]).read_text())["results"] == summary["results"]
    assert any("LOWER is better" in note for note in summary["notes"])


@pytest.mark.slow
def test_a_rerun_reuses_every_stage_without_rewriting_outputs(quick):
    again = quick["second"]
    assert [(s["stage"], s["status"]) for s in again["stages"]] == [(name, "reused") for name in STAGES]
    pretrain = next(s for s in again["stages"] if s["stage"] == "pretrain")["details"]
    assert (
        pretrain["steps"]
        == next(s for s in quick["first"]["stages"] if s["stage"] == "pretrain")["details"]["steps"]
    )
    for path, mtime in quick["before"].items():
        assert path.stat().st_mtime_ns == mtime, f"{path} was rewritten"
    assert again["results"] == quick["first"]["results"]


@pytest.mark.slow
def test_the_human_output_has_headlines_and_the_explained_table(quick):
    result = runner.invoke(
        app, ["demo", "--quick", "--dir", str(quick["root"]), "--device", "cpu"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    for name in STAGES:
        assert f"{name} " in text and "reused" in text
    assert "fercl demo: results on the synthetic sample (quick profile)" in text
    assert "LFW identity acc %" in text and "LOWER" in text and "random init" in text
    assert "The data are synthetic" in text and "where the files are" in text
    assert (
        "fercl pretrain faces.h5" in text and f"fercl demo --ablation --dir {quick['root']} --quick" in text
    )


def test_bad_options_are_one_line_errors(tmp_path):
    cases = [
        (["--device", "tpu"], "error: --device must be auto, cpu or cuda, got 'tpu'"),
        (["--write", str(tmp_path / "b.md")], "error: --write records the ablation's table: add --ablation"),
        (["--ablation", "--write", str(tmp_path / "b.txt")], "error: --write"),
        (["--ablation", "--write", str(tmp_path / "no" / "b.md")], "error: --write"),
        (["--profile", "testbed"], "error: --quick and --profile testbed disagree"),
        (["--profile", "quick", "--dir", str(tmp_path / "file")], "is a file"),
    ]
    (tmp_path / "file").write_text("x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    cases += [
        (["--dir", str(tmp_path / "file")], "is a file"),
        (["--dir", str(tmp_path / "mine")], "is not empty and holds no earlier demo"),
    ]
    import torch

    if not torch.cuda.is_available():
        cases.append((["--device", "cuda"], "error: --device cuda: no CUDA device is available here"))
    for args, message in cases:
        result = demo("--quick", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine"]  # nothing was written
