"""The paper's ablation in miniature: its pretraining configurations, the same budget and several seeds
each, evaluated like the demo checkpoint, summarised as mean ± std, and compared with the paper's order.

Configurations (the paper's names): SimCLR (no TimeAug, no HardNeg), TimeAug, TimeAug+HardNeg,
TimeAug+HardNeg+FaceSwap, TimeAug+HardNeg+MaskFN (``top1-other-clip``) and all four. Runs live in
``DIR/<profile>/ablation/runs/<config>-s<seed>/``, their results in ``ablation/results/``; a rerun reuses
finished runs and results. References beside the configurations: the demo's ``random`` checkpoint (the
random-init floor, BatchNorm calibrated; one initialisation), the raw-pixel and landmark-geometry floors
(``pixels``, ``landmarks``) and a supervised ceiling (the same network trained from random init with the training labels: ``fercl evaluate
--protocol paper --checkpoint random``, on the tasks that have that protocol).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fercl_cli.demo.chain import (
    METRICS,
    RAN,
    RANDOM,
    RESUMED,
    REUSED,
    Event,
    Layout,
    MetricSpec,
    Stage,
    evaluate_cached,
    evaluation_requests,
    format_value,
    pretrain_config,
    run_pretraining,
    scored_rows,
    status_of,
)
from fercl_cli.demo.profiles import DemoProfile
from fercl_cli.errors import FerclError

SECTION = "ablation"
P_THRESHOLD = 0.05
PIXELS_FLOOR, LANDMARKS_FLOOR, SUPERVISED = "pixels", "landmarks", "supervised"
REFERENCE_NAMES = {
    PIXELS_FLOOR: ("raw pixels 16×16×3 (floor)", "pixels"),
    LANDMARKS_FLOOR: ("landmark geometry, dlib 68 points (floor)", "landmarks"),
    SUPERVISED: ("supervised, same network from random init (ceiling)", "superv."),
}


@dataclass(frozen=True)
class AblationConfig:
    """One pretraining configuration: folder key, the paper's row name, a short plot label, its options."""

    key: str
    name: str
    short: str
    paper_row: str
    strategies: dict[str, Any]


def _strategies(time_aug: bool, hard_neg: bool, face_swap: bool, mask_fn: str) -> dict[str, Any]:
    return {"time_aug": time_aug, "hard_neg": hard_neg, "face_swap": face_swap, "mask_fn": mask_fn}


MASK = "top1-other-clip"
CONFIGS: tuple[AblationConfig, ...] = (
    AblationConfig("simclr", "SimCLR", "SimCLR", "SimCLR (Vox1)", _strategies(False, False, False, "off")),
    AblationConfig("timeaug", "TimeAug", "TA", "TimeAug", _strategies(True, False, False, "off")),
    AblationConfig(
        "timeaug-hardneg",
        "TimeAug+HardNeg",
        "TA+HN",
        "TimeAug+HardNeg",
        _strategies(True, True, False, "off"),
    ),
    AblationConfig(
        "timeaug-hardneg-faceswap",
        "TimeAug+HardNeg+FaceSwap",
        "+FS",
        "TimeAug+HardNeg+FaceSwap",
        _strategies(True, True, True, "off"),
    ),
    AblationConfig(
        "timeaug-hardneg-maskfn",
        "TimeAug+HardNeg+MaskFN",
        "+MaskFN",
        "TimeAug+HardNeg+MaskFN",
        _strategies(True, True, False, MASK),
    ),
    AblationConfig("all-four", "All four", "All 4", "All four", _strategies(True, True, True, MASK)),
)
BASELINE, FULL = CONFIGS[0].key, CONFIGS[-1].key


def metric_key(spec: MetricSpec) -> str:
    """``"<task>/<metric>"``, the key of a table column."""
    return f"{spec.task}/{spec.metric}"


def paper_values() -> dict[str, dict[str, float]]:
    """The paper's published AffectNet numbers per configuration key, as fractions / CCCs keyed like the
    table's columns (``affectnet/macro_f1``, ``affectnet/accuracy``, ``affectnet-va/valence_ccc``,
    ``affectnet-va/arousal_ccc``)."""
    from fercl_cli.evaluate.compare import PAPER_AFFECTNET_ROWS

    rows = {row[0]: row[1:] for row in PAPER_AFFECTNET_ROWS}
    out = {}
    for config in CONFIGS:
        f1, acc, v_ccc, _, a_ccc, _ = rows[config.paper_row]
        out[config.key] = {
            "affectnet/macro_f1": f1 / 100,
            "affectnet/accuracy": acc / 100,
            "affectnet-va/valence_ccc": v_ccc,
            "affectnet-va/arousal_ccc": a_ccc,
        }
    return out


def run_values(results: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """One checkpoint's value of every table column from its results dicts keyed by task (None for a task
    it was not evaluated on)."""
    return {
        metric_key(spec): results[spec.task]["summary"]["metrics"][spec.metric]["mean"]
        if spec.task in results
        else None
        for spec in METRICS
    }


def reference_requests(layout: Layout, profile: DemoProfile, device: str) -> dict[str, dict[str, Any]]:
    """Reference → task → :class:`~fercl_cli.evaluate.request.EvaluateRequest`: the raw-pixel and
    landmark-geometry floors on every task, and the supervised ceiling (the random-init network fine-tuned with the training labels, the
    paper protocol) on the tasks that have that protocol."""
    from fercl_cli.evaluate.backbones import LANDMARKS, PIXELS
    from fercl_cli.evaluate.request import TASKS as EVALUATION_TASKS

    supervised = {
        task: replace(request, protocol="paper", lr=profile.supervised_lr, epochs=profile.supervised_epochs)
        for task, request in evaluation_requests(layout, profile, RANDOM, device).items()
        if "paper" in EVALUATION_TASKS[task].protocols
    }
    return {
        PIXELS_FLOOR: evaluation_requests(layout, profile, PIXELS, device),
        LANDMARKS_FLOOR: evaluation_requests(layout, profile, LANDMARKS, device),
        SUPERVISED: supervised,
    }


@dataclass
class AblationSummary:
    """The ablation's numbers.

    Attributes:
        cells: configuration key → column key → {mean, std, n, values} over seeds (fractions or CCCs).
        floor: column key → the random-init value (None when not computed).
        pretext: configuration key → {"accuracy": mean over seeds of the last epoch's contrastive
            accuracy, "chance": its chance level}; empty when the runs did not report it.
        statements: the plain reading (see :func:`statements`).
        settings: what was run (profile, budget, seeds, corpus), for the record.
        intervals: configuration key (and ``random`` for the floor) → column key → row-bootstrap interval
            (:class:`~fercl_cli.evaluate.intervals.Interval` dict); empty without the runs' results.
        decision: the decision rules and their computed verdict (:func:`fercl_cli.demo.rules.decide`);
            empty without the runs' results.
        references: reference key (:data:`REFERENCE_NAMES`) → column key → its value (None where the
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
    from fercl_cli.evaluate.results import mean_std_dict

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
            :func:`~fercl_cli.demo.chain.learning_curve`).
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
        config.key: {
            metric_key(spec): _cell([run.get(metric_key(spec)) for run in per_seed[config.key]])
            for spec in METRICS
        }
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
    from fercl_cli.demo.rules import cell_intervals, decide

    if results is not None and floor_results is not None:
        columns = [metric_key(spec) for spec in METRICS]
        summary.intervals = {key: cell_intervals(runs, columns) for key, runs in results.items()}
        summary.intervals[RANDOM] = cell_intervals([floor_results], columns)
        summary.decision = decide(results, floor_results)
    for key, per_task in (reference_results or {}).items():
        summary.references[key] = run_values(per_task)
        present = [metric_key(spec) for spec in METRICS if spec.task in per_task]
        summary.intervals[key] = cell_intervals([per_task], present)
    summary.statements = statements(summary)
    return summary


def _spearman(ours: Sequence[float], paper: Sequence[float]) -> float:
    from scipy.stats import spearmanr

    if len(set(ours)) < 2 or len(set(paper)) < 2:
        return math.nan
    return float(spearmanr(ours, paper).statistic)


def _agreeing_pairs(ours: Sequence[float], paper: Sequence[float]) -> tuple[int, int]:
    """Pairs of configurations the paper orders (no tie) and, of those, how many are ordered alike here."""
    agree = total = 0
    for i in range(len(ours)):
        for j in range(i + 1, len(ours)):
            if paper[i] == paper[j]:
                continue
            total += 1
            agree += (ours[i] - ours[j]) * (paper[i] - paper[j]) > 0
    return agree, total


def welch_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Welch t-test p-value of mean(a) ≠ mean(b); NaN with fewer than 2 values a side or no spread."""
    from scipy.stats import ttest_ind

    if len(a) < 2 or len(b) < 2 or (len(set(a)) < 2 and len(set(b)) < 2):
        return math.nan
    return float(ttest_ind(a, b, equal_var=False).pvalue)


def _points(value: float, spec: MetricSpec) -> str:
    """A difference in points (percent metrics) or CCC units, signed."""
    return f"{100 * value:+.1f} points" if spec.percent else f"{value:+.3f}"


def _noise(p: float) -> str:
    if math.isnan(p):
        return "too few seeds (or no spread) to test"
    shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < P_THRESHOLD else f"p = {p:.2f}"
    return f"Welch {shown}: " + ("beyond seed noise" if p < P_THRESHOLD else "within seed noise")


def _spec(key: str) -> MetricSpec:
    return next(spec for spec in METRICS if metric_key(spec) == key)


@dataclass(frozen=True)
class _Contrast:
    """How one column compares with the paper: rank agreement and the All four − SimCLR gap."""

    rho: float
    agree: int
    pairs: int
    gap: float
    paper_gap: float
    p: float

    @property
    def significant(self) -> bool:
        return not math.isnan(self.p) and self.p < P_THRESHOLD


HEADLINE = "affectnet/macro_f1"  # the paper's headline metric, the one its rows are sorted by


def statements(summary: AblationSummary) -> list[str]:
    """The plain reading: per metric the paper reports, the ordering agreement (Spearman ρ, agreeing
    pairs) and the All four − SimCLR gap here and in the paper with a Welch test over seeds; the same gap
    for LFW identity accuracy (lower is better); the random floor; the seed noise; and a verdict on the
    headline metric (AffectNet macro-F1)."""
    paper = paper_values()
    keys = [c.key for c in CONFIGS]
    lines: list[str] = []
    contrasts: dict[str, _Contrast] = {}
    for column in paper[BASELINE]:
        spec = _spec(column)
        means = [summary.cells[k][column]["mean"] for k in keys]
        if any(m is None for m in means):
            lines.append(f"{spec.label}: some runs gave no number; no comparison.")
            continue
        published = [paper[k][column] for k in keys]
        base, full = summary.cells[BASELINE][column], summary.cells[FULL][column]
        agree, pairs = _agreeing_pairs(means, published)
        c = contrasts[column] = _Contrast(
            rho=_spearman(means, published),
            agree=agree,
            pairs=pairs,
            gap=full["mean"] - base["mean"],
            paper_gap=published[-1] - published[0],
            p=welch_p(full["values"], base["values"]),
        )
        rho_text = "undefined (no spread)" if math.isnan(c.rho) else f"{c.rho:+.2f}"
        lines.append(
            f"{spec.label}: Spearman ρ with the paper's order {rho_text}, {c.agree} of {c.pairs} pairs ordered as "
            f"in the paper; All four − SimCLR {_points(c.gap, spec)} here vs {_points(c.paper_gap, spec)} in the "
            f"paper ({_noise(c.p)})."
        )
    lfw = "lfw/accuracy"
    base, full = summary.cells[BASELINE][lfw], summary.cells[FULL][lfw]
    if base["mean"] is not None and full["mean"] is not None:
        gap = full["mean"] - base["mean"]
        direction = (
            "the direction the paper's claim predicts (less identity leakage)"
            if gap < 0
            else "against the direction the paper's claim predicts (no less identity leakage)"
        )
        lines.append(
            f"LFW identity accuracy (lower is better; the paper gives no figure): All four − SimCLR "
            f"{_points(gap, _spec(lfw))}, i.e. {direction} ({_noise(welch_p(full['values'], base['values']))})."
        )
    floor = summary.floor.get(HEADLINE)
    if floor is not None:
        beat = [
            c.name for c in CONFIGS if (m := summary.cells[c.key][HEADLINE]["mean"]) is not None and m > floor
        ]
        lines.append(
            f"Random-init floor (AffectNet macro-F1 {100 * floor:.1f} %): {len(beat)} of {len(CONFIGS)} "
            "configurations beat it" + (f" ({', '.join(beat)})." if beat else ".")
        )
    if len(summary.pretext) == len(CONFIGS):
        stuck = [
            c.name
            for c in CONFIGS
            if summary.pretext[c.key]["accuracy"] < 2 * summary.pretext[c.key]["chance"]
        ]
        found = ", ".join(
            f"{c.name} {100 * summary.pretext[c.key]['accuracy']:.0f} % (chance {100 * summary.pretext[c.key]['chance']:.0f} %)"
            for c in CONFIGS
        )
        lines.append(
            f"Pretext task, last epoch, share of views whose most similar view was their positive: {found}."
            + (f" Below twice chance, i.e. not learned in this budget: {', '.join(stuck)}." if stuck else "")
        )
    stds = [summary.cells[k][HEADLINE]["std"] for k in keys if summary.cells[k][HEADLINE]["std"] is not None]
    means = [
        summary.cells[k][HEADLINE]["mean"] for k in keys if summary.cells[k][HEADLINE]["mean"] is not None
    ]
    if stds and len(means) == len(keys):
        lines.append(
            f"Noise: the typical seed-to-seed std of AffectNet macro-F1 is {100 * sum(stds) / len(stds):.1f} "
            f"points; the configuration means span {100 * (max(means) - min(means)):.1f} points."
        )
    lines.append(_verdict(contrasts))
    return lines


def _verdict(contrasts: Mapping[str, _Contrast]) -> str:
    headline = contrasts.get(HEADLINE)
    if headline is None or math.isnan(headline.rho):
        return "Ordering: none could be measured on AffectNet macro-F1."
    if headline.rho >= 0.8:
        order = "matches the paper's"
    elif headline.rho > 0.2:
        order = "partly matches the paper's"
    else:
        order = "does not match the paper's"
    gap = f"All four − SimCLR is {_points(headline.gap, _spec(HEADLINE))} (paper {_points(headline.paper_gap, _spec(HEADLINE))})"
    better = [k for k, c in contrasts.items() if c.significant and c.gap > 0]
    worse = [k for k, c in contrasts.items() if c.significant and c.gap < 0]
    if not better and not worse:
        noise = (
            "no All four − SimCLR difference on the paper's metrics is beyond seed noise, so on this synthetic "
            "data the differences are within noise"
        )
    else:
        noise = (
            f"All four beats SimCLR beyond seed noise on {len(better)} and trails it on {len(worse)} of the "
            f"paper's {len(contrasts)} metrics"
        )
    return (
        f"Ordering against the paper (AffectNet macro-F1, its headline metric): {order} (ρ {headline.rho:+.2f}); "
        f"{gap}; {noise}."
    )


SHORT_NAMES_NOTE = "AN = AffectNet, TA = TimeAug, HN = HardNeg, FS = FaceSwap, paper = its AffectNet F1 %"
_SHORT_COLUMNS = {
    "affectnet/accuracy": "AN acc",
    "affectnet/macro_f1": "AN F1",
    "affectnet-va/valence_ccc": "V-CCC",
    "affectnet-va/arousal_ccc": "A-CCC",
    "fer2013/accuracy": "FER acc",
    "lfw/accuracy": "LFW id",
}


def table(summary: AblationSummary, short: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and text rows: the random floor, then each configuration, cells ``mean ± std``, and the
    paper's F1 for reference; ``short`` abbreviates names and cells (see :data:`SHORT_NAMES_NOTE`; CCCs
    with 2 decimals) so the table fits an 80-column terminal."""
    arrow = {"higher": "↑", "lower": "↓"}
    names = {metric_key(spec): _SHORT_COLUMNS[metric_key(spec)] if short else spec.short for spec in METRICS}
    header = [
        "config" if short else "configuration",
        *(f"{names[metric_key(spec)]} {arrow[spec.better]}" for spec in METRICS),
        "paper" if short else "paper F1 %",
    ]
    seeds = max((cell["n"] for cells in summary.cells.values() for cell in cells.values()), default=0)

    def cell(value: dict[str, Any] | float | None, spec: MetricSpec, interval: dict | None = None) -> str:
        if not short:
            text = format_value(value, spec.percent)
            if interval is None:
                return text
            scale, digits = (100.0, 1) if spec.percent else (1.0, 3)
            return f"{text} [{interval['low'] * scale:.{digits}f}, {interval['high'] * scale:.{digits}f}]"
        if not isinstance(value, dict):
            value = {"mean": value, "std": None, "n": 1}
        if value["mean"] is None:
            return "—"
        scale, digits = (100.0, 1) if spec.percent else (1.0, 2)
        text = f"{value['mean'] * scale:.{digits}f}"
        if value["std"] is not None and value["n"] > 1:
            text += f"±{value['std'] * scale:.{digits}f}"
        return text

    rows = [
        [
            "random" if short else "random init (calibrated BN floor, 1 init)",
            *(
                cell(
                    summary.floor.get(metric_key(spec)),
                    spec,
                    summary.intervals.get(RANDOM, {}).get(metric_key(spec)),
                )
                for spec in METRICS
            ),
            "",
        ]
    ]
    references = [(key, *REFERENCE_NAMES[key]) for key in REFERENCE_NAMES if key in summary.references]

    def reference_row(key: str, name: str, short_name: str) -> list[str]:
        values = summary.references[key]
        return [
            short_name if short else name,
            *(
                cell(values.get(metric_key(spec)), spec, summary.intervals.get(key, {}).get(metric_key(spec)))
                for spec in METRICS
            ),
            "",
        ]

    rows += [reference_row(*ref) for ref in references if ref[0] != SUPERVISED]
    paper = paper_values()
    for config in CONFIGS:
        rows.append(
            [
                config.short if short else f"{config.name} ({seeds} seeds)",
                *(
                    cell(
                        summary.cells[config.key][metric_key(spec)],
                        spec,
                        summary.intervals.get(config.key, {}).get(metric_key(spec)),
                    )
                    for spec in METRICS
                ),
                f"{100 * paper[config.key]['affectnet/macro_f1']:.1f}",
            ]
        )
    rows += [reference_row(*ref) for ref in references if ref[0] == SUPERVISED]
    return header, rows


def markdown(summary: AblationSummary) -> str:
    """The ablation as a Markdown section: settings, table, reading."""
    header, rows = table(summary)

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    profile = summary.settings.get("profile", "standard")
    lines = [
        "### Miniature ablation (fercl demo --ablation)",
        "",
        f"Rewritten by `make ablation` (`fercl demo --profile {profile} --ablation --write docs/benchmarks.md`), "
        f"which also draws `DIR/{profile}/ablation/ablation.png`; see docs/demo.md for how to read it.",
        "",
        *(f"- {key}: {value}" for key, value in summary.settings.items()),
        "",
        line(header),
        "|" + "|".join("---" for _ in header) + "|",
        *(line(row) for row in rows),
        "",
        "Cells: mean ± sample std over pretraining seeds, then the 95 % row-bootstrap interval (test rows "
        "resampled, seeds averaged) where the runs' results are at hand; percent for accuracy/F1, CCC in "
        "[-1, 1]. The random floor's BatchNorm statistics are calibrated on the training split. ↑ higher "
        "is better, ↓ lower is better (LFW identity accuracy: less identity leakage). Frozen backbone "
        "features: linear probes (AffectNet, FER2013, valence/arousal ridge) and LFW 1-NN, on the synthetic "
        "sample sets. 'paper F1 %' is the published AffectNet fine-tuning figure, for the ordering only.",
        "",
        "Reading:",
        "",
        *(f"- {text}" for text in summary.statements),
        *_decision_lines(summary),
    ]
    return "\n".join(lines) + "\n"


def _decision_lines(summary: AblationSummary) -> list[str]:
    """The decision rules as Markdown: each rule, its measured difference and interval, passed or not,
    then the computed verdict."""
    if not summary.decision:
        return []
    lines = ["", "Decision rules (computed; paired row bootstrap, seeds averaged):", ""]
    for rule in summary.decision["rules"]:
        d = rule["difference"]
        lines.append(
            f"- ({rule['key']}) {rule['requirement']}: {100 * d['estimate']:+.1f} points "
            f"[{100 * d['low']:+.1f}, {100 * d['high']:+.1f}] → **{'passed' if rule['passed'] else 'failed'}**"
        )
    return [*lines, "", f"**Verdict:** {summary.decision['verdict']}"]


@dataclass
class _Section:
    """What :func:`fercl_cli.bench.record.write_section` needs: a name and the section's Markdown."""

    name: str
    text: str

    def markdown(self) -> str:
        return self.text


def write_section(path: str | Path, summary: AblationSummary) -> Path:
    """Replace (or append) the ``<!-- bench:ablation -->`` section of the Markdown file ``path``."""
    from fercl_cli.bench.record import write_section as write

    path = Path(path)
    if path.suffix.lower() != ".md":
        raise FerclError(f"--write {path}: the ablation section is Markdown; give a path ending in .md")
    if not path.parent.is_dir():
        raise FerclError(f"--write {path}: the folder {path.parent} does not exist")
    return write(path, _Section(SECTION, markdown(summary)))  # type: ignore[arg-type]


def run_ablation(
    layout: Layout,
    profile: DemoProfile,
    device: str,
    emit: Event,
    seeds: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Pretrain and evaluate every configuration × seed on the profile's store (already prepared by the
    demo chain), then summarise; writes ``ablation.json`` and ``ablation.png`` under ``layout.ablation``.

    Events: ``stage`` / ``progress`` / ``done`` as in :mod:`fercl_cli.demo.chain`, stage ``ablation``.
    Returns {"summary": :class:`AblationSummary` dict, "stage": the stage's
    :class:`~fercl_cli.demo.chain.StageResult` dict (outputs ``json``, ``plot``, ``markdown``; details
    ``runs``: trained / resumed / reused counts)}.
    """
    from fercl_cli.bench.record import machine_description
    from fercl_cli.demo.plot import write_ablation_png

    seeds = tuple(profile.ablation_seeds if seeds is None else seeds)
    if len(seeds) < 1 or len(set(seeds)) != len(seeds):
        raise FerclError(f"ablation seeds must be distinct, got {list(seeds)}")
    stage = Stage("ablation", "the paper's configurations in miniature (fercl demo --ablation)", emit)
    root = layout.ablation
    counts = {RAN: 0, RESUMED: 0, REUSED: 0}
    floor_results = {}
    for task, request in evaluation_requests(layout, profile, RANDOM, device).items():
        floor_results[task] = evaluate_cached(request, layout.results_file(RANDOM, task), _quiet)[1]
    reference_results: dict[str, dict[str, Any]] = {}
    for key, requests in reference_requests(layout, profile, device).items():
        for task, request in requests.items():
            stage.progress(f"reference {key}: {task}", 0, 1)
            out = layout.results_file(key, task)
            reference_results.setdefault(key, {})[task] = evaluate_cached(request, out, _quiet)[1]
    per_seed: dict[str, list[dict[str, float | None]]] = {}
    raw: dict[str, list[dict[str, Any]]] = {}
    train_seconds = 0.0
    total = len(CONFIGS) * len(seeds)
    for index, (config, seed) in enumerate((c, s) for c in CONFIGS for s in seeds):
        name = f"{config.key}-s{seed}"
        run = root / "runs" / name
        pretraining = pretrain_config(
            layout, profile, run, device, epochs=profile.ablation_epochs, seed=seed, **config.strategies
        )

        what = f"run {index + 1}/{total} {name}: steps"
        status, trained = run_pretraining(
            pretraining, lambda done, steps, what=what: stage.progress(what, done, steps)
        )
        counts[status] += 1
        train_seconds += trained["train_seconds"]
        results = {}
        for task, request in evaluation_requests(layout, profile, str(run), device).items():
            results[task] = evaluate_cached(request, root / "results" / f"{name}-{task}.json", _quiet)[1]
        raw.setdefault(config.key, []).append(results)
        per_seed.setdefault(config.key, []).append(
            {
                **run_values(results),
                "pretext/accuracy": trained["contrastive_accuracy"],
                "pretext/chance": trained["chance_accuracy"],
            }
        )
    sample = json.loads((layout.sample / "sample.json").read_text())
    vox = sample["counts"]["voxceleb"]
    settings = {
        "profile": profile.name,
        "machine": machine_description(),
        "corpus": f"{vox['identities']} people × {vox['clips']} clips of {profile.sample.seconds:g} s "
        f"(seed {profile.sample.seed}), evaluation sets of {profile.sample.eval_identities} other people",
        "pretraining": f"{profile.arch} at {profile.net_px} px, {profile.ablation_epochs} epochs, "
        f"{profile.batch_clips} clips per step, Adam lr {profile.lr:g}, warm-up {profile.warmup_epochs:g} epochs",
        "seeds": ",".join(str(s) for s in seeds),
        "test rows": ", ".join(
            f"{task} {scored_rows(floor_results[task], metric)}"
            for task, metric in (("affectnet", "accuracy"), ("fer2013", "accuracy"), ("lfw", "accuracy"))
        )
        + f" (valence/arousal {scored_rows(floor_results['affectnet-va'], 'valence_ccc')})",
        "device": device,
        "written": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    summary = summarise(per_seed, run_values(floor_results), settings, raw, floor_results, reference_results)
    seconds = time.perf_counter() - stage.began
    summary.settings["pretraining time"] = f"{train_seconds / 60:.1f} min (all runs' steps)"
    summary.settings["this call"] = (
        f"{seconds / 60:.1f} min wall ({counts[RAN]} runs trained, {counts[RESUMED]} resumed, "
        f"{counts[REUSED]} reused)"
    )
    files = {"json": root / "ablation.json", "plot": root / "ablation.png", "markdown": root / "ablation.md"}
    root.mkdir(parents=True, exist_ok=True)
    files["json"].write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    files["markdown"].write_text(markdown(summary))
    write_ablation_png(files["plot"], summary)
    status = status_of(counts[RAN] + counts[RESUMED] > 0, counts[REUSED] + counts[RESUMED] > 0)
    result = stage.end(
        status,
        f"{len(CONFIGS)} configurations × {len(seeds)} seeds: {counts['ran']} trained now, "
        f"{counts['resumed']} resumed, {counts['reused']} reused",
        files,
        {"runs": counts},
    )
    return {"summary": summary.to_dict(), "stage": result.to_dict()}


def _quiet(stage: str, done: int, total: int) -> None:
    """Evaluation progress is not shown inside the ablation (its bar follows the runs)."""
