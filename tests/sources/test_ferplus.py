from pathlib import Path

import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.sources.fer2013 import Fer2013Csv
from fercl_cli.sources.ferplus import (
    CSV_COLUMNS,
    FERPLUS_CLASSES,
    NO_VOTES,
    NOT_FACE,
    TIED,
    UNKNOWN,
    majority_vote,
    read_ferplus,
)

USAGES = ["Training", "Training", "PrivateTest", "PublicTest", "PublicTest", "Training"]
VOTES = [
    [0, 0, 0, 0, 0, 1, 9, 0, 0, 0],  # Fear
    [4, 4, 0, 0, 0, 0, 0, 0, 2, 0],  # tie neutral / happiness
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 10],  # not a face
    [0, 2, 7, 0, 0, 0, 0, 0, 0, 1],  # Surprise
    [1, 0, 0, 0, 0, 0, 0, 3, 6, 0],  # unknown
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # no votes
]


def reference_vote(row: list[int]) -> int:
    """The rule written out the slow, obvious way."""
    top = max(row)
    winners = [j for j, v in enumerate(row) if v == top]
    if top == 0:
        return NO_VOTES
    if len(winners) > 1:
        return TIED
    return {8: UNKNOWN, 9: NOT_FACE}.get(winners[0], winners[0])


def test_majority_vote_matches_the_rule_written_out():
    assert majority_vote(np.array(VOTES)).tolist() == [6, TIED, NOT_FACE, 2, UNKNOWN, NO_VOTES]
    rng = np.random.default_rng(0)
    votes = rng.multinomial(10, rng.dirichlet(np.ones(10) * 0.4, size=2000)[0], size=2000)
    votes[:300] = rng.integers(0, 4, size=(300, 10))  # many ties
    labels = majority_vote(votes)
    assert labels.tolist() == [reference_vote(list(row)) for row in votes]
    assert {TIED, *range(8)} <= set(labels.tolist())


def write_ferplus(path: Path, usages=USAGES, votes=VOTES) -> Path:
    lines = [",".join(CSV_COLUMNS)]
    for i, (usage, row) in enumerate(zip(usages, votes, strict=True)):
        lines.append(f"{usage},fer{i:07d}.png," + ",".join(map(str, row)))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def fer_csv(tmp_path: Path) -> Path:
    grey = " ".join(["128"] * 2304)
    lines = ["emotion,pixels,Usage"] + [f"{i % 7},{grey},{usage}" for i, usage in enumerate(USAGES)]
    path = tmp_path / "fer2013.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ferplus_labels_replace_the_fer2013_ones_and_drops_are_counted(fer_csv: Path, tmp_path: Path):
    source = Fer2013Csv(fer_csv, size=16, ferplus=write_ferplus(tmp_path / "fer2013new.csv"))
    assert source.class_names == FERPLUS_CLASSES and source.label_set == "ferplus"
    records = list(source)
    assert [(r.key, r.label, r.split) for r in records] == [
        ("fer2013.csv:2", 6, "train"),
        ("fer2013.csv:5", 2, "test"),
    ]
    assert len(source) == 2
    assert source.counts() == {
        "rows": 2,
        "train": 1,
        "select": 0,
        "test": 1,
        "ferplus_tied": 1,
        "ferplus_unknown": 1,
        "ferplus_not_face": 1,
        "ferplus_no_votes": 1,
    }
    assert source.notes()[2] == (
        "fer2013new.csv: FER+ labels, the majority vote over its 10 columns (8 emotions, unknown, NF); "
        "dropped 1 tied row(s), 1 with most votes on unknown, 1 on NF (not a face), 1 without votes"
    )


def test_a_row_count_mismatch_is_one_line_naming_both_files(fer_csv: Path, tmp_path: Path):
    ferplus = write_ferplus(tmp_path / "fer2013new.csv", USAGES[:5], VOTES[:5])
    with pytest.raises(FerclError) as error:
        Fer2013Csv(fer_csv, ferplus=ferplus)
    assert str(error.value) == (
        f"{ferplus}: 5 rows but fer2013.csv has 6; FER+ lists one row per fer2013.csv row: pass the "
        "fer2013new.csv made for this fer2013.csv"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda lines: lines.__setitem__(3, lines[3].replace("PrivateTest", "PublicTest")),
            "line 4: Usage 'PublicTest' but fer2013.csv line 4 has 'PrivateTest'; the two files must list "
            "the same rows in the same order",
        ),
        (
            lambda lines: lines.__setitem__(2, lines[2].replace(",4,4,", ",4,x,")),
            "line 3: column happiness must be a vote count (an integer >= 0); fix the row",
        ),
        (
            lambda lines: lines.__setitem__(2, lines[2].replace(",4,4,", ",4,-1,")),
            "line 3: column happiness must be a vote count (an integer >= 0); fix the row",
        ),
        (
            lambda lines: lines.__setitem__(0, lines[0].replace(",NF", ",nf")),
            "missing column(s) NF; a FER+ file has the header Usage,Image name,neutral,happiness,surprise,"
            "sadness,anger,disgust,fear,contempt,unknown,NF",
        ),
    ],
)
def test_bad_ferplus_files_are_one_line_naming_the_line(fer_csv: Path, tmp_path: Path, change, message):
    path = write_ferplus(tmp_path / "fer2013new.csv")
    lines = path.read_text().splitlines()
    change(lines)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FerclError) as error:
        read_ferplus(path, np.array(USAGES), fer_csv)
    assert str(error.value) == f"{path}: {message}"


def test_a_missing_ferplus_file_names_it(fer_csv: Path, tmp_path: Path):
    with pytest.raises(FerclError) as error:
        Fer2013Csv(fer_csv, ferplus=tmp_path / "nope.csv")
    assert (
        str(error.value)
        == f"{tmp_path / 'nope.csv'}: FER+ label file not found; pass the path of fer2013new.csv"
    )
