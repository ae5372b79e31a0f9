"""``fercl export`` on the command line: JSON for scripts, a table and the loading snippet for people,
one ``error:`` line for bad input, and no unpickling."""

import json
from pathlib import Path

import torch
import torchvision
from torch import nn
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.evaluate.backbones import resolve_backbone
from tests.commands.test_checkpoint import write_malicious
from tests.evaluate.test_export import make_run

runner = CliRunner()


def test_export_json_gives_the_sidecar_and_the_file_loads_into_torchvision(tmp_path: Path):
    run = make_run(tmp_path / "run", size=32)
    out = tmp_path / "exports" / "face.pth"
    result = runner.invoke(app, ["export", str(run), "--format", "torchvision", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    sidecar = json.loads(result.stdout)
    assert sidecar["file"] == str(out) and sidecar["sidecar"] == str(out) + ".json"
    assert json.loads(Path(sidecar["sidecar"]).read_text())["sha256"] == sidecar["sha256"]
    model = torchvision.models.resnet18()
    model.fc = nn.Identity()
    model.load_state_dict(torch.load(out, weights_only=True))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), resolve_backbone(str(run)).module(x))


def test_export_prints_a_table_and_the_loading_snippet(tmp_path: Path):
    out = tmp_path / "random.timm.pth"
    args = ["export", "random", "--arch", "resnet18", "--format", "timm", "--out", str(out), "--size", "48"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "fercl export" in result.output and "S = 48 px (--size)" in result.output
    assert 'timm.create_model("resnet18", pretrained=False, num_classes=0)' in result.output
    assert f"torch.load({json.dumps(str(out))}, weights_only=True)" in result.output


def test_bad_input_is_one_error_line(tmp_path: Path):
    run = make_run(tmp_path / "run")
    wrong = runner.invoke(app, ["export", str(run), "--format", "keras", "--out", str(tmp_path / "x")])
    assert wrong.exit_code == 2 and wrong.output.strip().startswith("error: --format must be one of")
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "vgg.pth")
    foreign = runner.invoke(
        app,
        ["export", str(tmp_path / "vgg.pth"), "--format", "torchvision", "--out", str(tmp_path / "v.pth")],
    )
    assert foreign.exit_code == 2 and "Traceback" not in foreign.output
    lines = foreign.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'vgg.pth'}: no ResNet-18/50 backbone")
    random_without_arch = runner.invoke(
        app, ["export", "random", "--format", "onnx", "--out", str(tmp_path / "r.onnx")]
    )
    assert (
        random_without_arch.exit_code == 2
        and "needs --arch (one of resnet18, resnet50, resnet18-cifar, smallcnn)" in random_without_arch.output
    )


def test_export_refuses_a_malicious_checkpoint_without_running_it(tmp_path: Path):
    marker = tmp_path / "marker"
    evil = write_malicious(tmp_path / "evil" / "last.pt", marker)
    for spec in (str(evil), str(evil.parent)):
        result = runner.invoke(
            app, ["export", spec, "--format", "torchvision", "--out", str(tmp_path / "e.pth")]
        )
        assert result.exit_code == 2 and "refused" in result.output, result.output
    assert not marker.exists() and not (tmp_path / "e.pth").exists()
