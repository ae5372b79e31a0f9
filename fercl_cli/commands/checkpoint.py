"""``fercl checkpoint convert``: turn a trusted checkpoint of an older fercl into a safe-loadable one."""

from __future__ import annotations

from pathlib import Path

import typer

checkpoint_app = typer.Typer(
    help="Checkpoint maintenance.\n\nExample: fercl checkpoint convert runs/old/last.pt runs/old/last-v2.pt --trust",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@checkpoint_app.command("convert")
def convert(
    old: Path = typer.Argument(..., help="Checkpoint written by fercl before checkpoint format 2."),
    new: Path = typer.Argument(..., help="Where to write the converted checkpoint (a new file)."),
    trust: bool = typer.Option(
        False, "--trust", help="Confirm you trust OLD's source: converting unpickles it, which can run code."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print what was converted as JSON."),
) -> None:
    """Rewrite an old checkpoint so that fercl's safe loader (weights only, no code) accepts it.

    This is the only fercl command that unpickles a file; every other loader refuses anything but
    tensors and plain values. Use it only on checkpoints from a source you trust.

    Example: fercl checkpoint convert runs/old/last.pt runs/old/last-v2.pt --trust
    """
    from fercl_cli import report
    from fercl_cli.train.convert import convert_legacy

    if trust:
        report.err_console.print(f"[yellow]warning[/]: unpickling {old}; any code it holds runs now")
    result = convert_legacy(old, new, trust=trust)
    if json_output:
        report.print_json(result)
        return
    report.console.print(report.table(f"fercl checkpoint convert → {new}", ["", "value"], result.items()))


def register(app: typer.Typer) -> None:
    app.add_typer(checkpoint_app, name="checkpoint")
