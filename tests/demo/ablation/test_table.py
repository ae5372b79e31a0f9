import pytest

from fercl_cli.demo.ablation import table as ablation
from fercl_cli.demo.ablation.configs import CONFIGS
from fercl_cli.demo.ablation.summary import summarise
from fercl_cli.errors import FerclError
from tests.factories.ablation import FLOOR, PAPER_ORDER, fake_runs


def test_table_and_markdown_rows():
    summary = summarise(fake_runs(PAPER_ORDER, 0.01), FLOOR, {"profile": "quick", "seeds": "0,1,2"})
    header, rows = ablation.table(summary)
    assert header[0] == "configuration" and header[-1] == "paper F1 %"
    assert "LFW identity acc ↓" in header and "AffectNet acc ↑" in header
    assert rows[0][0].startswith("random init") and rows[0][1] == "30.0"
    assert [row[0] for row in rows[1:]] == [f"{c.name} (3 seeds)" for c in CONFIGS]
    assert rows[-1][1] == "65.0 ± 1.0" and rows[-1][-1] == "59.3"
    short_header, short_rows = ablation.table(summary, short=True)
    assert short_header == [
        "config",
        "AN acc ↑",
        "AN F1 ↑",
        "V-CCC ↑",
        "A-CCC ↑",
        "FER acc ↑",
        "LFW id ↓",
        "paper",
    ]
    assert short_rows[-1][:4] == ["All 4", "65.0±1.0", "65.0±1.0", "0.65±0.01"]
    assert short_rows[0][:4] == ["random", "30.0", "30.0", "0.30"]
    text = ablation.markdown(summary)
    assert text.startswith("### Miniature ablation")
    assert "\n- profile: quick\n- seeds: 0,1,2\n" in text
    assert "| All four (3 seeds) | 65.0 ± 1.0 |" in text
    assert text.count("\n- ") == len(summary.statements) + 2


def test_write_section_replaces_only_its_marked_section(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n<!-- bench:loader -->\nloader\n<!-- /bench:loader -->\n")
    first = summarise(fake_runs(PAPER_ORDER, 0.01), FLOOR)
    ablation.write_section(page, first)
    second = summarise(fake_runs({k: v + 0.01 for k, v in PAPER_ORDER.items()}, 0.01), FLOOR)
    ablation.write_section(page, second)
    text = page.read_text()
    assert text.count("<!-- bench:ablation -->") == 1 and text.count("<!-- /bench:ablation -->") == 1
    assert "<!-- bench:loader -->\nloader\n<!-- /bench:loader -->" in text
    assert "| All four (3 seeds) | 66.0 ± 1.0 |" in text and "65.0 ± 1.0" not in text
    with pytest.raises(FerclError, match="ending in .md"):
        ablation.write_section(tmp_path / "b.txt", first)
    with pytest.raises(FerclError, match="does not exist"):
        ablation.write_section(tmp_path / "nowhere" / "b.md", first)
