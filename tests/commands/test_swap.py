import json

from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.store.swap_bank import SwapBank
from tests.factories.stores import write_empty_store, write_portrait_store, write_store_without_landmarks

runner = CliRunner()


def test_swap_writes_a_bank_and_reports_json(tmp_path):
    store = write_portrait_store(tmp_path / "faces.h5", frames=2, no_landmarks=((0, 1),))
    out = tmp_path / "swaps.h5"
    result = runner.invoke(
        app, ["swap", str(store), "--out", str(out), "--per-frame", "2", "--seed", "4", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["swaps"] == summary["total_swaps"] == 14 and summary["planned_sources"] == 8
    assert summary["skipped"]["no landmarks"] == 1
    bank = SwapBank(out)
    assert len(bank) == 14 and bank.count(1) == 0 and bank.count(2) == 2
    again = runner.invoke(
        app, ["swap", str(store), "--out", str(out), "--per-frame", "2", "--seed", "4", "--json"]
    )
    assert json.loads(again.output)["resumed_sources"] == 8 and json.loads(again.output)["swaps"] == 0


def test_swap_prints_a_summary_table(tmp_path):
    store = write_portrait_store(tmp_path / "faces.h5", frames=1)
    result = runner.invoke(app, ["swap", str(store), "--out", str(tmp_path / "s.h5")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "fercl swap" in result.output and "swaps/s" in result.output and "4 / 4" in result.output


def test_swap_errors_are_one_line(tmp_path):
    cases = [
        (write_empty_store(tmp_path / "empty.h5"), [], "the store has no frames"),
        (write_store_without_landmarks(tmp_path / "bare.h5"), [], "no frame has landmarks"),
        (tmp_path / "absent.h5", [], "no such face store"),
        (tmp_path / "absent.h5", ["--frames", "some"], "--frames 'some'"),
    ]
    for store, extra, message in cases:
        result = runner.invoke(app, ["swap", str(store), "--out", str(tmp_path / "s.h5"), *extra])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and message in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_inspect_recognises_a_swap_bank_and_draws_its_sheet(tmp_path):
    import cv2

    store = write_portrait_store(tmp_path / "faces.h5", frames=2)
    out = tmp_path / "swaps.h5"
    assert runner.invoke(app, ["swap", str(store), "--out", str(out), "--json"]).exit_code == 0
    sheet = tmp_path / "sheet.png"
    result = runner.invoke(app, ["inspect", str(out), "--sheet", str(sheet), "--n", "3", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["kind"] == "swap bank" and summary["swaps"] == len(SwapBank(out)) > 0
    image = cv2.imread(str(sheet))
    # one row of 3 source | donor | swap triplets (128 px tiles, 8 px gaps) under an 18 px header
    assert image is not None and image.shape[:2] == (18 + 128, 3 * 3 * 128 + 2 * 8)
