"""Rich rendering shared by the commands (the only library module that imports rich)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A rich table with the given header and rows; plain cells are escaped, :class:`Text` cells kept."""
    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(cell if isinstance(cell, Text) else escape(str(cell)) for cell in row))
    return out


def status(ok: bool, required: bool = True) -> Text:
    """A coloured status cell: ok, MISSING (required) or optional."""
    if ok:
        return Text("ok", style="green")
    return Text("MISSING", style="bold red") if required else Text("optional", style="yellow")


def print_json(payload: object) -> None:
    """Machine-readable output on stdout (no colour, no wrapping)."""
    print(json.dumps(payload, indent=2, default=str))
