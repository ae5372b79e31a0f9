"""One stage of the demo: its timing, its progress events and its result.

Events for the caller's progress display: ``emit("stage", {"stage", "title"})`` when a stage starts,
``emit("progress", {"stage", "what", "done", "total"})`` as it advances, and
``emit("done", StageResult.to_dict())`` when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

Event = Callable[[str, dict[str, Any]], None]
RAN, REUSED, RESUMED = "ran", "reused", "resumed"


@dataclass
class StageResult:
    """One stage of the chain.

    Attributes:
        stage: its name (``sample``, ``preprocess``, ...).
        status: ``ran`` (work done from scratch), ``resumed`` (finished earlier partial work) or ``reused``
            (nothing left to do).
        seconds: wall time of this call.
        headline: one line saying what the stage produced.
        outputs: what it wrote, name → path.
        details: the stage's own summary (JSON-ready).
    """

    stage: str
    status: str
    seconds: float
    headline: str
    outputs: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return asdict(self)


def status_of(worked: bool, earlier: bool) -> str:
    """``reused`` when nothing was left to do, else ``resumed`` when earlier work was kept, else ``ran``."""
    if not worked:
        return REUSED
    return RESUMED if earlier else RAN


class Stage:
    """Times a stage and reports its start, progress and end through the events."""

    def __init__(self, name: str, title: str, emit: Event) -> None:
        self.name, self.emit = name, emit
        self.began = time.perf_counter()
        emit("stage", {"stage": name, "title": title})

    def progress(self, what: str, done: int, total: int) -> None:
        self.emit("progress", {"stage": self.name, "what": what, "done": int(done), "total": int(total)})

    def end(
        self, status: str, headline: str, outputs: dict[str, Path], details: dict[str, Any]
    ) -> StageResult:
        result = StageResult(
            stage=self.name,
            status=status,
            seconds=time.perf_counter() - self.began,
            headline=headline,
            outputs={k: str(v) for k, v in outputs.items()},
            details=details,
        )
        self.emit("done", result.to_dict())
        return result
