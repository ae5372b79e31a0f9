import json
from dataclasses import replace
from pathlib import Path

import pytest

from fercl_cli.demo.ablation.configs import CONFIGS, LANDMARKS_FLOOR, PIXELS_FLOOR, SUPERVISED
from fercl_cli.demo.ablation.run import run_ablation
from fercl_cli.demo.chain import run_demo
from fercl_cli.demo.layout import Layout
from fercl_cli.demo.profiles import QUICK
from fercl_cli.demo.table import COLUMNS
from fercl_cli.errors import FerclError

TINY = replace(QUICK, epochs=1, ablation_epochs=1, supervised_epochs=1)


@pytest.mark.slow
def test_the_ablation_runs_every_configuration_and_seed_then_reuses_them(tmp_path):
    summary = run_demo(tmp_path / "demo", TINY, "cpu")
    layout = Layout(tmp_path / "demo" / TINY.name)
    assert summary["dir"] == str(layout.root)
    events: list[tuple[str, dict]] = []
    first = run_ablation(
        layout, TINY, "cpu", lambda kind, payload: events.append((kind, payload)), seeds=(0, 1)
    )
    assert first["stage"]["details"]["runs"] == {"ran": len(CONFIGS) * 2, "resumed": 0, "reused": 0}
    assert [kind for kind, _ in events][0] == "stage" and events[-1][0] == "done"
    cells = first["summary"]["cells"]
    assert set(cells) == {c.key for c in CONFIGS}
    assert all(
        set(per) == {m.key for m in COLUMNS} and all(c["n"] == 2 for c in per.values())
        for per in cells.values()
    )
    assert set(first["summary"]["references"]) == {PIXELS_FLOOR, LANDMARKS_FLOOR, SUPERVISED}
    assert first["summary"]["references"][SUPERVISED]["lfw/accuracy"] is None  # no paper protocol for LFW
    decision = first["summary"]["decision"]
    assert [rule["key"] for rule in decision["rules"]][:2] == ["a", "b"] and decision["verdict"]
    files = first["stage"]["outputs"]
    assert Path(files["json"]).read_text() == json.dumps(first["summary"], indent=2) + "\n"
    text = Path(files["markdown"]).read_text()
    assert "Decision rules (computed" in text and "**Verdict:**" in text
    assert Path(files["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = run_ablation(layout, TINY, "cpu", lambda kind, payload: None, seeds=(0, 1))
    assert again["stage"]["details"]["runs"] == {"ran": 0, "resumed": 0, "reused": len(CONFIGS) * 2}
    assert again["summary"]["cells"] == cells
    with pytest.raises(FerclError, match="ablation seeds must be distinct"):
        run_ablation(layout, TINY, "cpu", lambda kind, payload: None, seeds=(1, 1))
