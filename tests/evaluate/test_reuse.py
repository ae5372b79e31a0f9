import json

from fercl_cli.demo.layout import Layout
from fercl_cli.demo.profiles import QUICK
from fercl_cli.demo.runs import RANDOM, evaluation_requests
from fercl_cli.evaluate.reuse import evaluate_or_reuse


def test_evaluate_or_reuse_reuses_only_the_same_checkpoint_and_request(tmp_path, monkeypatch):
    layout = Layout(tmp_path)
    request = evaluation_requests(layout, QUICK, RANDOM, "cpu")["lfw"]
    calls = []

    def fake_evaluate(req, progress):
        calls.append(req)
        return {
            "format": "fercl-evaluate-results",
            "checkpoint": {"hash": "random-bn512:resnet18:0"},
            "request": req.to_json(),
            "summary": {"metrics": {"accuracy": {"mean": 0.5, "std": None, "n": 1}}},
            "runs": [{"test": {"rows": [0], "targets": [0], "predictions": [0]}}],
        }

    monkeypatch.setattr("fercl_cli.evaluate.tasks.evaluate", fake_evaluate)
    out = tmp_path / "results" / "random-lfw.json"
    assert evaluate_or_reuse(request, out, lambda *a: None)[0] is False
    assert evaluate_or_reuse(request, out, lambda *a: None)[0] is True and len(calls) == 1
    other = evaluation_requests(layout, QUICK, RANDOM, "cuda")["lfw"]  # another request: evaluated again
    assert evaluate_or_reuse(other, out, lambda *a: None)[0] is False and len(calls) == 2
    out.write_text("not json")  # an unreadable file is replaced, not trusted
    assert evaluate_or_reuse(other, out, lambda *a: None)[0] is False and len(calls) == 3
    assert json.loads(out.read_text())["request"]["device"] == "cuda"
    stale = json.loads(out.read_text())
    del stale["runs"][0]["test"]  # results of a fercl that kept no test rows: evaluated again
    out.write_text(json.dumps(stale))
    assert evaluate_or_reuse(other, out, lambda *a: None)[0] is False and len(calls) == 4
