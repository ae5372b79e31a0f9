"""Ablation run values made to order: per configuration, seeds spread evenly around chosen means."""

from __future__ import annotations

import numpy as np

from fercl_cli.demo.ablation.configs import CONFIGS
from fercl_cli.demo.table import COLUMNS as MEASURES

COLUMNS = [m.key for m in MEASURES]


def fake_runs(
    means: dict[str, float], spread: float, seeds: int = 3, lfw: dict[str, float] | None = None
) -> dict[str, list[dict[str, float]]]:
    """Per configuration, ``seeds`` run-value dicts: every column = the configuration's mean plus a seed
    offset of ±spread (LFW from ``lfw`` when given)."""
    offsets = np.linspace(-spread, spread, seeds)
    runs = {}
    for config in CONFIGS:
        base = means[config.key]
        runs[config.key] = [
            {
                column: (lfw[config.key] if lfw and column == "lfw/accuracy" else base) + offset
                for column in COLUMNS
            }
            for offset in offsets
        ]
    return runs


FLOOR = {column: 0.30 for column in COLUMNS}
# Same order as the paper's F1 and accuracy, and far apart.
PAPER_ORDER = {c.key: 0.40 + 0.05 * i for i, c in enumerate(CONFIGS)}
