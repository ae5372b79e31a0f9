"""``fercl embed``: backbone features of every face in images and videos, aligned as in training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

INPUTS = typer.Argument(..., help="Image files, videos, or folders of them (walked recursively).")
CHECKPOINT = typer.Option(
    ...,
    "--checkpoint",
    help="fercl run directory or checkpoint; also anything evaluate's --checkpoint takes (another "
    "library's ResNet checkpoint, torchvision:PATH, random with --arch).",
)
ARCH = typer.Option(None, "--arch", help="resnet18 | resnet50: expected architecture (needed for 'random').")
SIZE = typer.Option(
    None,
    "--size",
    help="Network input side in px (faces aligned at size·128/112); default: the size the checkpoint was "
    "trained at, else 112.",
)
FPS = typer.Option("25/6", "--fps", help="Frames per second kept from videos (preprocess's 25/6 by default).")
DEVICE = typer.Option("auto", "--device", help="auto | cpu | cuda.")
BATCH = typer.Option(64, "--batch-size", help="Faces per forward pass.")
MODELS = typer.Option(None, "--models-dir", help="Folder with the dlib model files.")


def print_failures(summary: dict[str, Any]) -> None:
    """One line per file or frame that gave no row, then the notes."""
    from fercl_cli import report

    for failure in summary["failures"]:
        what = "unreadable" if failure["stage"] == "decode" else "no row"
        report.console.print(
            f"{what}: {failure['source']}: {failure['reason']}", markup=False, highlight=False, soft_wrap=True
        )
    for note in summary["notes"]:
        report.console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary table's rows shared by embed and predict."""
    checkpoint = summary["checkpoint"]
    return [
        ("files", str(summary["files"])),
        ("faces", str(summary["faces"])),
        ("failures", str(len(summary["failures"]))),
        ("backbone", f"{checkpoint['arch']}, {summary['feature_dim']}-d  [{checkpoint['hash'][:23]}]"),
        ("input", f"{summary['crop_size']} px aligned crops, centre {summary['input_size']} px"),
    ]


def embed(
    inputs: list[Path] = INPUTS,
    checkpoint: str = CHECKPOINT,
    out: Path = typer.Option(
        ..., "--out", help="feats.h5 | feats.npy (+ feats.npy.csv metadata) | feats.csv."
    ),
    arch: str | None = ARCH,
    size: int | None = SIZE,
    fps: str = FPS,
    device: str = DEVICE,
    batch_size: int = BATCH,
    models_dir: Path | None = MODELS,
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Extract frozen backbone features of every face in images and videos.

    Faces are detected with dlib (one per image or frame, preprocess's rule) and aligned exactly as the training crops; videos are decoded at --fps and tracked as preprocess does. Each row holds the source file, frame number and time (videos), the face box and 68 landmarks (source px) and the features. Unreadable files and faceless images are listed, never fatal.

    Example: fercl embed photos/ clip.mp4 --checkpoint runs/timeaug --out feats.h5
    """
    from fercl_cli import report
    from fercl_cli.apply.embed import embed as run_embed
    from fercl_cli.apply.write import check_out, write_embedding
    from fercl_cli.preprocess.pipeline import parse_fps

    check_out(out)
    with report.stage_progress(enabled=not json_output) as progress:
        embedding = run_embed(
            inputs,
            checkpoint,
            arch=arch,
            size=size,
            fps=parse_fps(fps),
            device=device,
            batch_size=batch_size,
            models_dir=None if models_dir is None else str(models_dir),
            progress=progress,
        )
    written = write_embedding(embedding, out)
    summary = {**embedding.summary(), "written": [str(p) for p in written]}
    if json_output:
        report.print_json(summary)
        return
    rows = [*summary_rows(summary), ("written", ", ".join(summary["written"]))]
    report.console.print(report.table(f"fercl embed → {out}", ["", "value"], rows))
    print_failures(summary)


def register(app: typer.Typer) -> None:
    app.command("embed")(embed)
