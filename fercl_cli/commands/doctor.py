"""``fercl doctor``: what a user needs to know before a long run."""

from __future__ import annotations

from pathlib import Path

import typer


def doctor(
    out: Path = typer.Option(Path("."), "--out", help="Where outputs will go (free disk is measured there)."),
    models_dir: Path | None = typer.Option(None, "--models-dir", help="Folder with dlib .dat model files."),
    json_output: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check Python, PyTorch/CUDA, dlib and its model files, OpenCV video, HDF5 and disk space.

    Exit code 1 when something required is missing.

    Example: fercl doctor --out /data/fercl
    """
    from fercl_cli import doctor as lib
    from fercl_cli import report

    checks = lib.run_checks(out, str(models_dir) if models_dir else None)
    ok = lib.healthy(checks)
    if json_output:
        report.print_json({"ok": ok, "checks": [c.to_dict() for c in checks]})
    else:
        rows = [(c.name, report.status(c.ok, c.required), c.detail, c.fix) for c in checks]
        report.console.print(report.table("fercl doctor", ["check", "status", "detail", "fix"], rows))
        report.console.print("[green]ready[/]" if ok else "[red]something required is missing (see 'fix')[/]")
    if not ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
