import json

import pytest

from fercl_cli.demo.layout import MARKER, prepare_dir
from fercl_cli.demo.profiles import QUICK
from fercl_cli.errors import FerclError


def test_prepare_dir_makes_a_marked_folder_and_refuses_foreign_ones(tmp_path):
    layout = prepare_dir(tmp_path / "demo", QUICK)
    assert layout.root == tmp_path / "demo" / "quick" and layout.root.is_dir()
    assert json.loads((tmp_path / "demo" / MARKER).read_text())["fercl_version"]
    (layout.root / "something").write_text("x")
    assert prepare_dir(tmp_path / "demo", QUICK) == layout  # an earlier demo's folder is fine
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(FerclError, match="not empty and holds no earlier demo"):
        prepare_dir(tmp_path / "mine", QUICK)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FerclError, match="is a file"):
        prepare_dir(tmp_path / "file", QUICK)


def test_derived_outputs_are_everything_but_the_corpus(tmp_path):
    layout = prepare_dir(tmp_path / "demo", QUICK)
    assert layout.sample not in layout.derived() and layout.store in layout.derived()
    assert layout.results_file("random", "lfw") == layout.results / "random-lfw.json"
