import pytest

from fercl_cli.demo.table import COLUMNS, headline_text, is_better, metric_rows
from tests.factories.results import fake_results


def test_rows_carry_each_measure_its_chance_rows_and_direction():
    rows = metric_rows(fake_results(demo=0.5, floor=0.4, lfw_demo=0.6, lfw_floor=0.8))
    assert [(r["task"], r["metric"]) for r in rows] == [(m.task, m.metric) for m in COLUMNS]
    by = {(r["task"], r["metric"]): r for r in rows}
    assert by[("affectnet", "accuracy")]["chance"] == pytest.approx(0.5)  # 5 of 10 in the largest class
    assert by[("affectnet", "macro_f1")]["chance"] is None
    assert by[("affectnet-va", "valence_ccc")]["chance"] == 0.0
    assert by[("lfw", "accuracy")]["better"] == "lower" and by[("lfw", "accuracy")]["protocol"] == "nn1"
    assert (
        by[("affectnet", "accuracy")]["test_rows"] == 10
        and by[("affectnet-va", "arousal_ccc")]["test_rows"] == 8
    )
    assert [is_better(r) for r in rows] == [True] * 6  # LFW: 0.6 < 0.8 is better (less identity)
    worse = metric_rows(fake_results(demo=0.3, floor=0.4, lfw_demo=0.9, lfw_floor=0.8))
    assert [is_better(r) for r in worse] == [False] * 6


def test_headline_names_the_headline_measures_of_the_demo_checkpoint():
    text = headline_text(fake_results(demo=0.5, floor=0.4, lfw_demo=0.6, lfw_floor=0.8))
    assert text == (
        "AffectNet acc 50.0 %; AffectNet valence CCC 0.500; AffectNet arousal CCC 0.500; "
        "FER2013 acc 50.0 %; LFW identity acc 60.0 %"
    )
