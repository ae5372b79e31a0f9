"""The per-step metrics of a run: ``metrics.jsonl`` (rank 0) plus TensorBoard when it is installed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _step_of(line: str) -> float:
    """The step a metrics.jsonl line records; infinity for a torn line (never kept)."""
    try:
        return float(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return math.inf


class MetricsLog:
    """JSON-lines log plus TensorBoard event files; on resume from step ``resume_step`` the lines logged
    after it (before a crash) are dropped, as is a line torn by a crash or a full disk."""

    def __init__(self, out: Path, resume_step: int | None, notes: list[str]) -> None:
        self.path = out / "metrics.jsonl"
        kept = []
        if resume_step is not None and self.path.exists():
            kept = [line for line in self.path.read_text().splitlines() if _step_of(line) <= resume_step]
        self.handle = self.path.open("w")  # closed in close()
        self.handle.writelines(line + "\n" for line in kept)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.board = SummaryWriter(str(out / "tensorboard"))
        except ImportError:
            self.board = None
            notes.append("TensorBoard is not installed: metrics are in metrics.jsonl only")

    def write(self, record: dict[str, Any]) -> None:
        """Append one step's record (flushed, so a crash loses at most the step being written)."""
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()
        if self.board is not None:
            for key, value in record.items():
                if key not in ("epoch", "step", "batch") and isinstance(value, (int, float)):
                    self.board.add_scalar(f"pretrain/{key}", value, record["step"])

    def last_loss(self) -> float:
        """The loss of the last logged step (NaN when none is logged)."""
        self.handle.flush()
        lines = self.path.read_text().splitlines()
        return float(json.loads(lines[-1])["loss"]) if lines else math.nan

    def close(self) -> None:
        self.handle.close()
        if self.board is not None:
            self.board.close()
