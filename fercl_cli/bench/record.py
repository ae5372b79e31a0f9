"""Benchmark results and their Markdown section in ``docs/benchmarks.md``."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One measured figure: ``value`` in ``unit``, with its target (``None`` when there is none)."""

    metric: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


@dataclass
class BenchResult:
    """All rows of one benchmark, with the machine and the settings it ran with."""

    name: str
    title: str
    rows: list[Row]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    machine: str = field(default_factory=lambda: machine_description())
    when: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def markdown(self) -> str:
        """The section body: settings, a table of rows, notes."""
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        lines = [
            f"### {self.title}",
            "",
            f"Measured {self.when} on {self.machine}. Settings: {settings}.",
            "",
            "| metric | value | target | met |",
            "|---|---|---|---|",
        ]
        for row in self.rows:
            met = "" if row.met is None else ("yes" if row.met else "**no**")
            lines.append(f"| {row.metric} | {row.value:,.2f} {row.unit} | {row.target} | {met} |")
        lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def machine_description() -> str:
    """CPU model, core count and, when present, the GPU name."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} cores"
    try:
        import torch

        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return text


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch CPU threads, then restore the previous setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def write_section(path: str | Path, result: BenchResult) -> Path:
    """Replace (or append) the section ``<!-- bench:NAME -->`` of the Markdown file ``path``."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = f"<!-- bench:{result.name} -->", f"<!-- /bench:{result.name} -->"
    block = f"{start}\n{result.markdown()}{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    path.write_text(text)
    return path
