from fercl_cli.demo.narrative import explanations
from fercl_cli.demo.profiles import QUICK
from fercl_cli.demo.table import metric_rows
from fercl_cli.evaluate.results import Results
from tests.factories.results import fake_result, fake_results


def test_explanations_read_the_rows_and_the_pretraining():
    rows = metric_rows(fake_results(demo=0.5, floor=0.4, lfw_demo=0.6, lfw_floor=0.8))
    sample = {"counts": {"voxceleb": {"identities": 4, "clips": 8}}, "options": {"eval_identities": 3}}
    learned = {"contrastive_accuracy": 0.5, "chance_accuracy": 1 / 15}
    notes = explanations(rows, QUICK, sample, learned)
    assert "beats the random-init floor on 5 of 5 measures" in notes[1]
    assert "leaks less identity than random init" in notes[2]
    assert "AffectNet acc: 10, FER2013 acc: 10, LFW identity acc: 10 photos" in notes[3]
    assert "one photo moves an accuracy by 10.0 points" in notes[3]
    assert "a strong baseline" not in notes[1]
    assert "positive among the batch 50 % of the time (chance 7 %)." in notes[4]
    stuck = {"contrastive_accuracy": 0.08, "chance_accuracy": 1 / 15}
    worse = explanations(metric_rows(fake_results(0.3, 0.4, 0.9, 0.8)), QUICK, sample, stuck)
    assert "on 0 of 5 measures" in worse[1] and "does not (yet) leak less identity" in worse[2]
    assert "A randomly initialised ResNet is a strong baseline" in worse[1]
    assert "8 % of the time (chance 7 %); it barely learned in this budget" in worse[4]


def test_no_chance_level_without_test_rows():
    assert Results(fake_result("affectnet", 0.5, (0, 0))).chance("accuracy") is None
