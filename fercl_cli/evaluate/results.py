"""The owner of ``fercl evaluate``'s results files: the JSON-ready summaries it writes (metrics per run, mean ±
standard deviation over seeds), the typed reader :class:`Results`, and the one registry of metrics
(:data:`METRICS`, :data:`TASK_DISPLAY`, :class:`Measure`: label, direction, format) that ``fercl report``, the
demo, the ablation and its plot all read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.intervals import SeedRun
from fercl_cli.evaluate.metrics import ClassificationMetrics, RegressionMetrics, mean_std

RESULTS_FORMAT = "fercl-evaluate-results"
RESULTS_VERSION = 1


def _number(value: float) -> float | None:
    """A JSON-safe float: None for NaN or infinity."""
    return float(value) if math.isfinite(value) else None


def mean_std_dict(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "std", "n"}`` of ``values``; ``std`` is None with one run, ``mean`` None if any is NaN."""
    values = [float(v) for v in values]
    if any(not math.isfinite(v) for v in values):
        return {"mean": None, "std": None, "n": len(values)}
    summary = mean_std(values)
    return {"mean": summary.mean, "std": _number(summary.std), "n": summary.n}


def classification_dict(metrics: ClassificationMetrics) -> dict[str, Any]:
    """One run's classification scores (fractions in [0, 1]) with per-class arrays and the confusion matrix."""
    return {
        "accuracy": metrics.accuracy,
        "macro_f1": metrics.macro_f1,
        "labels": metrics.labels.tolist(),
        "precision": metrics.precision.tolist(),
        "recall": metrics.recall.tolist(),
        "f1": metrics.f1.tolist(),
        "support": metrics.support.tolist(),
        "confusion": metrics.confusion.tolist(),
    }


def regression_dict(metrics: RegressionMetrics) -> dict[str, Any]:
    """One target's CCC, RMSE and number of scored rows."""
    return {"ccc": _number(metrics.ccc), "rmse": _number(metrics.rmse), "n": metrics.n}


def classification_summary(
    runs: Sequence[ClassificationMetrics], class_names: Sequence[str]
) -> dict[str, Any]:
    """Mean ± std over runs of accuracy and macro-F1, per-class means, and the confusion matrix summed over
    runs (rows = true class, columns = predicted, in ``labels`` order)."""
    labels = runs[0].labels
    if any(not np.array_equal(run.labels, labels) for run in runs):
        raise ValueError("runs scored different class lists")
    per_class = [
        {
            "code": int(code),
            "name": class_names[int(code)],
            "precision": mean_std_dict([run.precision[i] for run in runs]),
            "recall": mean_std_dict([run.recall[i] for run in runs]),
            "f1": mean_std_dict([run.f1[i] for run in runs]),
            "support": int(np.round(np.mean([run.support[i] for run in runs]))),
        }
        for i, code in enumerate(labels)
    ]
    return {
        "metrics": {
            "accuracy": mean_std_dict([run.accuracy for run in runs]),
            "macro_f1": mean_std_dict([run.macro_f1 for run in runs]),
        },
        "per_class": per_class,
        "confusion": {
            "labels": labels.tolist(),
            "names": [class_names[int(code)] for code in labels],
            "matrix": np.sum([run.confusion for run in runs], axis=0).tolist(),
            "runs_summed": len(runs),
        },
    }


def regression_summary(runs: Sequence[Mapping[str, RegressionMetrics]]) -> dict[str, Any]:
    """Per target: mean ± std over runs of CCC and RMSE, and the rows scored."""
    names = list(runs[0])
    return {
        "metrics": {
            f"{name}_{metric}": mean_std_dict([getattr(run[name], metric) for run in runs])
            for name in names
            for metric in ("ccc", "rmse")
        },
        "scored_rows": {name: runs[0][name].n for name in names},
    }


def seed_runs(result: Mapping[str, Any], target: str | None = None) -> list[SeedRun]:
    """The test rows of every run of a results dictionary as :class:`~fercl_cli.evaluate.intervals.SeedRun`
    (``target``: ``valence`` or ``arousal`` for a regression result, else None).

    Raises:
        ValueError: a results file written before fercl stored test rows, or a wrong ``target``.
    """
    runs = []
    for run in result["runs"]:
        test = run.get("test")
        if test is None:
            raise ValueError("these results hold no test rows (written by an older fercl); evaluate again")
        if target is not None:
            if target not in test:
                raise ValueError(
                    f"no regression target {target!r} in these results; choose one of {list(test)}"
                )
            test = test[target]
        kind = np.float64 if target is not None else np.int64
        runs.append(
            SeedRun(
                np.asarray(test["rows"], dtype=np.int64),
                np.asarray(test["targets"], dtype=kind),
                np.asarray(test["predictions"], dtype=kind),
            )
        )
    return runs


Direction = Literal["higher", "lower"]


def format_cell(
    value: Mapping[str, Any] | float | None,
    percent: bool,
    interval: Mapping[str, Any] | None = None,
    compact: bool = False,
) -> str:
    """A {mean, std, n} cell or a plain number as ``fercl report`` prints it: ``"58.3 ± 0.4"`` (percent, 1
    decimal) or ``"0.594 ± 0.010"`` (3 decimals), ``"—"`` when empty, `` [low, high]`` appended for an
    ``interval`` (an :class:`~fercl_cli.evaluate.intervals.Interval` dict). ``compact``: ``"58.3±0.4"``,
    ``"0.59±0.01"``, for an 80-column table."""
    if value is not None and not isinstance(value, Mapping):
        value = {"mean": value, "std": None, "n": 1}
    if value is None or value.get("mean") is None:
        return "—"
    scale, digits = (100.0, 1) if percent else (1.0, 2 if compact else 3)
    plus_minus = "±" if compact else " ± "
    text = f"{value['mean'] * scale:.{digits}f}"
    std = value.get("std")
    if std is not None and math.isfinite(std) and value.get("n", 1) > 1:
        text += f"{plus_minus}{std * scale:.{digits}f}"
    if interval is not None:
        text += f" [{interval['low'] * scale:.{digits}f}, {interval['high'] * scale:.{digits}f}]"
    return text


@dataclass(frozen=True)
class Metric:
    """How one key of a results file's ``summary.metrics`` reads.

    Attributes:
        key: the key (``macro_f1``, ``valence_ccc``, ...).
        name: in a sentence (``"macro-F1 %"``); abbrev: in ``fercl report``'s headers (``"F1 %"``);
            short: after a task name (``"F1"``); brief: alone in an 80-column table (``"F1"``, ``"V-CCC"``).
        percent: values are fractions in [0, 1] shown as percent (else CCC in [-1, 1] or RMSE).
        direction: which way is better on an expression task (identity tasks invert it, see :class:`Measure`).
    """

    key: str
    name: str
    abbrev: str
    short: str
    brief: str
    percent: bool
    direction: Direction


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("macro_f1", "macro-F1 %", "F1 %", "F1", "F1", True, "higher"),
        Metric("accuracy", "accuracy %", "Acc %", "acc", "acc", True, "higher"),
        Metric("valence_ccc", "valence CCC", "V-CCC", "valence CCC", "V-CCC", False, "higher"),
        Metric("valence_rmse", "valence RMSE", "V-RMSE", "valence RMSE", "V-RMSE", False, "lower"),
        Metric("arousal_ccc", "arousal CCC", "A-CCC", "arousal CCC", "A-CCC", False, "higher"),
        Metric("arousal_rmse", "arousal RMSE", "A-RMSE", "arousal RMSE", "A-RMSE", False, "lower"),
    )
}
"""Every metric a results file can hold, in ``fercl report``'s column order."""


@dataclass(frozen=True)
class TaskDisplay:
    """How a task reads: ``heading`` in ``fercl report``, ``name`` in sentences, ``abbrev`` in an 80-column
    table (empty where the metric says it, e.g. valence), and whether it measures ``identity`` (lower is
    better) rather than expression."""

    heading: str
    name: str
    abbrev: str
    identity: bool = False


TASK_DISPLAY: dict[str, TaskDisplay] = {
    "affectnet": TaskDisplay("AffectNet", "AffectNet", "AN"),
    "affectnet-7": TaskDisplay("AffectNet-7", "AffectNet-7", "AN7"),
    "affectnet-va": TaskDisplay("AffectNet VA", "AffectNet", ""),
    "affectnet-npy": TaskDisplay("AffectNet npy", "AffectNet npy", "ANn"),
    "affectnet-7-npy": TaskDisplay("AffectNet-7 npy", "AffectNet-7 npy", "AN7n"),
    "affectnet-va-npy": TaskDisplay("AffectNet VA npy", "AffectNet npy", "n"),
    "fer2013": TaskDisplay("FER2013", "FER2013", "FER"),
    "fer2013-private": TaskDisplay("FER2013 private", "FER2013 private", "FERp"),
    "ferplus": TaskDisplay("FER+", "FER+", "FER+"),
    "ferplus-private": TaskDisplay("FER+ private", "FER+ private", "FER+p"),
    "rafdb": TaskDisplay("RAF-DB", "RAF-DB", "RAF"),
    "lfw": TaskDisplay("LFW id↓", "LFW", "LFW", identity=True),
}
"""Every task key a results file maps to (:meth:`Results.task_key`), in ``fercl report``'s column order."""


@dataclass(frozen=True)
class Measure:
    """One metric of one task, e.g. ``Measure("lfw", "accuracy")``: its key, labels, direction and format."""

    task: str
    metric: str

    def __post_init__(self) -> None:
        if self.task not in TASK_DISPLAY or self.metric not in METRICS:
            raise ValueError(
                f"unknown measure {self.key!r}: tasks {list(TASK_DISPLAY)}, metrics {list(METRICS)}"
            )

    @property
    def key(self) -> str:
        """``"<task>/<metric>"``, e.g. ``"affectnet/macro_f1"``."""
        return f"{self.task}/{self.metric}"

    @classmethod
    def of(cls, key: str) -> Measure:
        """The measure of a ``"<task>/<metric>"`` key."""
        task, _, metric = key.partition("/")
        return cls(task, metric)

    @property
    def info(self) -> Metric:
        return METRICS[self.metric]

    @property
    def percent(self) -> bool:
        return self.info.percent

    @property
    def direction(self) -> Direction:
        """``lower`` for an identity task (less identity leakage is better), else the metric's own."""
        return "lower" if TASK_DISPLAY[self.task].identity else self.info.direction

    @property
    def label(self) -> str:
        """In a sentence: ``"AffectNet expression macro-F1 %"``, ``"LFW identity accuracy %"``."""
        task = TASK_DISPLAY[self.task]
        reads = "identity" if task.identity else "expression" if self.info.percent else ""
        return " ".join(part for part in (task.name, reads, self.info.name) if part)

    @property
    def short(self) -> str:
        """After a value in a headline: ``"AffectNet F1"``, ``"LFW identity acc"``."""
        task = TASK_DISPLAY[self.task]
        return " ".join(
            part for part in (task.name, "identity" if task.identity else "", self.info.short) if part
        )

    @property
    def brief(self) -> str:
        """In an 80-column table: ``"AN F1"``, ``"V-CCC"``, ``"LFW id"``."""
        task = TASK_DISPLAY[self.task]
        return " ".join(part for part in (task.abbrev, "id" if task.identity else self.info.brief) if part)

    @property
    def arrow(self) -> str:
        return "↑" if self.direction == "higher" else "↓"

    def format(
        self,
        value: Mapping[str, Any] | float | None,
        interval: Mapping[str, Any] | None = None,
        compact: bool = False,
    ) -> str:
        """A cell of this measure (see :func:`format_cell`)."""
        return format_cell(value, self.percent, interval, compact)

    def points(self, difference: float) -> str:
        """A signed difference: points for a percent metric (``"+1.2 points"``), CCC units otherwise."""
        return f"{100 * difference:+.1f} points" if self.percent else f"{difference:+.3f}"

    def is_better(self, value: float, than: float) -> bool:
        """Whether ``value`` beats ``than`` in this measure's direction."""
        return value < than if self.direction == "lower" else value > than


@dataclass(frozen=True)
class Results:
    """One ``fercl evaluate`` results file, read through named accessors (the file's JSON is ``raw``)."""

    raw: Mapping[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> Results:
        """A results file written by ``fercl evaluate --out``.

        Raises:
            FerclError: missing, unreadable, or not a results file, naming ``path``.
        """
        path = Path(path)
        try:
            payload = json.loads(path.read_text())
        except FileNotFoundError:
            raise FerclError(
                f"{path}: results file not found; pass files written by fercl evaluate --out"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FerclError(f"{path}: not a readable JSON results file ({exc})") from None
        if not isinstance(payload, dict) or payload.get("format") != RESULTS_FORMAT:
            raise FerclError(
                f"{path}: not a fercl evaluate results file (format {RESULTS_FORMAT!r} expected)"
            )
        return cls(payload)

    @property
    def task(self) -> str:
        return str(self.raw["task"])

    @property
    def protocol(self) -> str:
        return str(self.raw["protocol"])

    @property
    def kind(self) -> str | None:
        """``classification``, ``regression`` or ``identity``."""
        return self.raw.get("kind")

    @property
    def checkpoint(self) -> Mapping[str, Any]:
        """The backbone's record (``hash``, ``kind``, ``arch``, ``path``, ...)."""
        return self.raw["checkpoint"]

    @property
    def request(self) -> Mapping[str, Any]:
        """The request as recorded (:meth:`~fercl_cli.evaluate.request.EvaluateRequest.to_json`)."""
        return self.raw.get("request", {})

    @property
    def metrics(self) -> Mapping[str, Mapping[str, Any]]:
        """Metric key → {mean, std, n} over seeds."""
        return self.raw["summary"]["metrics"]

    @property
    def title(self) -> str:
        """``"<task title> · protocol <protocol>"``, the heading of its tables."""
        return f"{self.raw['task_title']} · protocol {self.protocol}"

    @property
    def per_class(self) -> list[Mapping[str, Any]]:
        """Classification: per class ``code``, ``name``, {mean, std, n} of ``precision``/``recall``/``f1``,
        ``support`` (test rows)."""
        return self.raw["summary"]["per_class"]

    @property
    def confusion(self) -> Mapping[str, Any]:
        """Classification: ``labels``, ``names``, ``matrix`` (rows true, columns predicted, summed over
        ``runs_summed`` seeds)."""
        return self.raw["summary"]["confusion"]

    def mean(self, metric: str) -> float | None:
        """The mean over seeds of ``metric`` (None when a run gave no number)."""
        return self.metrics[metric]["mean"]

    @property
    def has_test_rows(self) -> bool:
        """Whether every run kept its test rows (needed for intervals; older files did not)."""
        return all("test" in run for run in self.raw["runs"])

    def task_key(self) -> str:
        """The task as a column group (a key of :data:`TASK_DISPLAY`): AffectNet's 7-class variant and its
        .npy release, FER2013's private test split and its FER+ labels are tasks of their own, since their
        test sets or classes differ."""
        task, options = self.task, self.raw.get("data", {}).get("options", {})
        if task == "affectnet" and self.request.get("classes") == 7:
            task = "affectnet-7"
        if task.startswith("affectnet") and options.get("release") == "npy":
            task += "-npy"
        if task == "fer2013":
            task = "ferplus" if options.get("labels") == "ferplus" else task
            task += "-private" if options.get("split") == "private" else ""
        return task

    def scored_rows(self, metric: str) -> int:
        """How many test rows scored ``metric`` (per-class supports, or the regression target's scored rows)."""
        summary = self.raw["summary"]
        if metric.endswith(("_ccc", "_rmse")):
            return int(summary["scored_rows"][metric.rsplit("_", 1)[0]])
        return int(sum(c["support"] for c in summary["per_class"]))

    def chance(self, metric: str) -> float | None:
        """Accuracy of always guessing the most frequent test class (classification tasks), 0 for a CCC (no
        agreement), None otherwise."""
        if metric.endswith("_ccc"):
            return 0.0
        if metric != "accuracy":
            return None
        support = [c["support"] for c in self.raw["summary"]["per_class"]]
        return max(support) / sum(support) if sum(support) else None

    @property
    def n_classes(self) -> int:
        return len(self.raw["data"]["class_names"])

    def seed_runs(self, target: str | None = None) -> list[SeedRun]:
        """The test rows of every run (``target``: ``valence`` or ``arousal`` for a regression result).

        Raises:
            ValueError: a results file written before fercl stored test rows, or a wrong ``target``.
        """
        return seed_runs(self.raw, target)
