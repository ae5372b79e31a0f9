import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.sample import photos
from fercl_cli.sample.corpus import generate_sample
from fercl_cli.sample.gate import border_descriptor, run_gate
from fercl_cli.sample.testbed import TestbedOptions, generate_testbed
from tests.factories.corpus import TINY_SAMPLE_OPTIONS

# Tiny on purpose: 3 people x 2 clips of 20 s (the defaults) at 48 px, 4 held-out people with one photo per
# class and 3 LFW photos each.
SMALL = TestbedOptions(identities=3, eval_identities=4, images_per_class=1, size=48, lfw_images=3)
BAD = TestbedOptions(
    identities=3, eval_identities=2, clips_per_identity=2, seconds=8.0, images_per_class=1, size=32
)
runner = CliRunner()


def _without_wheel(tmp: Path) -> pytest.MonkeyPatch:
    patch = pytest.MonkeyPatch()
    patch.setattr(photos, "installed_insightface", lambda: None)
    patch.setattr(photos, "wheel_dirs", lambda: [tmp])
    return patch


@pytest.fixture(scope="module")
def make(tmp_path_factory, backend):
    """Generate a testbed (only scikit-image and matplotlib faces, for determinism); cached per options."""
    made: dict[TestbedOptions, Path] = {}
    patch = _without_wheel(tmp_path_factory.mktemp("wheels"))

    def build(options: TestbedOptions) -> Path:
        if options not in made:
            root = tmp_path_factory.mktemp("testbed")
            generate_testbed(root, options, backend=backend)
            made[options] = root
        return made[options]

    yield build
    patch.undo()


def _clip_descriptors(root: Path) -> pd.DataFrame:
    truth = pd.read_csv(root / "voxceleb" / "ground_truth.csv", dtype={"clip": str, "video_id": str})
    meta = pd.read_csv(root / "voxceleb" / "vox1_meta.csv", sep="\t")
    names = dict(zip(meta["VoxCeleb1 ID"], meta["VGGFace1 ID"], strict=True))
    rows = []
    for clip_id, frames in truth[truth["interval_frame"] == 1].groupby("clip_id"):
        first = frames.sort_values("frame_number").iloc[0]
        path = (
            root / "voxceleb/unzippedIntervalFaces/data" / names[first["voxceleb_id"]] / "1.6"
            / first["video_id"] / "1" / f"{first['frame_number']:07d}.jpg"
        )  # fmt: skip
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        rows.append(
            {"clip_id": clip_id, "identity": first["identity"], "descriptor": border_descriptor(image)}
        )
    return pd.DataFrame(rows)


def test_ground_truth_matches_the_files(make):
    root = make(SMALL)
    truth = pd.read_csv(root / "voxceleb" / "ground_truth.csv", dtype={"clip": str, "video_id": str})
    identities = pd.read_csv(root / "identities.csv", keep_default_na=False)
    pre = identities[identities["group"] == "pretraining"]
    held = identities[identities["group"] == "evaluation"]
    assert len(pre) == 3 and len(held) == 4 and (identities["kind"] == "derived").all()
    assert identities["source"].str.contains("skin").all()
    assert len(truth) == 3 * 2 * 500 and truth["clip_id"].nunique() == 6
    for column in ("expression", "intensity", "identity", "clip_id", "time_s", "background", "clothing"):
        assert truth[column].notna().all()
    assert set(truth["identity"]) == set(pre["name"])
    jpegs = sorted((root / "voxceleb" / "unzippedIntervalFaces" / "data").rglob("*.jpg"))
    assert len(jpegs) == int(truth["interval_frame"].sum()) == 6 * 84
    assert cv2.imread(str(jpegs[0])).shape == (48, 48, 3)
    videos = sorted((root / "voxceleb" / "videos").rglob("*.mp4"))
    assert len(videos) == 6
    capture = cv2.VideoCapture(str(videos[0]))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 500
    capture.release()
    # Evaluation sets: held-out people only, train and test of different people.
    affect = pd.read_csv(root / "affectnet" / "ground_truth.csv")
    assert set(affect["identity"]) <= set(held["name"])
    train_people = set(affect.loc[affect["split"] == "training", "identity"])
    test_people = set(affect.loc[affect["split"] == "validation", "identity"])
    assert train_people and test_people and not train_people & test_people
    assert test_people == set(held.loc[held["eval_split"] == "test", "name"])
    assert len(pd.read_csv(root / "affectnet" / "validation.csv")) == len(test_people) * 8
    fer = pd.read_csv(root / "fer2013" / "ground_truth.csv")
    assert len(fer) == len(pd.read_csv(root / "fer2013" / "fer2013.csv")) == 4 * 7
    by_usage = fer.groupby("Usage")["identity"].agg(set)
    assert not by_usage["Training"] & (by_usage["PublicTest"] | by_usage.get("PrivateTest", set()))
    assert dict(zip(held["name"], held["fer2013_usage"], strict=True)) == dict(
        zip(fer["identity"], fer["Usage"], strict=False)
    )
    lfw = pd.read_csv(root / "lfw" / "ground_truth.csv")
    assert set(lfw["identity"]) == set(held["name"]) and len(lfw) == 4 * SMALL.lfw_images
    assert lfw.groupby("identity")["background"].nunique().min() > 1  # one scene per photo
    for name in held["name"]:
        photos = sorted((root / "lfw" / "lfw_home" / "lfw_funneled" / name).glob("*.jpg"))
        assert [p.name for p in photos] == [f"{name}_{i:04d}.jpg" for i in range(1, SMALL.lfw_images + 1)]
    manifest = json.loads((root / "sample.json").read_text())
    assert manifest["counts"]["lfw"]["images"] == len(lfw)
    assert manifest["profile"] == "testbed" and manifest["gate"]["passed"] is True
    assert sorted(manifest["evaluation_identities"]["test"]) == sorted(test_people)


def test_backgrounds_vary_within_a_person_and_are_tied_in_the_bad_testbed(make):
    def within_person_distance(root: Path) -> float:
        clips = _clip_descriptors(root)
        distances = [
            float(np.abs(group["descriptor"].iloc[0] - group["descriptor"].iloc[1]).sum())
            for _, group in clips.groupby("identity")
        ]
        return float(np.mean(distances))

    per_clip = within_person_distance(make(SMALL))
    tied = within_person_distance(make(TestbedOptions(**{**BAD.__dict__, "scene_per": "identity"})))
    assert per_clip > 0.8  # L1 distance of border histograms (max 2): different backgrounds
    assert tied < 0.5 * per_clip


def test_gate_passes_on_the_small_testbed(make):
    result = run_gate(make(SMALL))
    assert result.passed, result.failure_message()
    values = {c.name: c.value for c in result.checks}
    assert values["TimeAug label agreement"] >= 0.85 and values["HardNeg label difference"] >= 0.8


def test_gate_fails_when_expression_events_are_short(make):
    # The brief's first idea: holds of 2-3.5 s with 1-2 s neutral gaps: TimeAug pairs cross events too often.
    root = make(TestbedOptions(**{**BAD.__dict__, "hold": (2.0, 3.5), "gap": (1.0, 2.0)}))
    result = run_gate(root)
    assert not result.passed
    assert "TimeAug label agreement" in result.failure_message()
    assert "needs >= 0.850" in result.failure_message()
    assert json.loads((root / "sample.json").read_text())["gate"]["passed"] is False


def test_gate_fails_when_background_is_tied_to_identity(make):
    root = make(TestbedOptions(**{**BAD.__dict__, "scene_per": "identity"}))
    result = run_gate(root)
    message = result.failure_message()
    assert "identity from background" in message and "chance" in message
    result = runner.invoke(app, ["sample", str(root), "--check"])
    assert result.exit_code == 2
    assert "testbed gate failed: " in result.output and "identity from background" in result.output
    assert "Traceback" not in result.output


def test_check_passes_on_the_small_testbed_and_names_a_missing_corpus(make, tmp_path):
    result = runner.invoke(app, ["sample", str(make(SMALL)), "--check"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "TimeAug label agreement" in result.output and "FAIL" not in result.output
    result = runner.invoke(app, ["sample", str(tmp_path), "--check"])
    assert result.exit_code == 2 and "holds no sample corpus" in result.output


def test_testbed_cli_rejects_bad_options(tmp_path):
    result = runner.invoke(
        app, ["sample", str(tmp_path / "t"), "--profile", "testbed", "--clips-per-identity", "1"]
    )
    assert result.exit_code == 2 and "--clips-per-identity must be at least 2" in result.output
    result = runner.invoke(app, ["sample", str(tmp_path / "t"), "--profile", "nope"])
    assert result.exit_code == 2 and "--profile must be one of default, testbed" in result.output


# SHA-256 of the pretraining ground truth's state columns (the motion plans: pure numpy draws) of a tiny
# default-profile corpus, recorded before the testbed profile was added: the default profile is unchanged.
DEFAULT_STATES_SHA256 = "0b68cf626b350b6966afb827ba49719080d3e9d292ff1e33ebd21e908baadce5"


def test_default_profile_is_unchanged(tmp_path, no_insightface, backend):
    generate_sample(tmp_path / "d", TINY_SAMPLE_OPTIONS, backend=backend)
    truth = pd.read_csv(tmp_path / "d" / "voxceleb" / "ground_truth.csv")
    columns = [
        "frame",
        "expression",
        "intensity",
        "speech",
        "yaw_deg",
        "pitch_deg",
        "roll_deg",
        "scale",
        "light_gain",
    ]
    digest = hashlib.sha256(truth[columns].to_csv(index=False).encode()).hexdigest()
    assert digest == DEFAULT_STATES_SHA256
