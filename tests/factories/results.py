"""The parts of ``fercl evaluate`` results dicts that the demo's table and narrative read."""

from __future__ import annotations

from typing import Any

from fercl_cli.demo.runs import DEMO_RUN, RANDOM, TASKS


def fake_result(task: str, value: float, support: tuple[int, ...] = (3, 5, 2)) -> dict[str, Any]:
    """One task's results with every metric at ``value`` (classification: per-class ``support``)."""
    if task == "affectnet-va":
        metrics = {
            f"{n}_{m}": {"mean": value, "std": None, "n": 1}
            for n in ("valence", "arousal")
            for m in ("ccc", "rmse")
        }
        return {
            "protocol": "linear",
            "summary": {"metrics": metrics, "scored_rows": {"valence": 9, "arousal": 8}},
        }
    metrics = {m: {"mean": value, "std": None, "n": 1} for m in ("accuracy", "macro_f1")}
    per_class = [{"support": s} for s in support]
    return {
        "protocol": "nn1" if task == "lfw" else "linear",
        "summary": {"metrics": metrics, "per_class": per_class},
    }


def fake_results(demo: float, floor: float, lfw_demo: float, lfw_floor: float) -> dict[str, dict[str, Any]]:
    """Results keyed ``"<label>/<task>"`` of the demo checkpoint and the random floor, as the evaluate stage
    keeps them."""
    out = {}
    for task in TASKS:
        out[f"{DEMO_RUN}/{task}"] = fake_result(task, lfw_demo if task == "lfw" else demo)
        out[f"{RANDOM}/{task}"] = fake_result(task, lfw_floor if task == "lfw" else floor)
    return out
