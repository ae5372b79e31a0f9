"""The package's shape, checked from the source: no import circles between modules, commands that go
through ``report`` for display, and a library importable without the CLI packages."""

import ast
from pathlib import Path

import fercl_cli

ROOT = Path(fercl_cli.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports anywhere, inside functions and ``TYPE_CHECKING`` blocks too (a deferred
    import still ties the two modules together); ``from a.b import c`` counts ``a.b`` and ``a.b.c``."""
    nodes = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Import | ast.ImportFrom)]
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif node.module is not None and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names}
    return out


SOURCES = {_module(p): p for p in ROOT.rglob("*.py")}


def test_no_import_circles():
    graph = {
        name: {m for m in _imports(path) if m in SOURCES and m != name} for name, path in SOURCES.items()
    }
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for nxt in sorted(graph[name]):
            if state.get(nxt) == "open":
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [name, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_commands_display_through_report_only():
    offenders = {
        name
        for name, path in SOURCES.items()
        if name.startswith("fercl_cli.commands.")
        and any(m == "rich" or m.startswith("rich.") for m in _imports(path))
    }
    assert offenders == set()


def test_the_library_needs_no_cli_package():
    cli = {"fercl_cli.cli", "fercl_cli.report"}
    offenders = {
        name
        for name, path in SOURCES.items()
        if not name.startswith("fercl_cli.commands")
        and name not in cli
        and any(m.split(".")[0] in ("typer", "rich") for m in _imports(path))
    }
    assert offenders == set()
