"""``fercl inspect``: what a face store holds, and a contact sheet of sampled frames."""

from __future__ import annotations

from pathlib import Path

import typer


def _size(num_bytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if num_bytes < 1024 or unit == "GiB":
            return f"{num_bytes:.0f} {unit}" if unit == "B" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1024
    return ""


def inspect_store(
    store: Path = typer.Argument(..., help="The face store (.h5)."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    sheet: Path | None = typer.Option(
        None, "--sheet", help="Write a contact sheet (PNG) of sampled frames here."
    ),
    n: int = typer.Option(24, "--n", min=1, help="Frames on the contact sheet."),
    seed: int = typer.Option(0, "--seed", help="Seed for sampling the contact sheet's frames."),
    landmarks: bool = typer.Option(
        False, "--landmarks", help="Swap banks: draw each swap's landmarks on the sheet."
    ),
) -> None:
    """Counts (frames, clips, identities, videos, failures), format and descriptor slots of a face store.

    Example: fercl inspect faces.h5 --sheet faces.png --n 36
    """
    from fercl_cli import report
    from fercl_cli.store.files import file_kind
    from fercl_cli.store.reader import FaceStore
    from fercl_cli.store.sheet import save_contact_sheet
    from fercl_cli.store.summary import summarize
    from fercl_cli.store.swap_bank_file import BANK_KIND

    if file_kind(store) == BANK_KIND:
        _inspect_bank(store, json_output, sheet, n, seed, landmarks)
        return
    opened = FaceStore(store)
    summary = summarize(opened)
    if sheet is not None:
        rows = save_contact_sheet(opened, sheet, n=n, seed=seed)
        summary["sheet"] = {"path": str(sheet), "rows": [int(r) for r in rows]}
    if json_output:
        report.print_json(summary)
        return
    failures = ", ".join(f"{stage} {count}" for stage, count in sorted(summary["failures_by_stage"].items()))
    detectors = ", ".join(f"{label} {count}" for label, count in summary["detector_counts"].items())
    descriptors = ", ".join(f"{kind} ({info['dim']}-d)" for kind, info in summary["descriptors"].items())
    rows = [
        ("frames", summary["frames"]),
        ("clips", f"{summary['clips']} ({summary['empty_clips']} without frames)"),
        ("identities", summary["identities"]),
        ("videos", summary["videos"]),
        ("failures", f"{summary['failures']}" + (f" ({failures})" if failures else "")),
        ("frames by detector", detectors or "-"),
        ("crop size", f"{summary['crop_size']} px"),
        ("encoding", summary["encoding"]),
        ("disk size", _size(summary["disk_bytes"])),
        ("schema version", summary["schema_version"]),
        ("written by", f"fercl {summary['fercl_version']} on {summary['created']}"),
        ("detector", summary["detector"]),
        ("fps", f"{summary['fps']:.4g}"),
        ("template", summary["template"]),
        ("shard", summary["shard"] or "-"),
        ("descriptors", descriptors or "-"),
    ]
    report.console.print(report.table(f"fercl inspect {store}", ["", "value"], rows))
    if sheet is not None:
        report.console.print(f"contact sheet of {len(summary['sheet']['rows'])} frames: {sheet}")


def _inspect_bank(
    path: Path, json_output: bool, sheet: Path | None, n: int, seed: int, landmarks: bool
) -> None:
    """A swap bank (``fercl swap``): counts, its face store, and a source | donor | swap sheet."""
    from fercl_cli import report
    from fercl_cli.errors import FerclError
    from fercl_cli.store.reader import FaceStore
    from fercl_cli.store.swap_bank import SwapBank
    from fercl_cli.swap.sheet import save_swap_sheet

    bank = SwapBank(path)
    summary = {
        "kind": "swap bank",
        "path": str(path),
        "store": bank.store,
        "crop_size": bank.crop_size,
        "store_frames": bank.n_store_frames,
        **bank.summary(),
    }
    if sheet is not None:
        if not Path(bank.store).is_file():
            raise FerclError(
                f"{path} was made from {bank.store}, which is not there; the sheet needs that store"
            )
        save_swap_sheet(bank, FaceStore(bank.store), sheet, n=n, seed=seed, landmarks=landmarks)
        summary["sheet"] = str(sheet)
    if json_output:
        report.print_json(summary)
        return
    report.console.print(report.table(f"fercl inspect {path}", ["", "value"], list(summary.items())))


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_store)
