"""FER+ labels for FER2013's images: ``fer2013new.csv``, ten annotators' votes per ``fer2013.csv`` row.

Columns: ``Usage, Image name, neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
unknown, NF``; one row per row of ``fer2013.csv``, in the same order, with the same Usage; vote counts
(non-negative integers, out of 10 in the official file).

Majority vote: a row's label is the column with the most votes among all ten. The row is dropped (and
counted) when that maximum is shared by two or more columns (``tied``, also a tie with ``unknown`` or
``NF``), when it falls on ``unknown`` or on ``NF`` (not a face), or when the row has no vote at all.
Classes in FER+ order: 0 Neutral, 1 Happiness, 2 Surprise, 3 Sadness, 4 Anger, 5 Disgust, 6 Fear,
7 Contempt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercl_cli.errors import FerclError

FERPLUS_CLASSES: tuple[str, ...] = (
    "Neutral",
    "Happiness",
    "Surprise",
    "Sadness",
    "Anger",
    "Disgust",
    "Fear",
    "Contempt",
)
VOTE_COLUMNS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
CSV_COLUMNS: tuple[str, ...] = ("Usage", "Image name", *VOTE_COLUMNS)
# Codes :func:`majority_vote` gives a dropped row, and the counter each one is reported under.
TIED, UNKNOWN, NOT_FACE, NO_VOTES = -1, -2, -3, -4
DROPPED: dict[int, str] = {TIED: "tied", UNKNOWN: "unknown", NOT_FACE: "not_face", NO_VOTES: "no_votes"}


def majority_vote(votes: np.ndarray) -> np.ndarray:
    """int [N, 10] vote counts (columns :data:`VOTE_COLUMNS`) → int64 [N]: the FER+ class 0-7 of each row,
    or a negative code of :data:`DROPPED` (see the module docstring for the rule)."""
    votes = np.asarray(votes, dtype=np.int64)
    top = votes.max(axis=1)
    winners = (votes == top[:, None]).sum(axis=1)
    labels = votes.argmax(axis=1)
    labels = np.where(labels == VOTE_COLUMNS.index("unknown"), UNKNOWN, labels)
    labels = np.where(labels == VOTE_COLUMNS.index("NF"), NOT_FACE, labels)
    labels = np.where(winners > 1, TIED, labels)
    return np.where(top == 0, NO_VOTES, labels).astype(np.int64)


def read_ferplus(path: Path, usage: np.ndarray, fer_csv: Path) -> np.ndarray:
    """The majority-vote labels (int64 [N], see :func:`majority_vote`) of ``fer2013new.csv`` at ``path``,
    checked against the N rows of ``fer_csv`` whose Usage values are ``usage`` (str [N]).

    Raises:
        FerclError: the file is missing or unreadable, a column is missing, its row count or a Usage
            differs from ``fer_csv``, or a vote count is not a non-negative integer.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FerclError(f"{path}: FER+ label file not found; pass the path of fer2013new.csv")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FerclError(f"{path}: not a readable FER+ CSV ({exc}); check the file") from exc
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in CSV_COLUMNS if c not in table.columns]
    if missing:
        raise FerclError(
            f"{path}: missing column(s) {', '.join(missing)}; a FER+ file has the header {','.join(CSV_COLUMNS)}"
        )
    if len(table) != len(usage):
        raise FerclError(
            f"{path}: {len(table)} rows but {fer_csv.name} has {len(usage)}; FER+ lists one row per "
            f"{fer_csv.name} row: pass the fer2013new.csv made for this {fer_csv.name}"
        )
    ferplus_usage = table["Usage"].str.strip().to_numpy(dtype=str)
    differs = ferplus_usage != np.asarray(usage, dtype=str)
    if differs.any():
        row = int(np.flatnonzero(differs)[0])
        raise FerclError(
            f"{path}: line {row + 2}: Usage {str(ferplus_usage[row])!r} but {fer_csv.name} line {row + 2} has "
            f"{str(usage[row])!r}; the two files must list the same rows in the same order"
        )
    votes = np.empty((len(table), len(VOTE_COLUMNS)), dtype=np.int64)
    for j, column in enumerate(VOTE_COLUMNS):
        values = pd.to_numeric(table[column].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
        bad = ~(np.isfinite(values) & (values >= 0) & (values % 1 == 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise FerclError(
                f"{path}: line {row + 2}: column {column} must be a vote count (an integer >= 0); fix the row"
            )
        votes[:, j] = values.astype(np.int64)
    return majority_vote(votes)
