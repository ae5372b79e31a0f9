"""The Typer application. Each subcommand lives in ``fercl_cli.commands.<name>`` and exposes
``register(app)``; only commands that work are listed in ``COMMANDS``."""

from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperGroup, TyperOption

from fercl_cli import __version__
from fercl_cli.errors import FerclError

COMMANDS: list[str] = [
    "demo",
    "doctor",
    "sample",
    "preprocess",
    "inspect",
    "store",
    "swap",
    "describe",
    "pretrain",
    "evaluate",
    "report",
    "checkpoint",
    "export",
    "embed",
    "predict",
    "bench",
]


def _flag_type(self: TyperOption, ctx: typer.Context) -> str | None:
    """Typer 0.29 labels on/off flags ``<bool>`` in ``--help`` as if they took a value; they take none."""
    return None if self.is_flag else _option_type(self, ctx)


_option_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type


class _FerclGroup(TyperGroup):
    """Turns :class:`FerclError` (and a full disk or GPU memory) into ``error: ...`` on stderr and exit status 2."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except FerclError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except (OSError, RuntimeError) as exc:
            from fercl_cli.space import is_disk_full, no_space_error

            if is_disk_full(exc):  # a stage that did not name its output: the file the failure names
                where = getattr(exc, "filename", None)
                typer.echo(f"error: {no_space_error(where, getattr(exc, 'needed', None))}", err=True)
                raise typer.Exit(2) from None
            if type(exc).__name__ != "OutOfMemoryError":
                raise
            typer.echo(
                f"error: out of GPU memory ({str(exc).splitlines()[0]}); lower the batch size", err=True
            )
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_FerclGroup,
    name="fercl",
    help="Expression-aware face representations without labels (SimCLR + TimeAug, HardNeg, FaceSwap, MaskFN).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fercl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """fercl: self-supervised contrastive pretraining for facial expression recognition."""


for _name in COMMANDS:
    importlib.import_module(f"fercl_cli.commands.{_name}").register(app)


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())
