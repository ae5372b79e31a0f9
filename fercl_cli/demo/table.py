"""The demo's results table: which measures it shows (:data:`COLUMNS`, also the ablation's columns), the
demo checkpoint beside the random-init floor and chance, and the stage headline drawn from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fercl_cli.demo.runs import DEMO_RUN, RANDOM
from fercl_cli.evaluate.results import Measure, Results

COLUMNS: tuple[Measure, ...] = (
    Measure("affectnet", "accuracy"),
    Measure("affectnet", "macro_f1"),
    Measure("affectnet-va", "valence_ccc"),
    Measure("affectnet-va", "arousal_ccc"),
    Measure("fer2013", "accuracy"),
    Measure("lfw", "accuracy"),
)
"""The table's measures, in order; labels, direction and format come from the results registry."""
HEADLINE: frozenset[str] = frozenset(m.key for m in COLUMNS if m.key != "affectnet/macro_f1")
"""The measures named in the evaluate stage's one-line headline."""


def metric_rows(results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The final table's rows from results dicts keyed ``"<label>/<task>"`` (labels ``demo`` and
    ``random``): the measure's names, the demo checkpoint's and the random floor's {mean, std, n}, chance
    level, test rows, which way is better."""
    rows = []
    for measure in COLUMNS:
        demo = Results(results[f"{DEMO_RUN}/{measure.task}"])
        floor = Results(results[f"{RANDOM}/{measure.task}"])
        rows.append(
            {
                "task": measure.task,
                "metric": measure.metric,
                "label": measure.label,
                "short": measure.short,
                "percent": measure.percent,
                "better": measure.direction,
                "headline": measure.key in HEADLINE,
                "protocol": demo.protocol,
                "demo": demo.metrics[measure.metric],
                "random": floor.metrics[measure.metric],
                "chance": demo.chance(measure.metric),
                "test_rows": demo.scored_rows(measure.metric),
            }
        )
    return rows


def headline_text(results: Mapping[str, Mapping[str, Any]]) -> str:
    """``"AffectNet acc 31.2 %; AffectNet valence CCC 0.120; ..."`` of the demo checkpoint."""
    return "; ".join(
        f"{row['short']} {Measure(row['task'], row['metric']).format(row['demo'])}{' %' if row['percent'] else ''}"
        for row in metric_rows(results)
        if row["headline"]
    )


def is_better(row: Mapping[str, Any]) -> bool | None:
    """Whether the demo checkpoint beats the random floor on a :func:`metric_rows` row (None: no number)."""
    demo, floor = row["demo"]["mean"], row["random"]["mean"]
    if demo is None or floor is None:
        return None
    return Measure(row["task"], row["metric"]).is_better(demo, floor)
