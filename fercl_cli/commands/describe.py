"""``fercl describe``: cached mouth-eye descriptors for MaskFN, written into the face store."""

from __future__ import annotations

from pathlib import Path

import typer


def describe(
    store: Path = typer.Argument(..., help="Face store (from 'fercl preprocess') with landmarks."),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="geometry (no weights) or resnet18 (the paper's); default: resnet18 if --weights.",
    ),
    weights: Path | None = typer.Option(
        None, "--weights", help="Local torchvision ResNet-18 ImageNet state dict (never downloaded)."
    ),
    batch: int = typer.Option(
        256,
        "--batch-size",
        "--batch",
        help="Frames per forward pass (as evaluate's --batch-size; --batch is the old name).",
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (resnet18)."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Compute a mouth-eye descriptor per frame and store it as descriptors/<kind> in STORE.

    Frames without usable landmarks get a zero, never-matching descriptor. Without --weights the weights-free geometry descriptor (eye/mouth landmark shapes + HOG) is used.

    Example: fercl describe faces.h5 --kind resnet18 --weights resnet18-f37072fd.pth --device cuda
    """
    from fercl_cli import report
    from fercl_cli.descriptors.describe import describe_store, resolve_kind
    from fercl_cli.space import disk_full_is_an_error

    chosen = resolve_kind(kind, weights)
    progress = report.CountProgress(f"describe ({chosen})", enabled=not json_output)
    kept = f"{store} is unchanged; rerun the same command"
    with report.interruptible(progress, kept), disk_full_is_an_error(store):
        summary = describe_store(store, chosen, weights, batch, device, progress=progress)
    if json_output:
        report.print_json(summary.to_dict())
        return
    rows = [
        ("store", summary.store),
        ("descriptor", f"descriptors/{summary.kind} ({summary.dim}-d, float16)"),
        ("frames described", summary.frames),
        ("flagged (no usable landmarks)", summary.flagged),
        *((("weights sha256", summary.weights_sha256),) if summary.weights_sha256 else ()),
        ("time", f"{summary.seconds:.1f} s"),
        ("frames/s", f"{summary.frames_per_s:.1f}"),
    ]
    report.console.print(report.table("fercl describe", ["", "value"], rows))


def register(app: typer.Typer) -> None:
    app.command("describe")(describe)
