import csv
import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from fercl_cli.apply.embed import embed
from fercl_cli.cli import app
from tests.evaluate.data import make_affectnet
from tests.factories.media import write_media

runner = CliRunner()
MODEL = ["--checkpoint", "random-raw", "--arch", "resnet18", "--size", "32"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict")
    media = write_media(root / "media")
    affectnet = make_affectnet(root / "affectnet")
    heads = {}
    for task in ("affectnet", "affectnet-va"):
        heads[task] = root / f"{task}.npz"
        args = ["evaluate", "--task", task, *MODEL, "--data", str(affectnet), "--save-head", str(heads[task])]
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["head"]["path"] == str(heads[task])
    return {"root": root, "media": media, "heads": heads}


def predict(world, head: str, *args: str):
    return runner.invoke(
        app, ["predict", *args, *MODEL, "--device", "cpu", "--head", str(world["heads"][head])]
    )


def read_csv(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_probabilities_are_the_saved_head_applied_by_hand(world, tmp_path):
    media, out = world["media"], tmp_path / "preds.csv"
    result = predict(world, "affectnet", str(media["hopper.jpg"]), str(media["clip.mp4"]), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    with np.load(world["heads"]["affectnet"], allow_pickle=False) as saved:
        arrays = {k: saved[k] for k in saved.files}
    names = json.loads(str(arrays["meta"]))["outputs"]
    assert names[:2] == ["Neutral", "Happy"] and len(names) == 8
    probs = np.array([[float(r[n]) for n in names] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    features = embed(
        [media["hopper.jpg"], media["clip.mp4"]], "random-raw", arch="resnet18", size=32, device="cpu"
    )
    for i, x in enumerate(features.features.astype(np.float64)):  # slow reference: one class at a time
        logits = [
            sum(
                (x[d] - arrays["mean"][k, d]) / arrays["scale"][k, d] * arrays["coef"][k, d]
                for d in range(len(x))
            )
            + arrays["intercept"][k]
            for k in range(len(names))
        ]
        expected = np.exp(np.array(logits) - max(logits))
        np.testing.assert_allclose(probs[i], expected / expected.sum(), rtol=1e-4, atol=1e-6)
        assert rows[i]["label"] == names[int(np.argmax(logits))]
    assert [r["frame"] for r in rows] == ["-1", "0", "6", "12", "18", "24"]


def test_regression_head_gives_valence_and_arousal_and_a_curves_png(world, tmp_path):
    out, png = tmp_path / "va.csv", tmp_path / "curves.png"
    result = predict(
        world, "affectnet-va", str(world["media"]["clip.mp4"]), "--out", str(out), "--plot", str(png)
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert len(rows) == 5 and {"valence", "arousal"} <= set(rows[0]) and "label" not in rows[0]
    image = cv2.imread(str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image is not None and image.shape[0] > 100


def test_json_summary_counts_labels(world, tmp_path):
    media = world["media"]
    result = predict(
        world,
        "affectnet",
        str(media["astronaut.png"]),
        str(media["blank.png"]),
        "--out",
        str(tmp_path / "p.csv"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["faces"] == 1 and sum(payload["labels"].values()) == 1
    assert payload["failures"][0]["source"] == str(media["blank.png"])


def test_a_head_of_another_backbone_or_size_is_refused(world, tmp_path):
    args = ["predict", str(world["media"]["hopper.jpg"]), "--head", str(world["heads"]["affectnet"])]
    other_size = runner.invoke(
        app,
        [
            *args,
            "--checkpoint",
            "random-raw",
            "--arch",
            "resnet18",
            "--size",
            "48",
            "--out",
            str(tmp_path / "p.csv"),
        ],
    )
    assert other_size.exit_code == 2
    assert "fitted on backbone random:resnet18:0 at 32 px, not on random:resnet18:0 at 48 px" in " ".join(
        other_size.output.split()
    )
    other_arch = runner.invoke(
        app,
        [
            *args,
            "--checkpoint",
            "random-raw",
            "--arch",
            "resnet50",
            "--size",
            "32",
            "--out",
            str(tmp_path / "p.csv"),
        ],
    )
    assert other_arch.exit_code == 2 and "not on random:resnet50:0 at 32 px" in " ".join(
        other_arch.output.split()
    )
    assert not (tmp_path / "p.csv").exists()
    calibrated = runner.invoke(
        app, [*args, "--checkpoint", "random", "--arch", "resnet18", "--out", str(tmp_path / "p.csv")]
    )
    assert calibrated.exit_code == 2 and "pass --checkpoint random-raw" in " ".join(calibrated.output.split())


def test_plot_without_a_video_and_save_head_of_knn_are_refused(world, tmp_path):
    still = predict(
        world,
        "affectnet",
        str(world["media"]["hopper.jpg"]),
        "--out",
        str(tmp_path / "p.csv"),
        "--plot",
        str(tmp_path / "c.png"),
    )
    assert still.exit_code == 2 and "needs a video among the inputs" in still.output
    knn = runner.invoke(
        app,
        [
            "evaluate",
            "--task",
            "affectnet",
            *MODEL,
            "--data",
            "x",
            "--protocol",
            "knn",
            "--save-head",
            "h.npz",
        ],
    )
    assert knn.exit_code == 2 and "--save-head saves the linear probe" in knn.output


def test_a_head_on_the_calibrated_random_floor_is_refused_before_any_work(tmp_path):
    import pytest

    from fercl_cli.errors import FerclError
    from fercl_cli.evaluate.request import EvaluateRequest

    request = EvaluateRequest(
        "affectnet", "random", tmp_path, arch="resnet18", save_head=tmp_path / "head.npz"
    )
    with pytest.raises(FerclError, match="use --checkpoint random-raw"):
        request.check()
