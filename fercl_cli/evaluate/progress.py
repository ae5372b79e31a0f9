"""How long-running evaluation steps report progress without depending on a terminal library."""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: ``done`` of ``total`` units of the step named ``stage`` are finished.

Called with ``done = 0`` when a stage starts and again as it advances; stages are named in words
("converting affectnet", "extracting features", "fine-tuning seed 1")."""


def no_progress(stage: str, done: int, total: int) -> None:
    """The default: report nothing."""
