"""``fercl store validate|merge``: check a face store; join shard stores."""

from __future__ import annotations

from pathlib import Path

import typer

store_app = typer.Typer(
    help="Check and combine face stores.\n\nExample: fercl store validate faces.h5",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@store_app.command("validate")
def validate(
    store: Path = typer.Argument(..., help="The face store (.h5)."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check every invariant of a face store (row ranges, times, landmarks, counters, descriptors).

    Exit code 1 when problems are found. Also finishes a commit that a killed writer left half done.

    Example: fercl store validate faces.h5
    """
    from fercl_cli import report
    from fercl_cli.store.validate import validate as check

    with report.err_console.status(f"validating {store}"):
        problems = check(store)
    if json_output:
        report.print_json({"store": str(store), "ok": not problems, "problems": problems})
    elif problems:
        report.console.print(
            report.table(f"{store}: {len(problems)} problems", ["problem"], [(p,) for p in problems])
        )
    else:
        report.console.print(f"[green]ok[/]: {store} is a sound face store")
    if problems:
        raise typer.Exit(1)


@store_app.command("merge")
def merge(
    out: Path = typer.Argument(..., help="The merged store to write (resumed if it exists)."),
    shards: list[Path] = typer.Argument(..., help="The shard stores, e.g. faces-*.h5."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Join shard stores (from --shard I/N runs) into one, clips sorted by (identity, video, clip).

    Identities and videos are re-indexed by name; descriptor slots present in every shard with the
    same settings are carried over.

    Example: fercl store merge faces.h5 faces-1of4.h5 faces-2of4.h5 faces-3of4.h5 faces-4of4.h5
    """
    from fercl_cli import report
    from fercl_cli.space import disk_full_is_an_error
    from fercl_cli.store.merge import merge as join

    with report.stage_progress(enabled=not json_output) as progress, disk_full_is_an_error(out):
        result = join(out, shards, progress=lambda done, total: progress("merging frames", done, total))
    summary = {
        "out": str(result.path),
        "shards": [str(shard) for shard in shards],
        "frames": result.frames,
        "clips": result.clips,
        "identities": result.identities,
        "videos": result.videos,
        "failures": result.failures,
        "descriptors": result.descriptors,
        "dropped_descriptors": result.dropped_descriptors,
    }
    if json_output:
        report.print_json(summary)
        return
    rows = [(key, ", ".join(value) if isinstance(value, list) else value) for key, value in summary.items()]
    report.console.print(report.table(f"fercl store merge → {out}", ["", "value"], rows))
    if result.dropped_descriptors:
        report.console.print(
            f"[yellow]descriptor slots not in every shard (or made differently) were left out: "
            f"{', '.join(result.dropped_descriptors)}; run `fercl describe` on {out}[/]"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")
