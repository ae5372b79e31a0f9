import json
from dataclasses import replace

import pytest

from fercl_cli.demo import chain
from fercl_cli.demo.chain import (
    DEMO_RUN,
    METRICS,
    RANDOM,
    TASKS,
    Layout,
    chance_level,
    evaluate_cached,
    evaluation_requests,
    explanations,
    metric_rows,
    prepare_dir,
    status_of,
)
from fercl_cli.demo.profiles import QUICK, TESTBED, check_device, profile_for, profile_named
from fercl_cli.errors import FerclError
from fercl_cli.sample.testbed import TestbedOptions


def fake_result(task: str, value: float, support: tuple[int, ...] = (3, 5, 2)) -> dict:
    """The parts of a ``fercl evaluate`` results dict that the demo reads."""
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


def fake_results(demo: float, floor: float, lfw_demo: float, lfw_floor: float) -> dict:
    out = {}
    for task in TASKS:
        out[f"{DEMO_RUN}/{task}"] = fake_result(task, lfw_demo if task == "lfw" else demo)
        out[f"{RANDOM}/{task}"] = fake_result(task, lfw_floor if task == "lfw" else floor)
    return out


def test_status_of():
    assert status_of(worked=False, earlier=True) == "reused"
    assert status_of(worked=True, earlier=True) == "resumed"
    assert status_of(worked=True, earlier=False) == "ran"


def test_profiles_and_device():
    assert profile_for(True) is QUICK and profile_for(False).name == "standard"
    assert check_device("cpu") == "cpu"
    with pytest.raises(FerclError, match="--device must be auto, cpu or cuda, got 'tpu'"):
        check_device("tpu")
    assert profile_named("testbed") is TESTBED and profile_named("quick") is QUICK
    with pytest.raises(FerclError, match="--profile must be one of quick, standard, testbed, got 'huge'"):
        profile_named("huge")
    # the testbed profile: the corpus of `fercl sample --profile testbed`, recorded as its sample.json does
    assert TESTBED.sample == TestbedOptions() and TESTBED.sample_options() == TestbedOptions().to_dict()
    assert TESTBED.arch == "smallcnn" and TESTBED.swap_per_frame >= 4 and TESTBED.swap_p == 0.8
    assert QUICK.sample_options()["identities"] == QUICK.sample.identities
    for profile in (QUICK, profile_for(False), TESTBED):  # the paper's crop ratio: 112 of 128
        assert profile.net_px == round(profile.crop_px * 112 / 128)
        assert profile.batch_clips <= profile.sample.identities * profile.sample.clips_per_identity
        assert len(profile.ablation_seeds) >= 3


def test_prepare_dir_makes_a_marked_folder_and_refuses_foreign_ones(tmp_path):
    layout = prepare_dir(tmp_path / "demo", QUICK)
    assert layout.root == tmp_path / "demo" / "quick" and layout.root.is_dir()
    assert json.loads((tmp_path / "demo" / chain.MARKER).read_text())["fercl_version"]
    (layout.root / "something").write_text("x")
    assert prepare_dir(tmp_path / "demo", QUICK) == layout  # an earlier demo's folder is fine
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(FerclError, match="not empty and holds no earlier demo"):
        prepare_dir(tmp_path / "mine", QUICK)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FerclError, match="is a file"):
        prepare_dir(tmp_path / "file", QUICK)


def test_rows_chance_and_explanations():
    results = fake_results(demo=0.5, floor=0.4, lfw_demo=0.6, lfw_floor=0.8)
    rows = metric_rows(results)
    assert [(r["task"], r["metric"]) for r in rows] == [(m.task, m.metric) for m in METRICS]
    by = {(r["task"], r["metric"]): r for r in rows}
    assert by[("affectnet", "accuracy")]["chance"] == pytest.approx(0.5)  # 5 of 10 in the largest class
    assert by[("affectnet", "macro_f1")]["chance"] is None
    assert by[("affectnet-va", "valence_ccc")]["chance"] == 0.0
    assert by[("lfw", "accuracy")]["better"] == "lower" and by[("lfw", "accuracy")]["protocol"] == "nn1"
    assert (
        by[("affectnet", "accuracy")]["test_rows"] == 10
        and by[("affectnet-va", "arousal_ccc")]["test_rows"] == 8
    )
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
    assert chance_level(fake_result("affectnet", 0.5, (0, 0)), "accuracy") is None


def test_evaluate_cached_reuses_only_the_same_checkpoint_and_request(tmp_path, monkeypatch):
    layout = Layout(tmp_path)
    request = evaluation_requests(layout, QUICK, RANDOM, "cpu")["lfw"]
    calls = []

    def fake_evaluate(req, progress):
        calls.append(req)
        return {
            "format": "fercl-evaluate-results",
            "checkpoint": {"hash": "random-bn512:resnet18:0"},
            "request": chain._request_json(req),
            "summary": {"metrics": {"accuracy": {"mean": 0.5, "std": None, "n": 1}}},
            "runs": [{"test": {"rows": [0], "targets": [0], "predictions": [0]}}],
        }

    monkeypatch.setattr("fercl_cli.evaluate.tasks.evaluate", fake_evaluate)
    out = tmp_path / "results" / "random-lfw.json"
    assert evaluate_cached(request, out, lambda *a: None)[0] is False
    assert evaluate_cached(request, out, lambda *a: None)[0] is True and len(calls) == 1
    other = evaluation_requests(layout, QUICK, RANDOM, "cuda")["lfw"]  # another request: evaluated again
    assert evaluate_cached(other, out, lambda *a: None)[0] is False and len(calls) == 2
    out.write_text("not json")  # an unreadable file is replaced, not trusted
    assert evaluate_cached(other, out, lambda *a: None)[0] is False and len(calls) == 3
    assert json.loads(out.read_text())["request"]["device"] == "cuda"
    stale = json.loads(out.read_text())
    del stale["runs"][0]["test"]  # results of a fercl that kept no test rows: evaluated again
    out.write_text(json.dumps(stale))
    assert evaluate_cached(other, out, lambda *a: None)[0] is False and len(calls) == 4


def test_a_results_file_that_predates_an_option_matches_only_at_its_default(tmp_path):
    request = evaluation_requests(Layout(tmp_path), QUICK, RANDOM, "cpu")["affectnet"]
    saved = chain._request_json(request)
    del saved["lr"]  # written before --lr existed: computed with the default
    assert chain.same_request(saved, request)
    assert not chain.same_request(saved, replace(request, protocol="paper", lr=1e-3))
    assert not chain.same_request({**saved, "gone": 1}, request)  # an option this fercl no longer has


def test_requests_cover_every_task_at_the_profile_size(tmp_path):
    requests = evaluation_requests(Layout(tmp_path), QUICK, str(tmp_path / "runs" / DEMO_RUN), "auto")
    assert list(requests) == list(TASKS)
    assert {r.input_size for r in requests.values()} == {QUICK.net_px}
    assert requests["lfw"].min_faces == QUICK.sample.lfw_images
    assert requests["fer2013"].data == tmp_path / "sample" / "fer2013" / "fer2013.csv"
    assert all(r.seeds == (0,) and r.cache_dir == tmp_path / "eval-cache" for r in requests.values())
