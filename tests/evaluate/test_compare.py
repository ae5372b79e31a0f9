import json
from pathlib import Path

import pytest

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.compare import (
    PAPER_AFFECTNET_ROWS,
    PAPER_SOURCE,
    Column,
    compare,
    table_cells,
    to_json,
    to_markdown,
)
from fercl_cli.evaluate.results import RESULTS_FORMAT, format_cell


def write_result(
    path: Path, *, ckpt: str, task: str, protocol: str, metrics: dict, classes: int = 8, options=None
) -> Path:
    """The parts of a results file that ``fercl report`` reads."""
    kind = {"affectnet-va": "regression", "lfw": "identity"}.get(task, "classification")
    payload = {
        "format": RESULTS_FORMAT,
        "fercl_version": "0.1.0",
        "task": task,
        "kind": kind,
        "protocol": protocol,
        "request": {"classes": classes},
        "checkpoint": {
            "hash": f"sha256:{ckpt}",
            "kind": "fercl",
            "arch": "resnet50",
            "path": f"/runs/{ckpt}/last.pt",
        },
        "summary": {"metrics": metrics},
    }
    if options is not None:
        payload["data"] = {"options": options}
    path.write_text(json.dumps(payload))
    return path


def ms(mean, std=None, n=1):
    return {"mean": mean, "std": std, "n": n}


# (file stem, checkpoint, task, protocol, metrics as ``ms`` arguments) of the results files ``files`` writes.
A_AFFECTNET = {"accuracy": (0.41, 0.01, 3), "macro_f1": (0.40, 0.02, 3)}
B_VA = {"valence_ccc": (0.3,), "valence_rmse": (0.5,), "arousal_ccc": (0.2,), "arousal_rmse": (0.4,)}
FILES = [
    ("a_affectnet", "aaaa1111", "affectnet", "linear", A_AFFECTNET),
    ("a_lfw", "aaaa1111", "lfw", "nn1", {"accuracy": (0.9,), "macro_f1": (0.85,)}),
    ("b_affectnet", "bbbb2222", "affectnet", "linear", {"accuracy": (0.35,), "macro_f1": (0.33,)}),
    ("b_va", "bbbb2222", "affectnet-va", "linear", B_VA),
]


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [
        write_result(
            tmp_path / f"{stem}.json",
            ckpt=ckpt,
            task=task,
            protocol=protocol,
            metrics={name: ms(*value) for name, value in metrics.items()},
        )
        for stem, ckpt, task, protocol, metrics in FILES
    ]


def test_rows_are_checkpoints_and_columns_task_protocol_metric(files):
    comparison = compare(files)
    assert [row.name for row in comparison.rows] == [
        "aaaa1111 (resnet50, aaaa1111)",
        "bbbb2222 (resnet50, bbbb2222)",
    ]
    assert [c.label for c in comparison.columns] == [
        "AffectNet F1 % [linear]",
        "AffectNet Acc % [linear]",
        "AffectNet VA V-CCC [linear]",
        "AffectNet VA V-RMSE [linear]",
        "AffectNet VA A-CCC [linear]",
        "AffectNet VA A-RMSE [linear]",
        "LFW id↓ F1 % [nn1]",
        "LFW id↓ Acc % [nn1]",
    ]
    header, body = table_cells(comparison)
    assert header[:2] == ["configuration", "source"]
    assert body[0][2:4] == ["40.0 ± 2.0", "41.0 ± 1.0"] and body[0][4] == "—"
    assert body[1][4] == "0.300" and body[1][-1] == "—"
    assert any("lower identity accuracy" in note for note in comparison.notes)


def test_the_paper_rows_are_marked_and_sit_under_the_paper_protocol(files):
    comparison = compare(files, paper=True)
    paper_rows = [row for row in comparison.rows if row.source == PAPER_SOURCE]
    assert len(paper_rows) == len(PAPER_AFFECTNET_ROWS)
    everything = next(row for row in paper_rows if row.name == "paper: All four")
    assert format_cell(everything.cells[Column("affectnet", "paper", "macro_f1")], True) == "59.3"
    assert format_cell(everything.cells[Column("affectnet-va", "paper", "arousal_rmse")], False) == "0.372"
    assert any("not reproduced by fercl" in note for note in comparison.notes)
    markdown = to_markdown(comparison)
    assert "| paper: All four | paper (published) |" in markdown
    assert "AffectNet F1 % [paper]" in markdown.splitlines()[0]
    payload = to_json(comparison)
    assert payload["rows"][0]["files"] == [str(files[0]), str(files[1])]
    assert payload["rows"][-1]["cells"]["AffectNet Acc % [paper]"] == {"mean": 0.593, "std": None, "n": 1}


def test_seven_classes_are_their_own_columns(tmp_path: Path):
    kwargs = {"ckpt": "c", "task": "affectnet", "protocol": "knn", "metrics": {"accuracy": ms(0.5)}}
    path = write_result(tmp_path / "seven.json", classes=7, **kwargs)
    assert compare([path]).columns[0].task == "affectnet-7"


@pytest.mark.parametrize(
    ("task", "options", "key", "label"),
    [
        ("fer2013", {"split": "public", "labels": "fer2013"}, "fer2013", "FER2013 F1 % [knn]"),
        (
            "fer2013",
            {"split": "private", "labels": "fer2013"},
            "fer2013-private",
            "FER2013 private F1 % [knn]",
        ),
        ("fer2013", {"split": "public", "labels": "ferplus"}, "ferplus", "FER+ F1 % [knn]"),
        ("fer2013", {"split": "private", "labels": "ferplus"}, "ferplus-private", "FER+ private F1 % [knn]"),
        ("affectnet", {"release": "npy"}, "affectnet-npy", "AffectNet npy F1 % [knn]"),
        ("affectnet", {"release": "csv"}, "affectnet", "AffectNet F1 % [knn]"),
        ("rafdb", {"images": "aligned"}, "rafdb", "RAF-DB F1 % [knn]"),
    ],
)
def test_splits_label_sets_and_releases_never_share_a_column(tmp_path: Path, task, options, key, label):
    kwargs = {"ckpt": "c", "protocol": "knn", "metrics": {"macro_f1": ms(0.5)}}
    path = write_result(tmp_path / "r.json", task=task, options=options, **kwargs)
    (column,) = compare([path]).columns
    assert (column.task, column.label) == (key, label)


def test_duplicates_and_bad_files_are_explained(files, tmp_path: Path):
    with pytest.raises(FerclError, match="is also in .*a_affectnet.json"):
        compare([files[0], files[0]])
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(FerclError, match="not a readable JSON results file"):
        compare([tmp_path / "junk.json"])
    (tmp_path / "other.json").write_text(json.dumps({"format": "something"}))
    with pytest.raises(FerclError, match="not a fercl evaluate results file"):
        compare([tmp_path / "other.json"])
    with pytest.raises(FerclError, match="results file not found"):
        compare([tmp_path / "absent.json"])
