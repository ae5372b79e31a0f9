from fercl_cli.bench.record import BenchResult, Row, write_section


def _result(value):
    return BenchResult(
        "demo", "Demo bench", [Row("speed", value, "x", ">= 2", value >= 2)], {"n": 3}, ["a note"]
    )


def test_sections_are_replaced_in_place_and_others_kept(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\nintro\n")
    write_section(path, _result(1.5))
    other = BenchResult("other", "Other", [Row("m", 1.0, "s")], {})
    write_section(path, other)
    write_section(path, _result(3.25))
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n")
    assert text.count("<!-- bench:demo -->") == 1 and text.count("<!-- bench:other -->") == 1
    assert "| speed | 3.25 x | >= 2 | yes |" in text and "1.50 x" not in text
    assert text.index("bench:demo") < text.index("bench:other")
    assert "**no**" in _result(1.0).markdown() and "- a note" in text
