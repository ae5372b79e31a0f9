"""Backbone exports that load without fercl: a torchvision or timm state dict, or an ONNX graph, each with a
sidecar JSON (``FILE.json``) stating the architecture, the input the network expects and where it came from.

- ``torchvision`` / ``timm``: the backbone's tensors only (``torch.save`` of a dict of tensors), under
  torchvision's ResNet names, which timm's ``resnet18`` / ``resnet50`` share. No ``fc``: fercl's backbone
  has no classifier, so the file loads strictly into a model whose ``fc`` is the identity (torchvision)
  or absent (timm ``num_classes=0``), and with ``strict=False`` into one with a new classifier to train.
- ``onnx``: images float32 [N, 3, S, S] → pooled features float32 [N, F], batch axis dynamic, written by
  ``torch.onnx.export``'s torch.export-based exporter (needs ``onnx`` and ``onnxscript``) at opset
  :data:`ONNX_OPSET`, then run with onnxruntime on a test batch and compared with PyTorch before it is
  kept (without onnxruntime only ``onnx.checker`` runs, and the sidecar says so).

torchvision and timm have no ``resnet18-cifar`` or ``smallcnn`` model, so those fercl architectures
export as ONNX only (``--format torchvision|timm`` is refused with one line naming the architecture).

Input of every format: RGB, scaled to [0, 1], minus the ImageNet mean, over its std, S × S pixels (S: the
size the checkpoint was trained at, or ``--size``), cut from fercl's aligned face crops.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fercl_cli import __version__
from fercl_cli.errors import FerclError
from fercl_cli.evaluate.backbones import Backbone, file_sha256, resolve_backbone
from fercl_cli.evaluate.features import network_input_size, stored_size
from fercl_cli.space import payload_bytes, write_atomic, write_text_atomic
from fercl_cli.train.archs import TORCHVISION_ARCHS

if TYPE_CHECKING:
    import torch

FORMATS = ("torchvision", "timm", "onnx")
SIDECAR_FORMAT = "fercl-export"
ONNX_OPSET = 18
ONNX_INPUT, ONNX_OUTPUT = "images", "features"
ONNX_TOLERANCE = 1e-4
"""Largest accepted ``max |onnxruntime − PyTorch|``, relative to ``max(1, max |PyTorch features|)``."""
ONNX_CHECK_BATCH = 3

_NO_CLASSIFIER = (
    "none: the file holds no fc.* keys; load it strictly with fc = Identity (torchvision) or num_classes=0 "
    "(timm), or with strict=False into a model with a new classifier to train"
)
_SNIPPETS = {
    "torchvision": """import torch
import torchvision

model = torchvision.models.{arch}()
model.fc = torch.nn.Identity()  # the export has no classifier: outputs are {dim}-d features
model.load_state_dict(torch.load({file}, weights_only=True))
model.eval()
""",
    "timm": """import timm
import torch

model = timm.create_model("{arch}", pretrained=False, num_classes=0)  # num_classes=0: pooled features
model.load_state_dict(torch.load({file}, weights_only=True))
model.eval()
""",
    "onnx": """import numpy as np
import onnxruntime as ort

session = ort.InferenceSession({file}, providers=["CPUExecutionProvider"])
mean = np.array({mean}, np.float32).reshape(1, 3, 1, 1)
std = np.array({std}, np.float32).reshape(1, 3, 1, 1)
images = crops.astype(np.float32).transpose(0, 3, 1, 2) / 255  # crops: uint8 [N, {size}, {size}, 3] RGB
features = session.run(["features"], {{"images": (images - mean) / std}})[0]  # float32 [N, {dim}]
""",
}


def sidecar_path(out: Path) -> Path:
    """Where the sidecar JSON of the export ``out`` goes: ``out`` plus ``.json``."""
    return out.with_name(out.name + ".json")


def loading_snippet(fmt: str, backbone: Backbone, out: Path, size: int) -> str:
    """Python that loads the export ``out`` of ``fmt`` without fercl (as in docs/export.md)."""
    from fercl_cli.train.views import IMAGENET_MEAN, IMAGENET_STD

    return _SNIPPETS[fmt].format(
        arch=backbone.arch,
        dim=backbone.feature_dim,
        file=json.dumps(str(out)),
        mean=list(IMAGENET_MEAN),
        std=list(IMAGENET_STD),
        size=size,
    )


def _state_dict(backbone: Backbone) -> dict[str, Any]:
    """The backbone's tensors (torchvision names, no ``fc``), contiguous CPU copies."""
    return {k: v.detach().cpu().contiguous().clone() for k, v in backbone.module.state_dict().items()}


def check_onnx(path: Path, module: torch.nn.Module, size: int) -> dict[str, Any]:
    """Run the ONNX file ``path`` and ``module`` (PyTorch, float32, CPU) on the same seeded batch of
    :data:`ONNX_CHECK_BATCH` images [B, 3, size, size] (not the traced batch size, so the batch axis is
    exercised) and report the largest difference; ``onnx.checker`` only when onnxruntime is absent."""
    import numpy as np
    import torch

    try:
        import onnxruntime
    except ImportError:
        import onnx

        onnx.checker.check_model(str(path))
        return {
            "runtime": None,
            "checked": "structure only (onnx.checker): onnxruntime is not installed, so the numbers were "
            "not compared; pip install onnxruntime and export again to compare them",
        }
    images = torch.randn(ONNX_CHECK_BATCH, 3, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = module(images).numpy()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run([ONNX_OUTPUT], {ONNX_INPUT: images.numpy()})[0]
    diff = float(np.abs(got - expected).max()) if got.shape == expected.shape else float("inf")
    scale = max(1.0, float(np.abs(expected).max()))
    return {
        "runtime": f"onnxruntime {onnxruntime.__version__}",
        "checked": f"onnxruntime vs PyTorch on {ONNX_CHECK_BATCH} seeded random inputs",
        "max_abs_diff": diff,
        "tolerance": ONNX_TOLERANCE * scale,
    }


def _require_onnx_exporter() -> None:
    try:
        import onnx  # noqa: F401 - torch.onnx.export needs both
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise FerclError(
            f"--format onnx needs the onnx and onnxscript packages ({exc.name} is not installed): "
            "pip install 'fercl[onnx]' (onnx, onnxscript, onnxruntime)"
        ) from None


def _write_onnx(backbone: Backbone, out: Path, size: int) -> dict[str, Any]:
    import torch

    _require_onnx_exporter()
    module = backbone.module.eval()
    example = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    check: dict[str, Any] = {}

    def write(tmp: Path) -> None:
        torch.onnx.export(
            module,
            (example,),
            tmp,
            input_names=[ONNX_INPUT],
            output_names=[ONNX_OUTPUT],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            opset_version=ONNX_OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
        check.update(check_onnx(tmp, module, size))
        if check["runtime"] is not None and not check["max_abs_diff"] <= check["tolerance"]:
            raise FerclError(
                f"{out}: the ONNX graph's features differ from PyTorch's by {check['max_abs_diff']:.3g} "
                f"(tolerance {check['tolerance']:.3g}); nothing was written: export to torchvision instead, "
                "and report this with your torch and onnxscript versions"
            )

    write_atomic(out, payload_bytes(backbone.module.state_dict()) + (1 << 20), write)
    return {
        "opset": ONNX_OPSET,
        "input": ONNX_INPUT,
        "output": ONNX_OUTPUT,
        "dynamic_axes": {ONNX_INPUT: {"0": "batch"}, ONNX_OUTPUT: {"0": "batch"}},
        "exporter": f"torch.onnx.export(dynamo=True), torch {torch.__version__}",
        "check": check,
    }


def _write_state_dict(backbone: Backbone, out: Path) -> None:
    import torch

    state = _state_dict(backbone)
    write_atomic(out, payload_bytes(state) + (1 << 16), lambda tmp: torch.save(state, tmp))


def _input(size: int, why: str) -> dict[str, Any]:
    from fercl_cli.train.views import IMAGENET_MEAN, IMAGENET_STD

    crop = stored_size(size)
    return {
        "shape": ["N", 3, size, size],
        "size": size,
        "size_from": why,
        "dtype": "float32",
        "channels": "RGB",
        "scale": "pixel / 255, then (x - mean) / std per channel",
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
        "faces": f"fercl's aligned face crops ({crop}×{crop}, docs/faces.md), centre-cropped to {size}×{size}",
    }


def _check_format(fmt: str, backbone: Backbone) -> None:
    """torchvision and timm exports only for the architectures both libraries have."""
    if fmt != "onnx" and backbone.arch not in TORCHVISION_ARCHS:
        raise FerclError(
            f"--format {fmt}: {backbone.spec} is a {backbone.arch} backbone, which neither torchvision nor timm "
            f"has (their exports are {' and '.join(TORCHVISION_ARCHS)} only); export it with --format onnx"
        )


def _check_out(out: Path, backbone: Backbone) -> None:
    if out.is_dir():
        raise FerclError(f"--out {out} is a folder; give the file to write, e.g. {out / 'backbone.pth'}")
    if backbone.path is not None and out.resolve() == backbone.path.resolve():
        raise FerclError(
            f"--out {out}: that is the checkpoint being exported; write the export to a new file"
        )


def export_backbone(
    spec: str, fmt: str, out: str | Path, arch: str | None = None, size: int | None = None
) -> dict[str, Any]:
    """Export the backbone ``spec`` names (anything ``fercl evaluate --checkpoint`` takes) as ``fmt`` to
    ``out`` and write the sidecar JSON next to it; returns the sidecar's content and, under ``sidecar``,
    its path.

    Args:
        spec: fercl run directory or checkpoint, another library's ResNet checkpoint,
            ``torchvision:PATH``, or ``random`` (with ``arch``).
        fmt: one of :data:`FORMATS`.
        out: the file to write (replaced if it exists, never half-written).
        arch: the architecture expected (one of :data:`~fercl_cli.train.archs.ARCH_NAMES`); needed for
            ``random``. ``torchvision`` / ``timm`` take ``resnet18`` / ``resnet50`` only.
        size: network input side S in px; default: the size a fercl checkpoint was trained at, else 112.

    Raises:
        FerclError: unknown format, a checkpoint of no known architecture (the message names the file), a
            torchvision/timm export of an architecture those libraries lack,
            a bad ``out`` or ``size``, ONNX packages missing, or an ONNX graph that does not match PyTorch.
    """
    import torch

    if fmt not in FORMATS:
        raise FerclError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if size is not None and size < 16:
        raise FerclError(f"--size must be at least 16 px, got {size}")
    out = Path(out)
    backbone = resolve_backbone(spec, arch)
    _check_format(fmt, backbone)
    _check_out(out, backbone)
    size, why = network_input_size(backbone.config.get("size"), size)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "onnx":
        details = {"onnx": _write_onnx(backbone, out, size)}
    else:
        _write_state_dict(backbone, out)
        details = {"classifier": _NO_CLASSIFIER}
    sidecar = {
        "format": SIDECAR_FORMAT,
        "version": 1,
        "export_format": fmt,
        "file": str(out),
        "sha256": file_sha256(out),
        "arch": backbone.arch,
        "feature_dim": backbone.feature_dim,
        "input": _input(size, why),
        "output": f"pooled features float32 [N, {backbone.feature_dim}] "
        + (
            "(the ResNet without fc)"
            if backbone.arch in TORCHVISION_ARCHS
            else f"(the {backbone.arch} backbone)"
        ),
        **details,
        "load": loading_snippet(fmt, backbone, out, size),
        "source": backbone.to_dict(),
        "fercl_version": __version__,
        "torch_version": torch.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        path = write_text_atomic(sidecar_path(out), json.dumps(sidecar, indent=2) + "\n")
    except FerclError:  # a full disk: no export without its sidecar
        out.unlink(missing_ok=True)
        raise
    return {**sidecar, "sidecar": str(path)}
