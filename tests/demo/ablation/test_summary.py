import math

import pytest

from fercl_cli.demo.ablation.configs import BASELINE, CONFIGS, FULL, paper_values
from fercl_cli.demo.ablation.reading import welch_p
from fercl_cli.demo.ablation.summary import summarise
from tests.factories.ablation import FLOOR, PAPER_ORDER, fake_runs


def test_paper_values_are_the_published_rows_in_config_order():
    paper = paper_values()
    assert paper["simclr"]["affectnet/macro_f1"] == pytest.approx(0.575)
    assert paper["all-four"]["affectnet/accuracy"] == pytest.approx(0.593)
    assert paper["timeaug-hardneg-maskfn"]["affectnet-va/arousal_ccc"] == pytest.approx(0.493)
    f1 = [paper[c.key]["affectnet/macro_f1"] for c in CONFIGS]
    assert f1 == sorted(f1)  # the configurations are listed in the paper's F1 order


def test_cells_are_mean_and_sample_std_over_seeds():
    summary = summarise(fake_runs(PAPER_ORDER, 0.01), FLOOR)
    cell = summary.cells[FULL]["affectnet/accuracy"]
    assert cell["n"] == 3 and cell["mean"] == pytest.approx(0.65)
    assert cell["std"] == pytest.approx(0.01)  # values -0.01, 0, +0.01: sample std 0.01
    assert cell["values"] == pytest.approx([0.64, 0.65, 0.66])


def test_clear_paper_ordering_is_reported_as_a_match_beyond_noise():
    lfw = {c.key: 0.9 - 0.05 * i for i, c in enumerate(CONFIGS)}
    summary = summarise(fake_runs(PAPER_ORDER, 0.005, lfw=lfw), FLOOR)
    text = "\n".join(summary.statements)
    f1_line = next(line for line in summary.statements if line.startswith("AffectNet expression macro-F1"))
    assert "Spearman ρ with the paper's order +1.00, 15 of 15 pairs" in f1_line
    assert "All four − SimCLR +25.0 points here vs +1.8 points in the paper" in f1_line
    assert "beyond seed noise" in f1_line
    assert "-25.0 points, i.e. the direction the paper's claim predicts (less identity leakage)" in text
    assert "6 of 6 configurations beat it" in text
    assert summary.statements[-1] == (
        "Ordering against the paper (AffectNet macro-F1, its headline metric): matches the paper's (ρ +1.00); "
        "All four − SimCLR is +25.0 points (paper +1.8 points); All four beats SimCLR beyond seed noise on 4 "
        "and trails it on 0 of the paper's 4 metrics."
    )


def test_reversed_order_within_noise_says_so():
    reversed_order = {c.key: 0.60 - 0.002 * i for i, c in enumerate(CONFIGS)}
    summary = summarise(fake_runs(reversed_order, 0.05), FLOOR)
    f1_line = next(line for line in summary.statements if line.startswith("AffectNet expression macro-F1"))
    assert "Spearman ρ with the paper's order -1.00, 0 of 15 pairs" in f1_line
    assert "within seed noise" in f1_line
    verdict = summary.statements[-1]
    assert "does not match the paper's (ρ -1.00); All four − SimCLR is -1.0 points" in verdict
    assert verdict.endswith("so on this synthetic data the differences are within noise.")
    noise = next(line for line in summary.statements if line.startswith("Noise:"))
    assert "std of AffectNet macro-F1 is 5.0 points" in noise and "span 1.0 points" in noise


def test_pretext_accuracy_flags_configurations_that_did_not_learn():
    runs = fake_runs(PAPER_ORDER, 0.01)
    for i, config in enumerate(CONFIGS):
        for run in runs[config.key]:
            run["pretext/accuracy"], run["pretext/chance"] = (
                (0.03 if "faceswap" in config.key or i == 5 else 0.4),
                1 / 31,
            )
    summary = summarise(runs, FLOOR)
    assert summary.pretext["simclr"] == {"accuracy": pytest.approx(0.4), "chance": pytest.approx(1 / 31)}
    line = next(line for line in summary.statements if line.startswith("Pretext task"))
    assert "SimCLR 40 % (chance 3 %)" in line
    assert line.endswith("not learned in this budget: TimeAug+HardNeg+FaceSwap, All four.")
    assert not any(
        line.startswith("Pretext task") for line in summarise(fake_runs(PAPER_ORDER, 0.01), FLOOR).statements
    )


def test_one_seed_cannot_be_tested_and_is_labelled():
    summary = summarise(fake_runs(PAPER_ORDER, 0.0, seeds=1), FLOOR)
    assert any("too few seeds" in line for line in summary.statements)
    assert all(summary.cells[c.key]["affectnet/accuracy"]["std"] is None for c in CONFIGS)


def test_missing_numbers_and_missing_configurations():
    runs = fake_runs(PAPER_ORDER, 0.01)
    runs[BASELINE][0]["affectnet/macro_f1"] = None
    summary = summarise(runs, FLOOR)
    assert summary.cells[BASELINE]["affectnet/macro_f1"]["mean"] is None
    assert any(
        line.startswith("AffectNet expression macro-F1 %: some runs gave no number")
        for line in summary.statements
    )
    del runs[FULL]
    with pytest.raises(ValueError, match="no runs for configuration"):
        summarise(runs, FLOOR)


def test_welch_p_edges():
    assert math.isnan(welch_p([0.5], [0.4, 0.6]))
    assert math.isnan(welch_p([0.5, 0.5], [0.4, 0.4]))
    assert welch_p([0.50, 0.51, 0.52], [0.40, 0.41, 0.42]) < 0.01
