"""docs/python-api.md's code block runs as written."""

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


@pytest.mark.slow
def test_the_python_api_page_runs_as_written(tmp_path, monkeypatch, capsys):
    (block,) = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(PAGE), "exec"), {"__name__": "notebook"})
    printed = capsys.readouterr().out
    assert "faces stored" in printed and "steps, last loss" in printed and "AffectNet macro-F1" in printed
    assert (tmp_path / "fercl-notebook" / "head.npz").is_file()
    assert (tmp_path / "fercl-notebook" / "run" / "last.pt").is_file()
