"""The ablation's plain reading: per metric the paper reports, the ordering agreement with the paper and
the All four − SimCLR gap with a Welch test over seeds; the same gap for LFW identity accuracy; the random
floor; the pretext task; the seed noise; and an ordering verdict on the headline metric."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fercl_cli.demo.ablation.configs import BASELINE, CONFIGS, FULL, paper_values
from fercl_cli.evaluate.results import Measure

P_THRESHOLD = 0.05
HEADLINE = Measure("affectnet", "macro_f1").key  # the paper's headline metric, its rows' order
Cells = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""Configuration key → column key → {mean, std, n, values} over seeds."""


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


def _noise(p: float) -> str:
    if math.isnan(p):
        return "too few seeds (or no spread) to test"
    shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < P_THRESHOLD else f"p = {p:.2f}"
    return f"Welch {shown}: " + ("beyond seed noise" if p < P_THRESHOLD else "within seed noise")


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


def statements(
    cells: Cells, floor: Mapping[str, float | None], pretext: Mapping[str, Mapping[str, float]]
) -> list[str]:
    """The plain reading: per metric the paper reports, the ordering agreement (Spearman ρ, agreeing
    pairs) and the All four − SimCLR gap here and in the paper with a Welch test over seeds; the same gap
    for LFW identity accuracy (lower is better); the random floor; the seed noise; and a verdict on the
    headline metric (AffectNet macro-F1)."""
    paper = paper_values()
    keys = [c.key for c in CONFIGS]
    lines: list[str] = []
    contrasts: dict[str, _Contrast] = {}
    for column in paper[BASELINE]:
        measure = Measure.of(column)
        means = [cells[k][column]["mean"] for k in keys]
        if any(m is None for m in means):
            lines.append(f"{measure.label}: some runs gave no number; no comparison.")
            continue
        published = [paper[k][column] for k in keys]
        base, full = cells[BASELINE][column], cells[FULL][column]
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
            f"{measure.label}: Spearman ρ with the paper's order {rho_text}, {c.agree} of {c.pairs} pairs ordered as "
            f"in the paper; All four − SimCLR {measure.points(c.gap)} here vs {measure.points(c.paper_gap)} in the "
            f"paper ({_noise(c.p)})."
        )
    lfw = "lfw/accuracy"
    base, full = cells[BASELINE][lfw], cells[FULL][lfw]
    if base["mean"] is not None and full["mean"] is not None:
        gap = full["mean"] - base["mean"]
        direction = (
            "the direction the paper's claim predicts (less identity leakage)"
            if gap < 0
            else "against the direction the paper's claim predicts (no less identity leakage)"
        )
        lines.append(
            f"LFW identity accuracy (lower is better; the paper gives no figure): All four − SimCLR "
            f"{Measure.of(lfw).points(gap)}, i.e. {direction} ({_noise(welch_p(full['values'], base['values']))})."
        )
    floor_f1 = floor.get(HEADLINE)
    if floor_f1 is not None:
        beat = [c.name for c in CONFIGS if (m := cells[c.key][HEADLINE]["mean"]) is not None and m > floor_f1]
        lines.append(
            f"Random-init floor (AffectNet macro-F1 {100 * floor_f1:.1f} %): {len(beat)} of {len(CONFIGS)} "
            "configurations beat it" + (f" ({', '.join(beat)})." if beat else ".")
        )
    if len(pretext) == len(CONFIGS):
        stuck = [c.name for c in CONFIGS if pretext[c.key]["accuracy"] < 2 * pretext[c.key]["chance"]]
        found = ", ".join(
            f"{c.name} {100 * pretext[c.key]['accuracy']:.0f} % (chance {100 * pretext[c.key]['chance']:.0f} %)"
            for c in CONFIGS
        )
        lines.append(
            f"Pretext task, last epoch, share of views whose most similar view was their positive: {found}."
            + (f" Below twice chance, i.e. not learned in this budget: {', '.join(stuck)}." if stuck else "")
        )
    stds = [cells[k][HEADLINE]["std"] for k in keys if cells[k][HEADLINE]["std"] is not None]
    means = [cells[k][HEADLINE]["mean"] for k in keys if cells[k][HEADLINE]["mean"] is not None]
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
    f1 = Measure.of(HEADLINE)
    gap = f"All four − SimCLR is {f1.points(headline.gap)} (paper {f1.points(headline.paper_gap)})"
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
