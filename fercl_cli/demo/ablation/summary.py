"""The ablation's numbers: per configuration and table column, mean ± std over pretraining seeds, the
row-bootstrap intervals and decision rules where the runs' results are at hand, and the references.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fercl_cli.demo.ablation.configs import CONFIGS
from fercl_cli.demo.ablation.reading import statements
from fercl_cli.demo.ablation.rules import cell_intervals, decide
from fercl_cli.demo.runs import RANDOM
from fercl_cli.demo.table import COLUMNS
from fercl_cli.evaluate.results import Results, mean_std_dict


def run_values(results: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """One checkpoint's value of every table column from its results dicts keyed by task (None for a task
    it was not evaluated on)."""
    return {m.key: Results(results[m.task]).mean(m.metric) if m.task in results else None for m in COLUMNS}


@dataclass
class AblationSummary:
    """The ablation's numbers.

    Attributes:
        cells: configuration key → column key → {mean, std, n, values} over seeds (fractions or CCCs).
        floor: column key → the random-init value (None when not computed).
        pretext: configuration key → {"accuracy": mean over seeds of the last epoch's contrastive
            accuracy, "chance": its chance level}; empty when the runs did not report it.
        statements: the plain reading (:func:`~fercl_cli.demo.ablation.reading.statements`).
        settings: what was run (profile, budget, seeds, corpus), for the record.
        intervals: configuration key (and ``random`` for the floor) → column key → row-bootstrap interval
            (:class:`~fercl_cli.evaluate.intervals.Interval` dict); empty without the runs' results.
        decision: the decision rules and their computed verdict (:func:`fercl_cli.demo.ablation.rules.decide`);
            empty without the runs' results.
        references: reference key (:data:`~fercl_cli.demo.ablation.configs.REFERENCE_NAMES`) → column key → its value (None where the
            reference does not apply).
    """

    cells: dict[str, dict[str, dict[str, Any]]]
    floor: dict[str, float | None]
    pretext: dict[str, dict[str, float]] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    decision: dict[str, Any] = field(default_factory=dict)
    references: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return asdict(self)


def _cell(values: Sequence[float | None]) -> dict[str, Any]:
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if len(finite) != len(values) or not finite:
        return {"mean": None, "std": None, "n": len(values), "values": list(values)}
    return {**mean_std_dict(finite), "values": finite}


def summarise(
    per_seed: Mapping[str, Sequence[Mapping[str, float | None]]],
    floor: Mapping[str, float | None],
    settings: Mapping[str, Any] | None = None,
    results: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    floor_results: Mapping[str, Any] | None = None,
    reference_results: Mapping[str, Mapping[str, Any]] | None = None,
) -> AblationSummary:
    """Mean ± std over seeds of every column, per configuration, and the reading of them.

    Args:
        per_seed: configuration key → one :func:`run_values` dict per pretraining seed, optionally with
            the pretraining's ``pretext/accuracy`` and ``pretext/chance`` (see
            :func:`~fercl_cli.demo.runs.learning_curve`).
        floor: the random-init checkpoint's :func:`run_values`.
        settings: recorded as is.
        results, floor_results: the evaluation results dictionaries behind ``per_seed`` (configuration key
            → per seed, task → results) and behind ``floor`` (task → results); with them every cell gets
            its row-bootstrap interval and the decision rules are computed.
        reference_results: reference key → task → results (the tasks it applies to), shown as extra rows
            with their intervals.

    Raises:
        ValueError: a configuration of :data:`CONFIGS` is missing or has no runs.
    """
    missing = [c.key for c in CONFIGS if not per_seed.get(c.key)]
    if missing:
        raise ValueError(f"no runs for configuration(s): {', '.join(missing)}")
    cells = {
        config.key: {m.key: _cell([run.get(m.key) for run in per_seed[config.key]]) for m in COLUMNS}
        for config in CONFIGS
    }
    pretext = {
        config.key: {
            "accuracy": float(np.mean([run["pretext/accuracy"] for run in per_seed[config.key]])),
            "chance": float(per_seed[config.key][0]["pretext/chance"]),
        }
        for config in CONFIGS
        if all(run.get("pretext/accuracy") is not None for run in per_seed[config.key])
    }
    summary = AblationSummary(cells=cells, floor=dict(floor), pretext=pretext, settings=dict(settings or {}))
    if results is not None and floor_results is not None:
        columns = [m.key for m in COLUMNS]
        summary.intervals = {key: cell_intervals(runs, columns) for key, runs in results.items()}
        summary.intervals[RANDOM] = cell_intervals([floor_results], columns)
        summary.decision = decide(results, floor_results)
    for key, per_task in (reference_results or {}).items():
        summary.references[key] = run_values(per_task)
        present = [m.key for m in COLUMNS if m.task in per_task]
        summary.intervals[key] = cell_intervals([per_task], present)
    summary.statements = statements(summary.cells, summary.floor, summary.pretext)
    return summary
