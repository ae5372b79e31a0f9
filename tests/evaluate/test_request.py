import json
from dataclasses import replace
from pathlib import Path

from fercl_cli.evaluate.request import EvaluateRequest


def request() -> EvaluateRequest:
    return EvaluateRequest(task="affectnet", checkpoint="random", data=Path("/data/an"), seeds=(1, 2))


def test_to_json_is_what_a_results_file_records():
    recorded = request().to_json()
    assert recorded["data"] == "/data/an" and recorded["seeds"] == [1, 2] and recorded["cache_dir"] is None
    assert json.loads(json.dumps(recorded)) == recorded


def test_a_results_file_that_predates_an_option_matches_only_at_its_default():
    saved = request().to_json()
    del saved["lr"]  # written before --lr existed: computed with the default
    assert request().matches(saved)
    assert not replace(request(), protocol="paper", lr=1e-3).matches(saved)
    assert not replace(request(), seeds=(1,)).matches(saved)
    assert not request().matches({**saved, "gone": 1})  # an option this fercl no longer has
