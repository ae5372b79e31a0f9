"""The ablation's decision rules on hand-made results whose answer is known."""

import numpy as np
import pytest

from fercl_cli.demo.ablation.rules import cell_intervals, decide

CLASSES = 4
ROWS = 400


def _results(rng, expression_skill: float, identity_skill: float, seed_rows: int = 0) -> dict:
    """task → a results dictionary with one run whose predictions are right with the given probabilities."""

    def run(skill: float, classes: int, rows: np.ndarray) -> dict:
        targets = np.arange(len(rows)) % classes
        wrong = (targets + rng.integers(1, classes, len(rows))) % classes
        predictions = np.where(rng.random(len(rows)) < skill, targets, wrong)
        return {
            "test": {"rows": rows.tolist(), "targets": targets.tolist(), "predictions": predictions.tolist()}
        }

    return {
        "affectnet": {
            "data": {"class_names": [str(c) for c in range(CLASSES)]},
            "runs": [run(expression_skill, CLASSES, np.arange(ROWS))],
        },
        "lfw": {
            "data": {"class_names": ["a", "b"]},
            "runs": [run(identity_skill, 2, np.arange(ROWS) + seed_rows)],
        },
    }


def _configs(rng, simclr, timeaug_hardneg, all_four, seeds=3):
    return {
        "simclr": [_results(rng, *simclr) for _ in range(seeds)],
        "timeaug-hardneg": [_results(rng, *timeaug_hardneg) for _ in range(seeds)],
        "all-four": [_results(rng, *all_four) for _ in range(seeds)],
    }


def test_the_claim_holds_when_the_strategies_beat_simclr_with_less_identity():
    rng = np.random.default_rng(0)
    decision = decide(
        _configs(rng, (0.6, 0.9), (0.8, 0.7), (0.8, 0.7)), _results(rng, 0.3, 0.8), replicates=300
    )
    assert decision["supported"] is True and decision["verdict"].startswith("The paper's claim holds")
    assert all(rule["passed"] for rule in decision["rules"])
    control = decision["rules"][0]["difference"]
    assert control["low"] > 0.1 and control["seeds"] == 3


def test_a_failed_positive_control_makes_the_test_uninformative():
    rng = np.random.default_rng(1)
    decision = decide(
        _configs(rng, (0.35, 0.9), (0.8, 0.7), (0.8, 0.7)), _results(rng, 0.3, 0.8), replicates=300
    )
    assert decision["supported"] is None and decision["verdict"].startswith("Uninformative")
    assert "(a) failed" in decision["verdict"]


def test_the_claim_fails_and_the_verdict_names_the_rule_that_failed():
    rng = np.random.default_rng(2)
    decision = decide(
        _configs(rng, (0.6, 0.9), (0.61, 0.7), (0.8, 0.95)), _results(rng, 0.3, 0.95), replicates=300
    )
    assert decision["supported"] is False
    failed = {rule["key"] for rule in decision["rules"] if not rule["passed"]}
    assert failed == {"b", "c:timeaug-hardneg:expression", "c:all-four:identity"}
    assert (
        "(c:timeaug-hardneg:expression)" in decision["verdict"]
        and "Rule (b) failed too" in decision["verdict"]
    )


def test_cells_carry_intervals_and_missing_configurations_are_refused():
    rng = np.random.default_rng(3)
    configs = _configs(rng, (0.6, 0.9), (0.8, 0.7), (0.8, 0.7))
    cells = cell_intervals(configs["simclr"], ["affectnet/accuracy", "affectnet/macro_f1"], replicates=200)
    accuracy = cells["affectnet/accuracy"]
    assert accuracy["low"] < accuracy["estimate"] < accuracy["high"] and 0.5 < accuracy["estimate"] < 0.7
    with pytest.raises(ValueError, match="need runs of all-four"):
        decide({k: v for k, v in configs.items() if k != "all-four"}, _results(rng, 0.3, 0.8))


def _all_tasks(rng, expression_skill: float, identity_skill: float) -> dict:
    results = _results(rng, expression_skill, identity_skill)
    results["fer2013"] = results["affectnet"]
    targets = rng.uniform(-1, 1, ROWS)

    def regression() -> dict:
        predictions = expression_skill * targets + rng.normal(0, 0.3, ROWS)
        return {"rows": list(range(ROWS)), "targets": targets.tolist(), "predictions": predictions.tolist()}

    results["affectnet-va"] = {"runs": [{"test": {"valence": regression(), "arousal": regression()}}]}
    return results


def test_the_ablation_summary_prints_intervals_in_every_cell_and_the_computed_verdict():
    from fercl_cli.demo.ablation.configs import CONFIGS
    from fercl_cli.demo.ablation.summary import summarise
    from fercl_cli.demo.ablation.table import markdown
    from fercl_cli.demo.table import COLUMNS as METRICS

    rng = np.random.default_rng(5)
    skills = {c.key: (0.45 + 0.08 * i, 0.95 - 0.05 * i) for i, c in enumerate(CONFIGS)}
    raw = {key: [_all_tasks(rng, *skill) for _ in range(2)] for key, skill in skills.items()}
    per_seed = {
        key: [{f"{s.task}/{s.metric}": 0.5 for s in METRICS} for _ in runs] for key, runs in raw.items()
    }
    floor = _all_tasks(rng, 0.3, 0.8)
    summary = summarise(per_seed, {f"{s.task}/{s.metric}": 0.3 for s in METRICS}, None, raw, floor)
    assert set(summary.intervals) == {*skills, "random"}
    assert all(len(cells) == len(METRICS) for cells in summary.intervals.values())
    assert summary.decision["supported"] is True
    text = markdown(summary)
    assert "**Verdict:** The paper's claim holds at this scale" in text
    assert text.count("→ **passed**") == 6
    assert "[" in text.split("| random init")[1].split("\n")[0]  # the floor row carries intervals too


def _summarised(results: dict, value: float) -> dict:
    """``results`` with the summary means ``run_values`` reads (every metric = ``value``)."""
    metrics = ("accuracy", "macro_f1", "valence_ccc", "arousal_ccc")
    return {
        task: {**result, "summary": {"metrics": {m: {"mean": value} for m in metrics}}}
        for task, result in results.items()
    }


def test_reference_rows_sit_around_the_configurations_with_their_own_intervals():
    from fercl_cli.demo.ablation.configs import CONFIGS
    from fercl_cli.demo.ablation.summary import summarise
    from fercl_cli.demo.ablation.table import table
    from fercl_cli.demo.table import COLUMNS as METRICS

    rng = np.random.default_rng(6)
    raw = {c.key: [_all_tasks(rng, 0.6, 0.6)] for c in CONFIGS}
    per_seed = {key: [{f"{s.task}/{s.metric}": 0.5 for s in METRICS}] for key in raw}
    floor = _all_tasks(rng, 0.3, 0.8)
    supervised = _summarised(_all_tasks(rng, 0.9, 0.5), 0.9)
    references = {
        "pixels": _summarised(_all_tasks(rng, 0.2, 0.9), 0.2),
        "supervised": {task: supervised[task] for task in ("affectnet", "fer2013")},
    }
    summary = summarise(
        per_seed, {f"{s.task}/{s.metric}": 0.3 for s in METRICS}, None, raw, floor, references
    )
    assert summary.references["supervised"]["lfw/accuracy"] is None
    assert summary.references["supervised"]["affectnet/accuracy"] == 0.9
    assert set(summary.intervals["supervised"]) == {
        "affectnet/accuracy",
        "affectnet/macro_f1",
        "fer2013/accuracy",
    }
    assert len(summary.intervals["pixels"]) == len(METRICS)
    _, rows = table(summary)
    names = [row[0] for row in rows]
    assert names[0].startswith("random init") and names[1].startswith("raw pixels")
    assert names[-1].startswith("supervised") and len(rows) == len(CONFIGS) + 3
    lfw = [spec.task for spec in METRICS].index("lfw")
    assert rows[-1][1 + lfw] == "—" and rows[-1][1].startswith("90.0 [")
