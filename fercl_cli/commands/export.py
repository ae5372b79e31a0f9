"""``fercl export``: a backbone as a torchvision or timm state dict, or as ONNX, for use without fercl."""

from __future__ import annotations

from pathlib import Path

import typer

from fercl_cli.train.archs import ARCH_HELP


def export(
    run: str = typer.Argument(
        ...,
        help="fercl run directory or checkpoint file; also anything evaluate's --checkpoint takes (another "
        "library's ResNet checkpoint, torchvision:PATH, random with --arch).",
    ),
    fmt: str = typer.Option(..., "--format", help="torchvision | timm | onnx."),
    out: Path = typer.Option(..., "--out", help="File to write; FILE.json is written next to it."),
    arch: str | None = typer.Option(
        None,
        "--arch",
        help=f"{ARCH_HELP}: the architecture expected (needed for 'random'); torchvision and timm exports "
        "exist for resnet18 and resnet50 only.",
    ),
    size: int | None = typer.Option(
        None,
        "--size",
        help="Network input side S in px (the ONNX input shape, and the size stated for the others); "
        "default: the size the checkpoint was trained at, else 112.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the sidecar JSON."),
) -> None:
    """Export a backbone for use without fercl: a torchvision or timm state dict, or an ONNX graph.

    FILE.json states the architecture, the input (RGB, pixel / 255, ImageNet mean/std, S×S aligned face crop), the source checkpoint's hash, the fercl version and a loading snippet. The state dicts hold no fc; the ONNX graph maps images [N, 3, S, S] to features [N, F] and is compared with PyTorch before it is kept. Loading (docs/export.md):

    torchvision: m = torchvision.models.resnet18(); m.fc = torch.nn.Identity(); m.load_state_dict(torch.load(FILE, weights_only=True))

    timm: m = timm.create_model("resnet18", pretrained=False, num_classes=0); m.load_state_dict(torch.load(FILE, weights_only=True))

    onnx: onnxruntime.InferenceSession(FILE).run(["features"], {"images": x})[0], x float32 [N, 3, S, S]

    Example: fercl export runs/timeaug --format onnx --out exports/timeaug.onnx
    """
    from fercl_cli import report
    from fercl_cli.evaluate.export import export_backbone

    sidecar = export_backbone(run, fmt, out, arch=arch, size=size)
    if json_output:
        report.print_json(sidecar)
        return
    size_line = f"{sidecar['input']['size']} px ({sidecar['input']['size_from']})"
    rows = [
        ("file", sidecar["file"]),
        ("sidecar", sidecar["sidecar"]),
        ("format", sidecar["export_format"]),
        ("backbone", f"{sidecar['arch']}, {sidecar['feature_dim']}-d pooled features"),
        ("input", f"float32 [N, 3, S, S], S = {size_line}, RGB / 255, ImageNet mean/std"),
        ("source", f"{sidecar['source']['description']}  [{sidecar['source']['hash'][:23]}]"),
    ]
    if "onnx" in sidecar:
        check = sidecar["onnx"]["check"]
        if check["runtime"] is None:
            rows.append(("check", check["checked"]))
        else:
            rows.append(("check", f"{check['checked']}: max difference {check['max_abs_diff']:.2g}"))
    else:
        rows.append(("classifier", sidecar["classifier"]))
    report.console.print(report.table(f"fercl export → {out}", ["", "value"], rows))
    report.console.print("load it with:", markup=False, highlight=False)
    report.console.print(sidecar["load"], markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
