"""Checkpoint safety: a malicious pickle given to every loader is refused before it can run, and
``fercl checkpoint convert --trust`` is the only way an old (pickled) checkpoint is read."""

import ast
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.demo.runs import run_pretraining
from fercl_cli.train import checkpoint
from fercl_cli.train.config import resolve
from tests.evaluate.data import INPUT_SIZE, make_fer2013_csv
from tests.factories.stores import write_tiny_store

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


class _Payload:
    """Unpickling this runs ``exec`` of code that writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def write_malicious(path: Path, marker: Path) -> Path:
    """A .pt file shaped like a fercl checkpoint whose unpickling writes ``marker``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": {"w": torch.zeros(1)}, "config": {"arch": "resnet18"}, "x": _Payload(marker)}, path)
    return path


def write_legacy(path: Path) -> Path:
    """A checkpoint as fercl before format 2 wrote it: NumPy's RNG state pickled as a tuple with an ndarray."""
    torch.manual_seed(0)
    from fercl_cli.train.model import build_model

    rng = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    payload = {"model": build_model("resnet18").state_dict(), "config": {"arch": "resnet18"}, "rng": rng}
    payload.update(epoch=1, batch=0, step=3)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path


@pytest.fixture
def evil(tmp_path) -> tuple[Path, Path]:
    marker = tmp_path / "marker"
    return write_malicious(tmp_path / "evil" / "last.pt", marker), marker


def _refused(result, marker: Path) -> None:
    assert result.exit_code == 2, result.output
    assert not marker.exists(), "the pickle's payload ran"
    assert "Traceback" not in result.output
    assert "refused" in result.output or "not a" in result.output, result.output


def test_evaluate_refuses_a_malicious_checkpoint_file_and_run_directory(evil, tmp_path):
    path, marker = evil
    fer = make_fer2013_csv(tmp_path / "fer" / "fer2013.csv")
    for spec in (str(path), str(path.parent), f"imagenet:{path}"):
        result = runner.invoke(
            app,
            [
                "evaluate",
                "--task",
                "fer2013",
                "--data",
                str(fer),
                "--size",
                str(INPUT_SIZE),
                "--checkpoint",
                spec,
            ],
        )
        _refused(result, marker)
    assert (
        "fercl checkpoint convert"
        in runner.invoke(
            app, ["evaluate", "--task", "fer2013", "--data", str(fer), "--checkpoint", str(path)]
        ).output
    )


def test_pretrain_resume_refuses_a_malicious_last_pt(evil, tmp_path):
    path, marker = evil
    store = write_tiny_store(tmp_path / "faces.h5")
    args = [
        "pretrain",
        str(store),
        "--out",
        str(path.parent),
        "--resume",
        "--arch",
        "resnet18",
        "--size",
        "24",
    ]
    _refused(runner.invoke(app, [*args, "--batch-clips", "2", "--workers", "0", "--device", "cpu"]), marker)


def test_describe_report_inspect_and_convert_without_trust_never_unpickle(evil, tmp_path):
    path, marker = evil
    store = write_tiny_store(tmp_path / "faces.h5")
    _refused(
        runner.invoke(app, ["describe", str(store), "--kind", "resnet18", "--weights", str(path)]), marker
    )
    _refused(runner.invoke(app, ["report", str(path)]), marker)
    _refused(runner.invoke(app, ["inspect", str(path)]), marker)
    result = runner.invoke(app, ["checkpoint", "convert", str(path), str(tmp_path / "new.pt")])
    assert result.exit_code == 2 and "--trust" in result.output and not marker.exists()


def test_the_demo_chain_refuses_a_malicious_checkpoint(evil, tmp_path):
    path, marker = evil
    store = write_tiny_store(tmp_path / "faces.h5")
    config = resolve({}, {"store": str(store), "out": str(path.parent), "arch": "resnet18", "epochs": 1})
    from fercl_cli.errors import FerclError

    with pytest.raises(FerclError, match="refused"):
        run_pretraining(config, lambda step, total: None)
    assert not marker.exists()


def test_an_old_checkpoint_is_refused_then_converted_with_trust(tmp_path):
    old = write_legacy(tmp_path / "old" / "last.pt")
    result = runner.invoke(
        app, ["evaluate", "--task", "lfw", "--data", str(tmp_path), "--checkpoint", str(old)]
    )
    assert result.exit_code == 2 and f"fercl checkpoint convert {old} NEW.pt --trust" in result.output
    new = tmp_path / "new" / "last.pt"
    converted = runner.invoke(app, ["checkpoint", "convert", str(old), str(new), "--trust", "--json"])
    assert converted.exit_code == 0, converted.output
    summary = json.loads(converted.stdout)
    assert summary["step"] == 3 and summary["arch"] == "resnet18" and summary["format"] == checkpoint.FORMAT
    loaded = checkpoint.load(new)
    legacy = torch.load(old, weights_only=False)
    assert all(torch.equal(loaded["model"][k], v) for k, v in legacy["model"].items())
    checkpoint.set_rng_state(loaded["rng"])
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    random.setstate(legacy["rng"]["python"])
    np.random.set_state(legacy["rng"]["numpy"])
    torch.set_rng_state(legacy["rng"]["torch"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_convert_refuses_to_overwrite_its_input(tmp_path):
    old = write_legacy(tmp_path / "old.pt")
    result = runner.invoke(app, ["checkpoint", "convert", str(old), str(old), "--trust"])
    assert result.exit_code == 2 and "new file" in result.output


def test_a_legacy_run_converted_with_trust_resumes_to_the_uninterrupted_weights(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5")
    small = ["--arch", "resnet18", "--size", "24", "--batch-clips", "2", "--workers", "0", "--device", "cpu"]
    common = ["pretrain", str(store), *small, "--epochs", "2", "--seed", "3"]
    assert runner.invoke(app, [*common, "--out", str(tmp_path / "straight")]).exit_code == 0
    assert runner.invoke(app, [*common, "--out", str(tmp_path / "cut"), "--max-steps", "2"]).exit_code == 0
    last = tmp_path / "cut" / "last.pt"
    payload = torch.load(last, weights_only=True)
    rng = payload["rng"]["numpy"]
    payload["rng"]["numpy"] = (
        rng["bit_generator"],
        rng["key"].numpy().astype(np.uint32),
        rng["pos"],
        rng["has_gauss"],
        rng["cached_gaussian"],
    )
    del payload["format"]
    torch.save(payload, last)  # now exactly what fercl before format 2 wrote
    refused = runner.invoke(app, [*common, "--out", str(tmp_path / "cut"), "--resume"])
    assert refused.exit_code == 2 and "fercl checkpoint convert" in refused.output
    converted = tmp_path / "converted.pt"
    assert runner.invoke(app, ["checkpoint", "convert", str(last), str(converted), "--trust"]).exit_code == 0
    converted.replace(last)
    resumed = runner.invoke(app, [*common, "--out", str(tmp_path / "cut"), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    a = checkpoint.load(tmp_path / "straight")["model"]
    b = checkpoint.load(tmp_path / "cut")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def _torch_load_calls(path: Path) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "load"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "torch"
    ]


def test_torch_load_is_called_safely_everywhere_but_the_convert_module():
    calls = {
        str(path.relative_to(ROOT)): _torch_load_calls(path)
        for path in (ROOT / "fercl_cli").rglob("*.py")
        if _torch_load_calls(path)
    }
    assert sorted(calls) == ["fercl_cli/safe_load.py", "fercl_cli/train/convert.py"]
    for where, found in calls.items():
        flags = [
            next((kw.value.value for kw in call.keywords if kw.arg == "weights_only"), None) for call in found
        ]
        assert flags == ([False] if where.endswith("convert.py") else [True]), where
    unsafe = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "fercl_cli").rglob("*.py")
        if re.search(r"weights_only\s*=\s*False", path.read_text())
    ]
    assert unsafe == ["fercl_cli/train/convert.py"]
