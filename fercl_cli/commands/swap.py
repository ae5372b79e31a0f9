"""``fercl swap``: the FaceSwap bank of a face store."""

from __future__ import annotations

from pathlib import Path

import typer


def swap(
    store: Path = typer.Argument(..., help="Face store (from 'fercl preprocess') with landmarks."),
    out: Path = typer.Option(..., "--out", help="Swap bank to write (created, or resumed when it exists)."),
    per_frame: int = typer.Option(
        1, "--per-frame", help="Swaps per source frame, each onto another identity."
    ),
    frames: str = typer.Option(
        "all", "--frames", help="all, or sampled:N (N frames per clip, evenly spread)."
    ),
    feather: float = typer.Option(
        3.0, "--feather", help="Mask edge softening: Gaussian σ in pixels (0 = hard)."
    ),
    colour: str = typer.Option(
        "skin",
        "--colour",
        help="Colour correction: skin (skin-only local means, gain clamped to 1.6x) or paper (whole-image "
        "blur ratio, which bleaches the brow band under dark brows, hats or a light fringe).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the donor draw (the bank is reproducible)."),
    workers: int = typer.Option(1, "--workers", help="Processes that read and swap."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Paste each chosen frame's inner face (eyes, brows, nose, mouth) onto heads of other identities.

    Uses the stored landmarks (no detector runs): Procrustes alignment on the paper's points, hull masks with a feathered edge, colour correction on skin. Interrupted runs resume from the last commit.

    Example: fercl swap faces.h5 --out swaps.h5 --per-frame 2 --workers 8
    """
    from fercl_cli import report
    from fercl_cli.space import disk_full_is_an_error
    from fercl_cli.swap.generate import build_bank

    progress = report.CountProgress("swap", enabled=not json_output)
    kept = f"committed swaps are kept in {out}; rerun the same command to resume"
    with report.interruptible(progress, kept), disk_full_is_an_error(out):
        summary = build_bank(
            store, out, per_frame, frames, feather, seed, workers, colour=colour, progress=progress
        )
    if json_output:
        report.print_json(summary.to_dict())
        return
    rows = [
        ("bank", summary.out),
        ("source frames planned", summary.planned_sources),
        ("already done (resumed)", summary.resumed_sources),
        ("swaps made now / in the bank", f"{summary.swaps} / {summary.total_swaps}"),
        *((f"frames skipped: {reason}", count) for reason, count in summary.skipped.items()),
        ("time", f"{summary.seconds:.1f} s"),
        ("swaps/s", f"{summary.swaps_per_s:.1f}"),
    ]
    report.console.print(report.table("fercl swap", ["", "value"], rows))


def register(app: typer.Typer) -> None:
    app.command("swap")(swap)
