import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.evaluate import tasks
from fercl_cli.evaluate.finetune import PAPER_AFFECTNET_TRAIN_COUNTS
from fercl_cli.evaluate.request import EvaluateRequest, parse_seeds
from fercl_cli.evaluate.tasks import evaluate
from fercl_cli.sources.fer2013 import conversion_note
from tests.evaluate.data import INPUT_SIZE, make_affectnet, make_checkpoint, make_fer2013_csv
from tests.sources.test_lfw import make_lfw_home


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eval")
    return {
        "affectnet": make_affectnet(root / "affectnet"),
        "fer2013": make_fer2013_csv(root / "fer" / "fer2013.csv"),
        "lfw": make_lfw_home(root / "lfw").parent,
        "run": make_checkpoint(root / "run"),
        "cache": root / "cache",
    }


def request(world, task: str, **kwargs) -> EvaluateRequest:
    options = {
        "checkpoint": str(world["run"]),
        "data": world[task.split("-")[0]],
        "cache_dir": world["cache"],
    }
    options.update(kwargs)
    return EvaluateRequest(task=task, input_size=INPUT_SIZE, **options)


def _count_calls(monkeypatch, owner, name: str) -> list[int]:
    """Wrap ``owner.name`` so that each call appends to the returned list (the real function still runs)."""
    real, calls = getattr(owner, name), []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def _stored_features(result: dict) -> np.ndarray:
    """The features file a results dict names, float32 [rows, F]."""
    with h5py.File(result["data"]["features"]["path"], "r") as handle:
        return handle["features"][()]


def test_affectnet_linear_then_a_second_run_hits_both_caches_with_identical_numbers(
    world, tmp_path, monkeypatch
):
    first = evaluate(request(world, "affectnet"))
    assert first["protocol"] == "linear" and "logistic regression" in first["protocol_description"]
    assert first["data"]["cache_hit"] is False and first["data"]["features"]["hit"] is False
    assert first["data"]["rows"] == {"train": 40, "test": 16}
    assert first["data"]["counts"]["missing_images"] == 1
    assert first["data"]["counts"]["dropped_non_emotion"] == 1
    notes = "\n".join(first["notes"])
    assert "1 listed image(s) not found" in notes and "dropped 1 row(s) with expression codes 8-10" in notes
    (run,) = first["runs"]
    assert run["hyperparameters"]["class_weight"] == "balanced" and "C" in run["hyperparameters"]
    assert run["selection"].startswith("held-out 20% of train")
    assert first["checkpoint"]["arch"] == "resnet18" and first["checkpoint"]["hash"].startswith("sha256:")
    assert first["preprocessing"] == {
        "stored_size": 37,
        "input_size": 32,
        "description": first["preprocessing"]["description"],
    }
    assert "ImageNet mean/std" in first["preprocessing"]["description"]
    summary = first["summary"]
    assert [c["name"] for c in summary["per_class"]][-1] == "Contempt"
    assert np.sum(summary["confusion"]["matrix"]) == 16
    conversions = _count_calls(monkeypatch, tasks.cache, "write_dataset")  # decoding and cropping the images
    extractions = _count_calls(monkeypatch, tasks, "extract_features")  # the backbone's forward passes
    second = evaluate(request(world, "affectnet"))
    assert conversions == [] and extractions == []  # the hit did neither: it read both caches
    assert second["data"]["cache_hit"] is True and second["data"]["features"]["hit"] is True
    assert second["data"]["hash"] == first["data"]["hash"]
    # The expectation: a fresh run that converts and extracts everything again into an empty cache folder.
    fresh = evaluate(request(world, "affectnet", cache_dir=tmp_path / "fresh"))
    assert conversions == [1] and extractions == [1]
    assert fresh["data"]["cache_hit"] is False and fresh["data"]["features"]["hit"] is False
    assert fresh["data"]["hash"] == second["data"]["hash"]
    cached, computed = (_stored_features(result) for result in (second, fresh))
    assert cached.shape == computed.shape == (56, 512) and cached.dtype == computed.dtype == np.float32
    np.testing.assert_allclose(cached, computed, rtol=0, atol=1e-6)
    assert second["summary"] == fresh["summary"] and second["runs"] == fresh["runs"]
    assert second["summary"] == summary and second["runs"] == first["runs"]
    json.dumps(second, allow_nan=False)


def test_knn_over_three_seeds_reports_mean_and_std(world):
    result = evaluate(request(world, "affectnet", protocol="knn", seeds=(1, 2, 3)))
    assert [r["seed"] for r in result["runs"]] == [1, 2, 3]
    assert all("k" in r["hyperparameters"] for r in result["runs"])
    accuracies = [r["metrics"]["accuracy"] for r in result["runs"]]
    summary = result["summary"]["metrics"]["accuracy"]
    assert summary["n"] == 3 and summary["mean"] == pytest.approx(np.mean(accuracies))
    assert summary["std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert result["summary"]["confusion"]["runs_summed"] == 3
    assert np.sum(result["summary"]["confusion"]["matrix"]) == 3 * 16


def test_seven_classes_drop_contempt_and_say_how_many(world):
    result = evaluate(request(world, "affectnet", protocol="knn", classes=7))
    assert result["data"]["class_names"][-1] == "Anger" and len(result["summary"]["per_class"]) == 7
    assert result["data"]["counts"]["dropped_contempt"] == 5 + 2
    assert "training.csv: 7-class variant: dropped 5 Contempt row(s)" in result["notes"]
    assert result["data"]["rows"] == {"train": 35, "test": 14}


def test_valence_arousal_ridge_reports_ccc_and_rmse_per_dimension(world):
    result = evaluate(request(world, "affectnet-va"))
    assert result["kind"] == "regression" and "ridge" in result["protocol_description"]
    metrics = result["summary"]["metrics"]
    assert set(metrics) == {"valence_ccc", "valence_rmse", "arousal_ccc", "arousal_rmse"}
    assert metrics["valence_rmse"]["mean"] > 0
    assert result["summary"]["scored_rows"] == {"valence": 15, "arousal": 16}
    (run,) = result["runs"]
    assert run["excluded_train_rows"] == {"valence": 1, "arousal": 0}
    assert set(run["hyperparameters"]["valence"]) == {"alpha"}


def test_fer2013_selects_on_private_test_and_states_the_grey_conversion(world):
    result = evaluate(request(world, "fer2013", protocol="knn", seeds=(0, 1)))
    assert result["data"]["rows"] == {"train": 21, "select": 14, "test": 14}
    assert all(r["selection"] == "selection split (n=14)" for r in result["runs"])
    assert conversion_note(37) in result["notes"]
    assert any("every seed gives the same numbers" in n for n in result["notes"])
    assert result["summary"]["metrics"]["accuracy"]["std"] == 0.0


def test_lfw_one_nearest_neighbour_with_the_leakage_note(world):
    result = evaluate(request(world, "lfw", min_faces=3))
    assert result["protocol"] == "nn1" and result["kind"] == "identity"
    assert result["data"]["rows"] == {"all": 10}
    assert result["data"]["class_names"] == ["Colin Powell", "George W Bush", "Grey Wall"]
    assert result["runs"][0]["selection"].startswith("fixed by the protocol (stratified 70%/30%")
    assert tasks.LFW_NOTE in result["notes"]


def test_paper_protocol_fine_tunes_for_the_epochs_asked(world):
    result = evaluate(request(world, "affectnet", protocol="paper", epochs=1))
    (run,) = result["runs"]
    hyper = run["hyperparameters"]
    assert hyper["best_epoch"] == 1 and hyper["epochs"] == 1
    assert (hyper["lr"], hyper["weight_decay"], hyper["batch_size"], hyper["dropout"]) == (
        1e-4,
        5e-4,
        64,
        0.5,
    )
    assert run["selection"].startswith("held-out 10% of train")
    assert result["data"]["features"] is None
    assert result["protocol_details"]["prior_counts"] == [5.0] * 8
    assert (
        "class counts of the 40 rows of the training split"
        in result["protocol_details"]["balanced_softmax_prior"]
    )
    assert np.sum(result["summary"]["confusion"]["matrix"]) == 16


def test_the_paper_counts_are_used_for_the_full_affectnet_training_list():
    class Data:
        class_names = tuple("abcdefgh")
        extra = {"listed_train_counts": list(PAPER_AFFECTNET_TRAIN_COUNTS)}

    req = EvaluateRequest(task="affectnet", checkpoint="random", data=Path("."))
    counts, source = tasks.balanced_softmax_prior(req, Data(), np.zeros(3, dtype=np.int64))
    assert counts == list(map(float, PAPER_AFFECTNET_TRAIN_COUNTS)) and source.startswith("the paper's")
    Data.extra = {"listed_train_counts": [1] * 8}
    counts, source = tasks.balanced_softmax_prior(req, Data(), np.array([0, 0, 1]))
    assert counts == [2.0, 1.0] + [0.0] * 6 and "3 rows" in source


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "lfw", "protocol": "linear"}, "--protocol linear is not available for --task lfw"),
        ({"task": "fer2013", "classes": 7}, "--classes 7 applies to AffectNet only"),
        ({"task": "affectnet", "seeds": (1, 1)}, "--seeds must list distinct"),
        ({"task": "affectnet", "data": None}, "--task affectnet needs --data"),
        ({"task": "affectnet", "arch": "resnet50"}, "not the resnet50 asked for with --arch"),
        ({"task": "mnist"}, "--task must be one of"),
        (
            {"task": "affectnet", "checkpoint": "pixels", "protocol": "paper"},
            "--checkpoint pixels has no network to fine-tune",
        ),
        ({"task": "affectnet", "lr": 1e-3}, "--lr is the positive fine-tuning rate of --protocol paper"),
        ({"task": "affectnet", "protocol": "paper", "lr": 0.0}, "--lr is the positive fine-tuning rate"),
    ],
)
def test_bad_requests_are_clear(world, kwargs, message):
    with pytest.raises(FerclError, match=message):
        evaluate(
            request(world, **kwargs)
            if kwargs.get("task") != "mnist"
            else EvaluateRequest("mnist", "random", None, arch="resnet18")
        )


def test_malformed_data_is_clear(world, tmp_path: Path):
    broken = tmp_path / "affectnet"
    make_affectnet(broken, train_per_class=1, test_per_class=1)
    lines = (broken / "training.csv").read_text().splitlines()
    (broken / "training.csv").write_text("\n".join([lines[0].replace("expression,", "emotion,")] + lines[1:]))
    with pytest.raises(FerclError, match="missing column\\(s\\) expression"):
        evaluate(request(world, "affectnet", data=broken))
    with pytest.raises(FerclError, match="lfw_home"):
        evaluate(request(world, "lfw", data=tmp_path / "no_lfw"))


def test_data_too_small_for_the_protocol_names_the_data(world, tmp_path: Path):
    small = make_affectnet(tmp_path / "small", train_per_class=1, test_per_class=1)
    with pytest.raises(FerclError, match=f"{small}: affectnet linear: class .* training row"):
        evaluate(request(world, "affectnet", data=small, cache_dir=tmp_path / "cache"))


def test_parse_seeds():
    assert parse_seeds("1, 2,3") == (1, 2, 3)
    with pytest.raises(FerclError, match="comma-separated integers"):
        parse_seeds("1;2")


def test_the_random_floor_calibrates_batchnorm_on_the_training_split_and_says_so(world):
    import h5py

    calibrated = evaluate(request(world, "affectnet", checkpoint="random", arch="resnet18"))
    raw = evaluate(request(world, "affectnet", checkpoint="random-raw", arch="resnet18"))
    record = calibrated["checkpoint"]["bn_calibration"]
    assert record["applied"] is True and record["split"] == "train" and record["labels_used"] is False
    assert record["images"] == calibrated["data"]["rows"]["train"] == 40
    assert raw["checkpoint"]["bn_calibration"] is None
    assert calibrated["checkpoint"]["hash"] != raw["checkpoint"]["hash"]
    assert calibrated["data"]["features"]["path"] != raw["data"]["features"]["path"]
    assert any("BatchNorm statistics calibrated on 40" in note for note in calibrated["notes"])
    assert calibrated["runs"][0]["metrics"] != raw["runs"][0]["metrics"]
    features = {
        name: np.asarray(h5py.File(result["data"]["features"]["path"], "r")["features"])
        for name, result in (("calibrated", calibrated), ("raw", raw))
    }
    assert not np.allclose(features["calibrated"], features["raw"])
    again = evaluate(request(world, "affectnet", checkpoint="random", arch="resnet18"))
    assert again["data"]["features"]["hit"] is True and again["runs"] == calibrated["runs"]


def test_fer2013_split_chooses_which_test_usage_is_reported_and_the_results_name_it(tmp_path: Path):
    from fercl_cli.evaluate.cache import read_dataset

    csv = make_fer2013_csv(tmp_path / "fer" / "fer2013.csv", per_split=(3, 2, 1))
    usage = {
        f"fer2013.csv:{i + 2}": line.rsplit(",", 1)[1]
        for i, line in enumerate(csv.read_text().splitlines()[1:])
    }
    fer = {"task": "fer2013", "checkpoint": "random", "arch": "resnet18", "data": csv, "protocol": "knn"}
    fer.update(input_size=INPUT_SIZE, cache_dir=tmp_path / "cache")
    shown: dict[str, set[str]] = {}
    for split, test_usage, rows in (("public", "PublicTest", 7), ("private", "PrivateTest", 14)):
        result = evaluate(EvaluateRequest(**fer, split=split))
        assert result["data"]["options"]["split"] == split and result["data"]["rows"]["test"] == rows
        other = "PrivateTest" if split == "public" else "PublicTest"
        assert result["task_title"] == f"FER2013 expression (test {test_usage}, select {other})"
        data = read_dataset(Path(result["data"]["cache"]))
        shown[split] = set(data.keys[data.rows("test")])
        assert {usage[k] for k in shown[split]} == {test_usage}
        assert {usage[k] for k in data.keys[data.rows("select")]} == {other}
    assert not shown["public"] & shown["private"]
    default = evaluate(EvaluateRequest(**fer))
    assert default["data"]["options"]["split"] == "public" and default["data"]["cache_hit"] is True


def test_ferplus_labels_give_eight_classes_and_their_own_cache(tmp_path: Path):
    from tests.evaluate.data import make_ferplus_csv

    csv = make_fer2013_csv(tmp_path / "fer" / "fer2013.csv", per_split=(4, 2, 2))
    ferplus = make_ferplus_csv(csv)
    base = {"task": "fer2013", "checkpoint": "random", "arch": "resnet18", "data": csv, "protocol": "knn"}
    base.update(input_size=INPUT_SIZE, cache_dir=tmp_path / "cache")
    plain = evaluate(EvaluateRequest(**base))
    result = evaluate(EvaluateRequest(**base, ferplus=ferplus))
    assert (
        result["data"]["options"]["labels"] == "ferplus" and plain["data"]["options"]["labels"] == "fer2013"
    )
    assert result["data"]["hash"] != plain["data"]["hash"] and result["data"]["cache_hit"] is False
    assert result["data"]["class_names"][-1] == "Contempt" and len(result["summary"]["per_class"]) == 8
    n_rows = 7 * (4 + 2 + 2)
    assert result["data"]["counts"]["ferplus_tied"] == n_rows // 9
    assert sum(result["data"]["rows"].values()) == n_rows - n_rows // 9
    assert result["task_title"] == (
        "FER2013 expression, FER+ labels (8 classes, majority vote; test PublicTest, select PrivateTest)"
    )
    assert any("FER+ labels, the majority vote" in note for note in result["notes"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "fer2013", "split": "val"}, "--split must be one of public, private, got 'val'"),
        (
            {"task": "affectnet", "split": "public"},
            "--split applies to --task fer2013 only, not --task affectnet",
        ),
        (
            {"task": "lfw", "ferplus": Path("x.csv")},
            "--ferplus applies to --task fer2013 only, not --task lfw",
        ),
    ],
)
def test_fer2013_options_are_checked_before_anything_loads(kwargs, message):
    with pytest.raises(FerclError) as error:
        EvaluateRequest(checkpoint="random", data=Path("."), **kwargs).check()
    assert str(error.value) == message


def test_rafdb_scores_seven_classes_on_the_official_test_split(tmp_path: Path):
    from tests.evaluate.data import make_rafdb

    data = make_rafdb(tmp_path / "rafdb")
    base = {"task": "rafdb", "checkpoint": "random", "arch": "resnet18", "data": data}
    base.update(input_size=INPUT_SIZE, cache_dir=tmp_path / "cache")
    result = evaluate(EvaluateRequest(**base))
    assert result["data"]["rows"] == {"train": 35, "test": 14}
    assert result["data"]["counts"]["missing_images"] == 1
    assert result["data"]["class_names"] == [
        "Surprise",
        "Fear",
        "Disgust",
        "Happiness",
        "Sadness",
        "Anger",
        "Neutral",
    ]
    assert result["data"]["options"] == {"size": 37, "images": "aligned"}
    assert result["task_title"] == "RAF-DB basic expression (aligned faces)"
    assert result["runs"][0]["selection"].startswith("held-out 20% of train")
    assert [c["support"] for c in result["summary"]["per_class"]] == [2] * 7
    assert np.sum(result["summary"]["confusion"]["matrix"]) == 14
    assert any("RAF-DB's own alignment" in note for note in result["notes"])
    with pytest.raises(FerclError, match="--rafdb-images applies to --task rafdb only"):
        evaluate(EvaluateRequest(**{**base, "task": "fer2013"}, rafdb_images="aligned"))
    with pytest.raises(FerclError, match="RAF-DB original photos not found"):
        evaluate(EvaluateRequest(**base, rafdb_images="original"))


def test_affectnet_npy_release_is_detected_and_named(tmp_path: Path):
    from tests.evaluate.data import make_affectnet_npy

    data = make_affectnet_npy(tmp_path / "affectnet")
    base = {"checkpoint": "random", "arch": "resnet18", "data": data, "protocol": "knn"}
    base.update(input_size=INPUT_SIZE, cache_dir=tmp_path / "cache")
    result = evaluate(EvaluateRequest(task="affectnet", **base))
    assert result["data"]["options"]["release"] == "npy"
    assert result["task_title"] == "AffectNet expression (8 classes, .npy release)"
    assert result["data"]["rows"] == {"train": 40, "test": 16}
    counts = result["data"]["counts"]
    assert (counts["missing_images"], counts["dropped_non_emotion"], counts["rows_test"]) == (1, 1, 16)
    assert result["data"]["features"]["hit"] is False
    va = evaluate(EvaluateRequest(task="affectnet-va", **{**base, "protocol": None}))
    assert va["task_title"] == "AffectNet valence/arousal (.npy release)" and va["data"]["cache_hit"] is True
    assert va["summary"]["scored_rows"] == {"valence": 16, "arousal": 16}
    (data / "training.csv").write_text("x\n")
    with pytest.raises(FerclError, match="mixes the two AffectNet releases"):
        evaluate(EvaluateRequest(task="affectnet", **base))


def test_every_run_keeps_its_test_rows_so_intervals_can_be_computed(world):
    from fercl_cli.evaluate.intervals import accuracy_score, ccc_score, score_interval
    from fercl_cli.evaluate.metrics import ccc
    from fercl_cli.evaluate.results import seed_runs

    result = evaluate(request(world, "affectnet", protocol="knn", seeds=(1, 2)))
    runs = seed_runs(result)
    assert [len(r.rows) for r in runs] == [16, 16]
    for run, recorded in zip(runs, result["runs"], strict=True):
        assert np.mean(run.targets == run.predictions) == pytest.approx(recorded["metrics"]["accuracy"])
    interval = score_interval(runs, accuracy_score, replicates=200)
    assert interval.estimate == pytest.approx(result["summary"]["metrics"]["accuracy"]["mean"])
    assert interval.low <= interval.estimate <= interval.high
    lfw = evaluate(request(world, "lfw", checkpoint="random", arch="resnet18", min_faces=2, seeds=(0, 1)))
    first, second = seed_runs(lfw)
    assert not np.array_equal(first.rows, second.rows)  # 1-NN draws its own split per seed
    va = evaluate(request(world, "affectnet-va"))
    (valence,) = seed_runs(va, "valence")
    assert ccc(valence.targets, valence.predictions) == pytest.approx(
        va["runs"][0]["metrics"]["valence"]["ccc"]
    )
    assert ccc_score(valence.targets, valence.predictions, np.arange(len(valence.rows))[None])[
        0
    ] == pytest.approx(va["runs"][0]["metrics"]["valence"]["ccc"])
    with pytest.raises(ValueError, match="no regression target"):
        seed_runs(va, "dominance")


def test_the_random_floor_of_a_smallcnn_evaluates(world):
    result = evaluate(request(world, "affectnet", checkpoint="random", arch="smallcnn", protocol="knn"))
    checkpoint = result["checkpoint"]
    assert (checkpoint["arch"], checkpoint["feature_dim"], checkpoint["kind"]) == ("smallcnn", 256, "random")
    assert checkpoint["bn_calibration"]["applied"] is True
    assert any("architecture smallcnn (--arch)" in note for note in result["notes"])
    assert result["runs"] and np.isfinite(result["summary"]["metrics"]["accuracy"]["mean"])


def test_the_raw_pixel_floor_is_probed_like_any_backbone(world):
    result = evaluate(request(world, "affectnet", checkpoint="pixels"))
    assert result["checkpoint"]["kind"] == "pixels" and result["checkpoint"]["hash"] == "pixels:16"
    assert result["data"]["features"]["dim"] == 768 and "test" in result["runs"][0]
    assert any("architecture pixels (no network)" in note for note in result["notes"])
