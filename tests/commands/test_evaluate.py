import json
from pathlib import Path

import cv2
import pytest
import torch
from torchvision import models
from typer.testing import CliRunner

from fercl_cli.cli import app
from tests.evaluate.data import INPUT_SIZE, make_affectnet, make_checkpoint, make_fer2013_csv
from tests.sources.test_lfw import make_lfw_home

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def words(text: str) -> str:
    """The text with every run of whitespace (including where rich wrapped a line) as one space."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    torch.save(models.resnet18(weights=None).state_dict(), root / "resnet18-imagenet.pth")
    return {
        "root": root,
        "affectnet": make_affectnet(root / "affectnet"),
        "fer2013": make_fer2013_csv(root / "fer" / "fer2013.csv"),
        "lfw": make_lfw_home(root / "lfw").parent,
        "run": make_checkpoint(root / "run"),
        "imagenet": root / "resnet18-imagenet.pth",
    }


def evaluate(*args: str, env=None):
    return runner.invoke(app, ["evaluate", "--size", str(INPUT_SIZE), *args], env=env)


def test_json_output_and_a_second_run_that_hits_the_cache(world):
    args = ["--task", "affectnet", "--checkpoint", str(world["run"]), "--data", str(world["affectnet"])]
    first = evaluate(*args, "--protocol", "knn", "--seeds", "1,2", "--json")
    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert payload["protocol"] == "knn" and payload["seeds"] == [1, 2]
    assert payload["data"]["cache_hit"] is False
    assert payload["data"]["cache"].startswith(str(world["affectnet"] / ".fercl-cache"))
    second = evaluate(*args, "--protocol", "knn", "--seeds", "1,2", env=WIDE)
    assert second.exit_code == 0, second.output
    shown = words(second.stdout)
    assert "cache hit" in shown and "features: 512-d, fp32, cache hit" in shown
    assert "AffectNet expression (8 classes) · protocol knn" in shown
    assert "per class" in shown and "confusion (rows true, columns predicted, summed over 2 seeds)" in shown
    assert "note: training.csv: 1 listed image(s) not found" in shown
    assert payload["summary"]["metrics"]["macro_f1"]["mean"] is not None


def test_out_file_and_confusion_png_with_imagenet_weights(world):
    out, png = world["root"] / "results" / "fer.json", world["root"] / "fer.png"
    result = evaluate(
        "--task",
        "fer2013",
        "--checkpoint",
        f"imagenet:{world['imagenet']}",
        "--data",
        str(world["fer2013"]),
        "--protocol",
        "knn",
        "--cache",
        str(world["root"] / "cache"),
        "--out",
        str(out),
        "--confusion",
        str(png),
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert saved["checkpoint"]["kind"] == "torchvision" and saved["checkpoint"]["arch"] == "resnet18"
    assert saved["data"]["cache"].startswith(str(world["root"] / "cache"))
    assert saved["fercl_version"] and saved["data"]["hash"] and saved["request"]["seeds"] == [0]
    assert cv2.imread(str(png)) is not None
    assert "grey 48×48 images are given to the RGB backbone" in words(result.stdout)
    assert f"results written to {out}" in words(result.stdout)


def test_lfw_with_random_init_and_the_leakage_note(world):
    result = evaluate(
        "--task",
        "lfw",
        "--checkpoint",
        "random",
        "--arch",
        "resnet18",
        "--data",
        str(world["lfw"]),
        "--min-faces",
        "3",
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    shown = words(result.stdout)
    assert "LFW identity (leakage) · protocol nn1" in shown
    assert "lower = less identity leakage" in shown
    assert "LOWER identity accuracy" in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "affectnet", "--arch", "resnet50"], "not the resnet50 asked for with --arch"),
        (["--task", "affectnet-va", "--confusion", "x.png"], "has no confusion matrix"),
        (["--task", "affectnet", "--confusion", "x.jpg"], "ending in .png"),
        (["--task", "affectnet", "--seeds", "a,b"], "--seeds must be comma-separated integers"),
        (["--task", "lfw", "--protocol", "knn"], "--protocol knn is not available for --task lfw"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(world, args, message):
    result = evaluate("--checkpoint", str(world["run"]), "--data", str(world["affectnet"]), *args)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_input_size_and_arch_come_from_the_checkpoint_unless_given(world, tmp_path):
    from fercl_cli.train import checkpoint
    from fercl_cli.train.model import build_model

    run = tmp_path / "run24"
    checkpoint.save(
        run / "last.pt",
        {"model": build_model("resnet18").state_dict(), "config": {"arch": "resnet18", "size": 24}},
    )
    args = ["evaluate", "--task", "fer2013", "--data", str(world["fer2013"]), "--protocol", "knn"]
    args += ["--cache", str(tmp_path / "cache"), "--json"]
    result = runner.invoke(app, [*args, "--checkpoint", str(run)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["request"]["input_size"] == 24 and payload["checkpoint"]["arch"] == "resnet18"
    assert any("network input 24 px (the size the checkpoint was trained at" in n for n in payload["notes"])
    given = json.loads(runner.invoke(app, [*args, "--checkpoint", str(run), "--size", "32"]).stdout)
    assert given["request"]["input_size"] == 32
    floor = runner.invoke(app, [*args, "--checkpoint", "random"])
    assert floor.exit_code == 2 and "--checkpoint random needs --arch" in floor.output


def test_lfw_data_may_be_the_lfw_home_folder_itself(world, tmp_path):
    args = ["evaluate", "--task", "lfw", "--checkpoint", "random", "--arch", "resnet18", "--min-faces", "3"]
    args += ["--size", str(INPUT_SIZE), "--cache", str(tmp_path / "cache"), "--json"]
    result = runner.invoke(app, [*args, "--data", str(world["lfw"] / "lfw_home")])
    assert result.exit_code == 0, result.output


def test_a_class_with_one_training_row_is_named_with_the_fix(tmp_path):
    root = make_affectnet(tmp_path / "affectnet")
    training = root / "training.csv"
    kept = [
        line for line in training.read_text().splitlines() if "train_7_" not in line or "train_7_0" in line
    ]
    training.write_text("\n".join(kept) + "\n")  # Contempt (code 7) keeps one training row
    args = [
        "evaluate",
        "--task",
        "affectnet",
        "--data",
        str(root),
        "--checkpoint",
        "random",
        "--arch",
        "resnet18",
    ]
    result = runner.invoke(app, [*args, "--size", str(INPUT_SIZE), "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 2
    assert "class 'Contempt' has 1 training row(s)" in result.output
    assert "pass --classes 7 to leave Contempt out" in result.output and "select=" not in result.output


def test_classes_in_test_but_not_in_training_are_noted(tmp_path):
    csv = make_fer2013_csv(tmp_path / "fer" / "fer2013.csv")
    lines = csv.read_text().splitlines()
    csv.write_text(
        "\n".join(line for line in lines if not line.startswith("1,") or "Training" not in line) + "\n"
    )
    args = [
        "evaluate",
        "--task",
        "fer2013",
        "--data",
        str(csv),
        "--checkpoint",
        "random",
        "--arch",
        "resnet18",
    ]
    result = runner.invoke(app, [*args, "--size", str(INPUT_SIZE), "--protocol", "knn", "--json"])
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert any("class(es) Disgust are in the test split but not in training" in note for note in notes)


def test_fer2013_private_split_and_ferplus_labels_are_named_in_the_table_and_the_json(world, tmp_path):
    from tests.evaluate.data import make_ferplus_csv

    ferplus = make_ferplus_csv(world["fer2013"])
    args = ["--task", "fer2013", "--checkpoint", "random", "--arch", "resnet18", "--protocol", "knn"]
    args += ["--data", str(world["fer2013"]), "--cache", str(tmp_path / "cache"), "--split", "private"]
    shown = evaluate(*args, env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert "FER2013 expression (test PrivateTest, select PublicTest) · protocol knn" in words(shown.stdout)
    payload = json.loads(evaluate(*args, "--ferplus", str(ferplus), "--json").stdout)
    assert payload["data"]["options"]["split"] == "private"
    assert payload["data"]["options"]["labels"] == "ferplus"
    assert payload["task_title"] == (
        "FER2013 expression, FER+ labels (8 classes, majority vote; test PrivateTest, select PublicTest)"
    )
    bad = evaluate("--task", "fer2013", "--checkpoint", "random", "--arch", "resnet18", "--split", "dev")
    assert bad.exit_code == 2 and bad.output == "error: --split must be one of public, private, got 'dev'\n"


def test_rafdb_end_to_end_with_random_init(tmp_path):
    from tests.evaluate.data import make_rafdb

    data = make_rafdb(tmp_path / "rafdb")
    args = ["--task", "rafdb", "--checkpoint", "random", "--arch", "resnet18", "--data", str(data)]
    result = evaluate(*args, "--out", str(tmp_path / "rafdb.json"), env=WIDE)
    assert result.exit_code == 0, result.output
    shown = words(result.stdout)
    assert "RAF-DB basic expression (aligned faces) · protocol linear" in shown
    assert "Happiness" in shown and "per class" in shown
    assert f"note: RAF-DB: 1 listed image(s) not found under {data / 'Image' / 'aligned'}" in shown
    saved = json.loads((tmp_path / "rafdb.json").read_text())
    assert saved["task"] == "rafdb" and saved["data"]["cache"].startswith(str(data / ".fercl-cache"))
    assert sum(c["support"] for c in saved["summary"]["per_class"]) == 14
    missing = evaluate(
        "--task", "rafdb", "--checkpoint", "random", "--arch", "resnet18", "--data", str(tmp_path)
    )
    assert missing.exit_code == 2 and len(missing.output.strip().splitlines()) == 1
    assert missing.output.startswith(
        f"error: {tmp_path / 'EmoLabel' / 'list_patition_label.txt'}: RAF-DB label"
    )
