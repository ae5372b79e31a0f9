"""``fercl report``'s library half: several results files side by side, optionally with the paper's table.

Rows are configurations (one per checkpoint hash; a row's cells may come from several files), columns
are (task, protocol, metric). Cells hold mean ± std over seeds. The paper's AffectNet rows are its
published fine-tuning numbers and sit in the ``paper`` protocol columns, marked as published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.results import METRICS, TASK_DISPLAY, Results, format_cell

PAPER_SOURCE = "paper (published)"
PAPER_NOTE = (
    "Rows marked 'paper (published)' are the numbers of Shu et al., BMVC 2022, Table (AffectNet 8 classes), "
    "from their fine-tuning protocol as published: whole backbone fine-tuned, epoch picked on the test set, "
    "test images augmented, one run each. They are not reproduced by fercl and are not comparable with "
    "frozen-probe (linear, knn) columns."
)
PAPER_AFFECTNET_ROWS: tuple[tuple[str, float, float, float, float, float, float], ...] = (
    # (pretraining, F1 %, Acc %, valence CCC, valence RMSE, arousal CCC, arousal RMSE)
    ("Supervised ImageNet", 56.7, 56.6, 0.563, 0.462, 0.480, 0.376),
    ("BYOL (Vox1)", 56.3, 56.4, 0.560, 0.460, 0.462, 0.386),
    ("MoCo-v2 (Vox1)", 56.8, 56.8, 0.570, 0.454, 0.486, 0.378),
    ("SimCLR (Vox1)", 57.5, 57.7, 0.594, 0.431, 0.451, 0.387),
    ("CycleFace (Vox1+2)", 48.8, 49.7, 0.534, 0.492, 0.436, 0.383),
    ("TimeAug", 57.8, 57.9, 0.583, 0.448, 0.500, 0.374),
    ("TimeAug+HardNeg", 58.1, 58.3, 0.594, 0.437, 0.500, 0.373),
    ("TimeAug+HardNeg+CutMix", 58.3, 58.4, 0.542, 0.463, 0.508, 0.368),
    ("TimeAug+FaceSwap+MaskFN", 58.6, 58.7, 0.568, 0.444, 0.502, 0.369),
    ("TimeAug+HardNeg+FaceSwap", 58.8, 58.9, 0.601, 0.429, 0.514, 0.367),
    ("TimeAug+HardNeg+MaskFN", 58.9, 58.9, 0.578, 0.448, 0.493, 0.370),
    ("All four", 59.3, 59.3, 0.595, 0.435, 0.502, 0.372),
)


@dataclass(frozen=True)
class Column:
    """One table column: a metric of a task under a protocol."""

    task: str
    protocol: str
    metric: str

    @property
    def label(self) -> str:
        """``"AffectNet F1 % [linear]"``."""
        heading = TASK_DISPLAY[self.task].heading if self.task in TASK_DISPLAY else self.task
        return f"{heading} {METRICS[self.metric].abbrev} [{self.protocol}]"

    @property
    def percent(self) -> bool:
        """Whether values are fractions shown as percent."""
        return METRICS[self.metric].percent


@dataclass
class Row:
    """One configuration: its name, where its numbers come from, and its cells (mean/std/n dicts)."""

    name: str
    source: str
    cells: dict[Column, dict[str, Any]] = field(default_factory=dict)
    origins: dict[Column, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """The side-by-side table."""

    columns: list[Column]
    rows: list[Row]
    notes: list[str]


def configuration_name(checkpoint: dict[str, Any]) -> str:
    """A short row name for a checkpoint: run folder or file name, ImageNet file, or random init."""
    kind, arch = checkpoint["kind"], checkpoint["arch"]
    if kind == "random":
        calibration = checkpoint.get("bn_calibration") or {}
        bn = ", BN calibrated" if calibration.get("applied") else ", raw BN" if not calibration else ""
        return f"random init ({arch}, seed {checkpoint['hash'].rsplit(':', 1)[-1]}{bn})"
    path = Path(checkpoint["path"])
    label = path.parent.name if path.name == "last.pt" else path.stem
    if kind in ("torchvision", "imagenet"):  # "imagenet": results files of fercl before the rename
        return f"torchvision weights ({arch}, {path.name})"
    return f"{label} ({arch}, {checkpoint['hash'].split(':')[-1][:8]})"


def compare(paths: list[Path], paper: bool = False) -> Comparison:
    """Rows = checkpoints, columns = (task, protocol, metric) found in the results files at ``paths``.

    Raises:
        FerclError: a file is unreadable, or two files hold the same cell for the same checkpoint.
    """
    rows: dict[str, Row] = {}
    columns: list[Column] = []
    notes: list[str] = []
    for path in paths:
        result = Results.load(path)
        checkpoint = result.checkpoint
        row = rows.setdefault(
            checkpoint["hash"],
            Row(configuration_name(checkpoint), f"fercl {result.raw.get('fercl_version', '?')}"),
        )
        task = result.task_key()
        for metric, value in result.metrics.items():
            column = Column(task, result.protocol, metric)
            if column in row.cells:
                raise FerclError(
                    f"{path}: {column.label} for {row.name} is also in {row.origins[column]}; pass one results "
                    "file per task and protocol for each checkpoint"
                )
            row.cells[column] = value
            row.origins[column] = str(path)
            if column not in columns:
                columns.append(column)
        if result.kind == "identity":
            notes.append("LFW id: lower identity accuracy / macro-F1 means less identity leakage (better).")
    if paper:
        for name, f1, acc, v_ccc, v_rmse, a_ccc, a_rmse in PAPER_AFFECTNET_ROWS:
            row = Row(f"paper: {name}", PAPER_SOURCE)
            values = {
                Column("affectnet", "paper", "macro_f1"): f1 / 100,
                Column("affectnet", "paper", "accuracy"): acc / 100,
                Column("affectnet-va", "paper", "valence_ccc"): v_ccc,
                Column("affectnet-va", "paper", "valence_rmse"): v_rmse,
                Column("affectnet-va", "paper", "arousal_ccc"): a_ccc,
                Column("affectnet-va", "paper", "arousal_rmse"): a_rmse,
            }
            for column, value in values.items():
                row.cells[column] = {"mean": value, "std": None, "n": 1}
                if column not in columns:
                    columns.append(column)
            rows[f"paper:{name}"] = row
        notes.append(PAPER_NOTE)
    order = {task: i for i, task in enumerate(TASK_DISPLAY)}
    columns.sort(key=lambda c: (order.get(c.task, len(order)), c.protocol, list(METRICS).index(c.metric)))
    return Comparison(columns=columns, rows=list(rows.values()), notes=list(dict.fromkeys(notes)))


def table_cells(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and text rows: configuration, source, then one cell per column."""
    header = ["configuration", "source", *(c.label for c in comparison.columns)]
    body = [
        [row.name, row.source, *(format_cell(row.cells.get(c), c.percent) for c in comparison.columns)]
        for row in comparison.rows
    ]
    return header, body


def to_markdown(comparison: Comparison) -> str:
    """The table as GitHub Markdown, notes below it."""
    header, body = table_cells(comparison)

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    lines = [line(header), "|" + "|".join("---" for _ in header) + "|", *(line(r) for r in body)]
    lines += ["", "Cells: mean ± sample std over seeds (one number: one run). [protocol] after each metric."]
    lines += [f"- {note}" for note in comparison.notes]
    return "\n".join(lines) + "\n"


def to_json(comparison: Comparison) -> dict[str, Any]:
    """The table as JSON: columns with their task/protocol/metric, rows with their cells by column label."""
    return {
        "columns": [
            {"label": c.label, "task": c.task, "protocol": c.protocol, "metric": c.metric}
            for c in comparison.columns
        ],
        "rows": [
            {
                "name": row.name,
                "source": row.source,
                "files": sorted(set(row.origins.values())),
                "cells": {c.label: row.cells[c] for c in comparison.columns if c in row.cells},
            }
            for row in comparison.rows
        ],
        "notes": comparison.notes,
    }
