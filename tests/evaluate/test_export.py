"""fercl export: each format loaded by its own library (no fercl) gives fercl's features; the sidecar
says what the network expects; the snippets of docs/export.md run as written; bad input is one error."""

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from fercl_cli import __version__
from fercl_cli.errors import FerclError
from fercl_cli.evaluate import export
from fercl_cli.evaluate.backbones import file_sha256, resolve_backbone
from fercl_cli.evaluate.export import export_backbone, sidecar_path
from fercl_cli.evaluate.features import clean_inputs
from fercl_cli.train import checkpoint
from fercl_cli.train.model import build_model

ROOT = Path(__file__).resolve().parents[2]
SIZE = 32


def _has(*modules: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in modules)


needs_timm = pytest.mark.skipif(not _has("timm"), reason="timm is not installed (pip install timm)")
needs_onnx = pytest.mark.skipif(
    not _has("onnx", "onnxscript", "onnxruntime"),
    reason="onnx, onnxscript and onnxruntime are not installed (pip install 'fercl[onnx]')",
)


def make_run(run_dir: Path, arch: str = "resnet18", size: int | None = None, seed: int = 0) -> Path:
    """A fercl run directory whose backbone has random weights and non-trivial BatchNorm statistics."""
    torch.manual_seed(seed)
    model = build_model(arch)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    config = {"arch": arch, "epochs": 1, **({"size": size} if size is not None else {})}
    checkpoint.save(run_dir / "last.pt", {"model": model.state_dict(), "config": config})
    return run_dir


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run", size=SIZE)


def _images(n: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


def _fercl_features(spec: str, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return resolve_backbone(spec).module(x)


def test_the_torchvision_export_loads_strictly_into_plain_torchvision(run: Path, tmp_path: Path):
    out = tmp_path / "out" / "face.pth"
    sidecar = export_backbone(str(run), "torchvision", out)
    state = torch.load(out, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert not any(k.startswith("fc.") for k in state)
    model = torchvision.models.resnet18()
    model.fc = nn.Identity()
    model.load_state_dict(state)  # strict
    x = _images()
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), _fercl_features(str(run), x), rtol=0, atol=0)
    classifier = torchvision.models.resnet18(num_classes=7)
    missing, unexpected = classifier.load_state_dict(state, strict=False)
    assert set(missing) == {"fc.weight", "fc.bias"} and not unexpected
    assert sorted(os.listdir(out.parent)) == ["face.pth", "face.pth.json"]  # no temporary file left
    assert sidecar["sidecar"] == str(sidecar_path(out))


def test_the_sidecar_states_input_source_and_versions(run: Path, tmp_path: Path):
    out = tmp_path / "face.pth"
    returned = export_backbone(str(run), "torchvision", out)
    sidecar = json.loads(sidecar_path(out).read_text())
    assert sidecar == {k: v for k, v in returned.items() if k != "sidecar"}
    assert (sidecar["format"], sidecar["export_format"], sidecar["arch"], sidecar["feature_dim"]) == (
        "fercl-export",
        "torchvision",
        "resnet18",
        512,
    )
    assert sidecar["sha256"] == file_sha256(out)
    assert sidecar["source"]["hash"] == file_sha256(run / "last.pt")
    assert sidecar["source"]["path"] == str(run / "last.pt") and sidecar["source"]["kind"] == "fercl"
    assert sidecar["input"]["shape"] == ["N", 3, SIZE, SIZE]
    assert sidecar["input"]["size_from"] == "the size the checkpoint was trained at"
    assert sidecar["input"]["mean"] == [0.485, 0.456, 0.406]
    assert sidecar["input"]["std"] == [0.229, 0.224, 0.225]
    assert sidecar["fercl_version"] == __version__ and sidecar["torch_version"] == torch.__version__
    assert "no fc.* keys" in sidecar["classifier"]
    default = export_backbone(str(make_run(tmp_path / "plain")), "torchvision", tmp_path / "plain.pth")
    assert (default["input"]["size"], default["input"]["size_from"]) == (112, "the default")
    asked = export_backbone(str(run), "torchvision", tmp_path / "asked.pth", size=48)
    assert (asked["input"]["size"], asked["input"]["size_from"]) == (48, "--size")


def _run_snippet(code: str, namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    exec(compile(code, "<snippet>", "exec"), namespace)
    return namespace


def test_the_sidecar_snippet_runs_as_written(run: Path, tmp_path: Path):
    sidecar = export_backbone(str(run), "torchvision", tmp_path / "face.pth")
    model = _run_snippet(sidecar["load"])["model"]
    x = _images()
    with torch.no_grad():
        torch.testing.assert_close(model(x), _fercl_features(str(run), x), rtol=0, atol=0)


@needs_timm
def test_the_timm_export_loads_into_timm_with_the_same_features(tmp_path: Path):
    import timm

    run = make_run(tmp_path / "run50", arch="resnet50", size=SIZE)
    out = tmp_path / "face50.timm.pth"
    sidecar = export_backbone(str(run), "timm", out)
    model = timm.create_model("resnet50", pretrained=False, num_classes=0)
    model.load_state_dict(torch.load(out, weights_only=True))  # strict
    x = _images()
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), _fercl_features(str(run), x))
    snippet_model = _run_snippet(sidecar["load"])["model"]
    with torch.no_grad():
        torch.testing.assert_close(snippet_model(x), _fercl_features(str(run), x))


def test_timm_keys_are_torchvision_keys_without_fc(run: Path, tmp_path: Path):
    """Holds without timm installed: the timm export is torchvision's names, fc left out (timm's
    resnet18/50 with num_classes=0 have exactly these keys: the test above checks it with timm)."""
    export_backbone(str(run), "timm", tmp_path / "face.timm.pth")
    keys = set(torch.load(tmp_path / "face.timm.pth", weights_only=True))
    assert keys == {k for k in torchvision.models.resnet18().state_dict() if not k.startswith("fc.")}


@needs_onnx
def test_the_onnx_export_matches_pytorch_for_any_batch_size(run: Path, tmp_path: Path):
    import onnx
    import onnxruntime

    out = tmp_path / "face.onnx"
    sidecar = export_backbone(str(run), "onnx", out)
    onnx.checker.check_model(str(out))
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (graph_input,) = session.get_inputs()
    assert (graph_input.name, graph_input.shape[1:]) == ("images", [3, SIZE, SIZE])
    assert isinstance(graph_input.shape[0], str)  # symbolic: the batch axis is dynamic
    for n in (1, 5):
        x = _images(n, seed=n)
        (got,) = session.run(["features"], {"images": x.numpy()})
        np.testing.assert_allclose(got, _fercl_features(str(run), x).numpy(), rtol=1e-4, atol=1e-4)
    check = sidecar["onnx"]["check"]
    assert check["runtime"].startswith("onnxruntime") and check["max_abs_diff"] <= check["tolerance"]
    assert sidecar["onnx"]["opset"] == 18 and sidecar["input"]["shape"] == ["N", 3, SIZE, SIZE]
    assert sorted(os.listdir(tmp_path)) == ["face.onnx", "face.onnx.json", "run"]


@needs_onnx
def test_an_onnx_graph_that_differs_from_pytorch_is_not_kept(run: Path, tmp_path: Path, monkeypatch):
    real = export.check_onnx

    def against_other_weights(path, module, size):
        other = resolve_backbone("random", arch="resnet18", seed=5).module
        return real(path, other, size)

    monkeypatch.setattr(export, "check_onnx", against_other_weights)
    out = tmp_path / "face.onnx"
    with pytest.raises(FerclError, match=r"face\.onnx: the ONNX graph's features differ from PyTorch's by"):
        export_backbone(str(run), "onnx", out)
    assert sorted(os.listdir(tmp_path)) == ["run"]


@needs_onnx
def test_without_onnxruntime_only_the_checker_runs_and_the_sidecar_says_so(run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    sidecar = export_backbone(str(run), "onnx", tmp_path / "face.onnx")
    check = sidecar["onnx"]["check"]
    assert check["runtime"] is None and "numbers were not compared" in check["checked"]


def test_onnx_without_the_exporter_packages_is_one_error(run: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(FerclError, match=r"--format onnx needs the onnx and onnxscript packages"):
        export_backbone(str(run), "onnx", tmp_path / "face.onnx")
    assert not (tmp_path / "face.onnx").exists()


def test_a_foreign_checkpoint_exports_its_backbone(tmp_path: Path):
    torch.manual_seed(2)
    resnet = torchvision.models.resnet18()
    resnet.fc = nn.Identity()
    state = {f"module.encoder_q.{k}": v for k, v in resnet.state_dict().items()}
    torch.save({"epoch": 200, "arch": "resnet18", "state_dict": state}, tmp_path / "moco.pth.tar")
    sidecar = export_backbone(str(tmp_path / "moco.pth.tar"), "torchvision", tmp_path / "moco.pth")
    exported = torch.load(tmp_path / "moco.pth", weights_only=True)
    assert exported.keys() == resnet.state_dict().keys()
    assert all(torch.equal(exported[k], v) for k, v in resnet.state_dict().items())
    assert sidecar["source"]["kind"] == "imported" and sidecar["input"]["size_from"] == "the default"


def test_bad_requests_are_one_line_errors_naming_the_file(run: Path, tmp_path: Path):
    with pytest.raises(FerclError, match="--format must be one of torchvision, timm, onnx, got 'keras'"):
        export_backbone(str(run), "keras", tmp_path / "x.h5")
    with pytest.raises(FerclError, match="--size must be at least 16 px"):
        export_backbone(str(run), "torchvision", tmp_path / "x.pth", size=8)
    with pytest.raises(FerclError, match="is a folder; give the file to write"):
        export_backbone(str(run), "torchvision", tmp_path)
    with pytest.raises(FerclError, match="that is the checkpoint being exported"):
        export_backbone(str(run), "torchvision", run / "last.pt")
    torch.save(torchvision.models.vgg11().state_dict(), tmp_path / "vgg.pth")
    with pytest.raises(FerclError) as caught:
        export_backbone(str(tmp_path / "vgg.pth"), "onnx", tmp_path / "vgg.onnx")
    assert str(caught.value).startswith(f"{tmp_path / 'vgg.pth'}: no ResNet-18/50 backbone found")
    odd = {"model": {"backbone.conv.weight": torch.zeros(2)}, "config": {"arch": "vit_b_16"}}
    checkpoint.save(tmp_path / "vit.pt", odd)
    with pytest.raises(
        FerclError,
        match=r"vit\.pt: the backbone weights fit none of resnet18, resnet50, resnet18-cifar, smallcnn",
    ):
        export_backbone(str(tmp_path / "vit.pt"), "torchvision", tmp_path / "vit.pth")
    assert not (tmp_path / "vgg.onnx").exists() and not (tmp_path / "vit.pth").exists()


def _doc_snippets() -> dict[str, str]:
    text = (ROOT / "docs" / "export.md").read_text()
    return dict(re.findall(r"<!-- snippet: ([\w-]+) -->\n```python\n(.*?)```", text, flags=re.DOTALL))


# (format, exported file, tolerance of the loaded model's features, the fine-tuned model's classifier):
# torchvision's loader must give fercl's features exactly.
DOC_SNIPPETS = [
    pytest.param(
        "torchvision", "face-resnet18.pth", {"rtol": 0, "atol": 0}, lambda m: m.fc, id="torchvision"
    ),
    pytest.param(
        "timm", "face-resnet18.timm.pth", {}, lambda m: m.get_classifier(), id="timm", marks=needs_timm
    ),
]


@pytest.mark.parametrize(("fmt", "filename", "tolerance", "classifier"), DOC_SNIPPETS)
def test_docs_export_md_snippets_run_as_written(
    run, tmp_path, monkeypatch, fmt, filename, tolerance, classifier
):
    snippets = _doc_snippets()
    export_backbone(str(run), fmt, tmp_path / filename)
    monkeypatch.chdir(tmp_path)
    namespace = _run_snippet(snippets[fmt])
    x = _images()
    with torch.no_grad():
        torch.testing.assert_close(namespace["model"](x), _fercl_features(str(run), x), **tolerance)
    finetuned = _run_snippet(snippets[f"{fmt}-finetune"], namespace)["model"]
    assert torch.equal(finetuned.layer4[1].conv2.weight, namespace["model"].layer4[1].conv2.weight)
    assert classifier(finetuned).out_features == 7


@needs_onnx
def test_docs_export_md_onnx_snippet_runs_as_written_on_uint8_crops(run, tmp_path, monkeypatch):
    export_backbone(str(run), "onnx", tmp_path / "face-resnet18.onnx")
    crops = np.random.default_rng(0).integers(0, 256, size=(3, SIZE, SIZE, 3), dtype=np.uint8)
    monkeypatch.chdir(tmp_path)
    features = _run_snippet(_doc_snippets()["onnx"], {"crops": crops})["features"]
    with torch.no_grad():  # fercl's own preprocessing of the same crops
        expected = resolve_backbone(str(run)).module(clean_inputs(crops, SIZE, torch.device("cpu")))
    np.testing.assert_allclose(features, expected.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("arch", ["smallcnn", "resnet18-cifar"])
@pytest.mark.parametrize("fmt", ["torchvision", "timm"])
def test_state_dict_exports_of_archs_torchvision_lacks_are_refused_naming_the_arch(arch, fmt, tmp_path):
    run = make_run(tmp_path / "run", arch=arch, size=SIZE)
    out = tmp_path / "face.pth"
    with pytest.raises(FerclError) as error:
        export_backbone(str(run), fmt, out)
    message = str(error.value)
    assert message == (
        f"--format {fmt}: {run} is a {arch} backbone, which neither torchvision nor timm has (their exports "
        "are resnet18 and resnet50 only); export it with --format onnx"
    )
    assert not out.exists() and not sidecar_path(out).exists()
    with pytest.raises(FerclError, match=f"is a {arch} backbone"):
        export_backbone("random", fmt, out, arch=arch)


@needs_onnx
def test_a_smallcnn_exports_as_onnx_with_the_same_features(tmp_path: Path):
    import onnxruntime

    run = make_run(tmp_path / "run", arch="smallcnn", size=SIZE)
    out = tmp_path / "small.onnx"
    sidecar = export_backbone(str(run), "onnx", out)
    assert (sidecar["arch"], sidecar["feature_dim"]) == ("smallcnn", 256)
    assert sidecar["output"] == "pooled features float32 [N, 256] (the smallcnn backbone)"
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = _images(5)
    got = session.run(["features"], {"images": x.numpy()})[0]
    np.testing.assert_allclose(got, _fercl_features(str(run), x).numpy(), atol=1e-4, rtol=1e-4)
