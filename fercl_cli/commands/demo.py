"""``fercl demo``: the whole chain on the embedded sample data, with a headline per stage and a results
table that explains itself; ``--ablation`` adds the paper's configurations in miniature."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def _print_results(summary: dict[str, Any]) -> None:
    from fercl_cli import report
    from fercl_cli.evaluate.results import format_cell

    rows = [
        (
            row["short"] + (" %" if row["percent"] else ""),
            format_cell(row["demo"], row["percent"]),
            format_cell(row["random"], row["percent"]),
            "" if row["chance"] is None else format_cell(row["chance"], row["percent"]),
            "LOWER" if row["better"] == "lower" else "higher",
        )
        for row in summary["results"]
    ]
    table = report.table(
        f"fercl demo: results on the synthetic sample ({summary['profile']} profile)",
        ["measure", "demo checkpoint", "random init", "chance", "better"],
        rows,
    )
    table.caption = "linear probes on frozen features (LFW: 1-nearest-neighbour identity)"
    report.console.print(table)
    for note in summary["notes"]:
        report.console.print(f"- {note}", markup=False, highlight=False, soft_wrap=True)
    report.console.print(report.table("where the files are", ["what", "path"], summary["files"].items()))
    report.console.print("Next, on real data (see README.md and docs/):", markup=False, highlight=False)
    for command in summary["next"]:
        report.console.print(f"  {command}", markup=False, highlight=False, soft_wrap=True)


def _print_ablation(ablation: dict[str, Any], written: Path | None) -> None:
    from fercl_cli import report
    from fercl_cli.demo.ablation.summary import AblationSummary
    from fercl_cli.demo.ablation.table import SHORT_NAMES_NOTE, table

    summary = AblationSummary(**ablation["summary"])
    header, rows = table(summary, short=True)
    seeds = summary.settings.get("seeds", "")
    out = report.table(
        f"fercl demo --ablation: the paper's configurations in miniature (seeds {seeds})",
        header,
        rows,
        compact=True,
    )
    out.caption = f"mean ± std over pretraining seeds; ↑ higher / ↓ lower is better; {SHORT_NAMES_NOTE}"
    report.console.print(out)
    for line in summary.statements:
        report.console.print(f"- {line}", markup=False, highlight=False, soft_wrap=True)
    files = ablation["stage"]["outputs"]
    report.console.print(f"plot: {files['plot']}  table: {files['markdown']}", markup=False, highlight=False)
    if written is not None:
        report.console.print(f"section 'ablation' written to {written}", markup=False, highlight=False)


def demo(
    directory: Path = typer.Option(
        Path("fercl-demo"),
        "--dir",
        help="Folder for everything the demo makes (new, empty or an earlier demo's).",
    ),
    quick: bool = typer.Option(
        False,
        "--quick",
        help="A smaller corpus and fewer epochs: about 40 s on 2 CPU cores (the default profile: about 2 "
        "minutes). Same as --profile quick.",
    ),
    profile_name: str | None = typer.Option(
        None,
        "--profile",
        help="quick | standard (default) | testbed: the factorised testbed and a small CNN, the profile whose "
        "ablation tests the paper's claim (about 30 min to prepare, 66 min for --ablation on 2 cores).",
    ),
    ablation: bool = typer.Option(
        False, "--ablation", help="Also pretrain the paper's 6 configurations × 3 seeds and compare them."
    ),
    write: Path | None = typer.Option(
        None,
        "--write",
        help="With --ablation: write its section into this Markdown file (e.g. docs/benchmarks.md).",
    ),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run sample → preprocess → swap → describe → pretrain → evaluate → report on generated sample data.

    Every stage reuses its finished output, so a second run is fast. The final table compares the demo's
    checkpoint (TimeAug+HardNeg+FaceSwap+MaskFN) with a random-init floor and says what the numbers mean.

    Example: fercl demo --quick --dir /tmp/fercl-demo

    Miniature ablation: fercl demo --ablation --write docs/benchmarks.md

    The paper's claim tested on the testbed: fercl demo --profile testbed --ablation --write docs/benchmarks.md
    """
    from fercl_cli import report
    from fercl_cli.demo.chain import run_demo
    from fercl_cli.demo.profiles import check_device, profile_for, profile_named
    from fercl_cli.errors import FerclError

    check_device(device)
    if write is not None and not ablation:
        raise FerclError("--write records the ablation's table: add --ablation (or drop --write)")
    if write is not None and (write.suffix.lower() != ".md" or not write.parent.is_dir()):
        raise FerclError(f"--write {write}: give a Markdown file (.md) in an existing folder")
    if quick and profile_name not in (None, "quick"):
        raise FerclError(f"--quick and --profile {profile_name} disagree: give one of them")
    profile = profile_for(quick) if profile_name is None else profile_named(profile_name)
    progress = report.StageProgress(enabled=not json_output)
    kept = f"finished work is kept in {directory}; rerun the same command to continue"
    with report.interruptible(progress, kept):
        summary = run_demo(directory, profile, device, progress.on_event)
        if ablation:
            from fercl_cli.demo.ablation.run import run_ablation
            from fercl_cli.demo.ablation.summary import AblationSummary
            from fercl_cli.demo.ablation.table import write_section
            from fercl_cli.demo.layout import Layout

            result = run_ablation(Layout(Path(summary["dir"])), profile, device, progress.on_event)
            summary["ablation"] = result
            if write is not None:
                write_section(write, AblationSummary(**result["summary"]))
    if json_output:
        report.print_json(summary)
        return
    _print_results(summary)
    if ablation:
        _print_ablation(summary["ablation"], write)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
