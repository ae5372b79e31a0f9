"""``fercl report``: several ``fercl evaluate`` results side by side, optionally beside the paper's table."""

from __future__ import annotations

from pathlib import Path

import typer


def report_command(
    results: list[Path] = typer.Argument(..., help="Results files written by fercl evaluate --out."),
    paper: bool = typer.Option(
        False, "--paper", help="Add the paper's published AffectNet rows (its protocol)."
    ),
    markdown: Path | None = typer.Option(
        None, "--markdown", help="Also write the table as Markdown to this file."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """Compare results: one row per checkpoint, one column per task, protocol and metric (mean ± std).

    Example: fercl report results/*.json --paper --markdown results.md
    """
    from fercl_cli import report
    from fercl_cli.evaluate.compare import compare, table_cells, to_json, to_markdown

    comparison = compare(list(results), paper=paper)
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(to_markdown(comparison))
    if json_output:
        report.print_json(to_json(comparison))
        return
    header, body = table_cells(comparison)
    tables = report.split_table("fercl report", header, body, report.console.width, keep=2)
    tables[-1].caption = "mean ± sample std over seeds; \\[protocol] after each metric"
    for table in tables:
        report.console.print(table)
    for note in comparison.notes:
        report.console.print(f"note: {note}", markup=False, highlight=False)
    if markdown is not None:
        report.console.print(f"Markdown written to {markdown}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
