"""The ablation as a PNG, drawn with OpenCV (matplotlib is only a development extra).

One panel per table column (expression accuracy and F1, valence and arousal CCC, FER2013 accuracy, LFW
identity accuracy); in each, one column per configuration: the mean as a filled circle with a ±1 std
whisker, every seed as a small dot, and the random-init floor as a dashed grey line. Axes are scaled to
the data (no bars, so no misleading baseline).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fercl_cli.demo.ablation.configs import CONFIGS
from fercl_cli.demo.ablation.summary import AblationSummary
from fercl_cli.demo.table import COLUMNS
from fercl_cli.errors import FerclError
from fercl_cli.evaluate.results import Measure

PANEL_W, PANEL_H = 400, 300
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 34, 46
HEADER = 56
COLOURS = ((90, 90, 90), (180, 120, 30), (40, 160, 230), (60, 170, 60), (200, 60, 160), (40, 40, 200))  # BGR
INK, GREY, FONT_SCALE = (0, 0, 0), (150, 150, 150), 0.4


def _ticks(low: float, high: float) -> list[float]:
    """About five round tick values covering [low, high]."""
    span = high - low
    raw = span / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = max((high - low) * 0.15, 0.02 if high - low < 0.2 else 0.0, 1e-3)
    return low - pad, high + pad


def _dashed(canvas: np.ndarray, y: int, x0: int, x1: int) -> None:
    import cv2

    for x in range(x0, x1, 10):
        cv2.line(canvas, (x, y), (min(x + 5, x1), y), GREY, 1, cv2.LINE_AA)


def _panel(measure: Measure, summary: AblationSummary) -> np.ndarray:
    """uint8 [PANEL_H, PANEL_W, 3] BGR panel of one column."""
    import cv2

    canvas = np.full((PANEL_H, PANEL_W, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = 100.0 if measure.percent else 1.0
    key = measure.key
    better = "higher is better" if measure.direction == "higher" else "LOWER is better"
    cv2.putText(canvas, f"{measure.short} ({better})", (LEFT, 20), font, 0.45, INK, 1, cv2.LINE_AA)
    cells = [summary.cells[c.key][key] for c in CONFIGS]
    floor = summary.floor.get(key)
    points = [v * scale for cell in cells for v in cell["values"] if v is not None]
    points += [
        (cell["mean"] + sign * (cell["std"] or 0.0)) * scale
        for cell in cells
        if cell["mean"] is not None
        for sign in (-1, 1)
    ]
    if floor is not None:
        points.append(floor * scale)
    x0, x1, y0, y1 = LEFT, PANEL_W - RIGHT, TOP, PANEL_H - BOTTOM
    cv2.rectangle(canvas, (x0, y0), (x1, y1), GREY, 1)
    if not points:
        cv2.putText(canvas, "no values", (x0 + 10, (y0 + y1) // 2), font, FONT_SCALE, INK, 1, cv2.LINE_AA)
        return canvas
    low, high = _range(points)

    def to_y(value: float) -> int:
        return int(round(y1 - (value - low) / (high - low) * (y1 - y0)))

    for tick in _ticks(low, high):
        y = to_y(tick)
        cv2.line(canvas, (x0 - 4, y), (x0, y), INK, 1)
        label = f"{tick:.0f}" if measure.percent else f"{tick:.2f}"
        size = cv2.getTextSize(label, font, FONT_SCALE, 1)[0]
        cv2.putText(canvas, label, (x0 - 8 - size[0], y + 4), font, FONT_SCALE, INK, 1, cv2.LINE_AA)
    if floor is not None:
        _dashed(canvas, to_y(floor * scale), x0 + 1, x1 - 1)
        cv2.putText(canvas, "random", (x1 - 52, to_y(floor * scale) - 4), font, 0.35, GREY, 1, cv2.LINE_AA)
    slot = (x1 - x0) / len(CONFIGS)
    for i, (config, cell) in enumerate(zip(CONFIGS, cells, strict=True)):
        x = int(x0 + slot * (i + 0.5))
        colour = COLOURS[i % len(COLOURS)]
        for value in cell["values"]:
            if value is not None:
                cv2.circle(canvas, (x + 9, to_y(value * scale)), 2, colour, -1, cv2.LINE_AA)
        if cell["mean"] is not None:
            mean = cell["mean"] * scale
            if cell["std"] is not None:
                top, bottom = to_y(mean + cell["std"] * scale), to_y(mean - cell["std"] * scale)
                cv2.line(canvas, (x, top), (x, bottom), colour, 2, cv2.LINE_AA)
                for y in (top, bottom):
                    cv2.line(canvas, (x - 5, y), (x + 5, y), colour, 2, cv2.LINE_AA)
            cv2.circle(canvas, (x, to_y(mean)), 5, colour, -1, cv2.LINE_AA)
        size = cv2.getTextSize(config.short, font, 0.35, 1)[0]
        cv2.putText(canvas, config.short, (x - size[0] // 2, y1 + 16), font, 0.35, colour, 1, cv2.LINE_AA)
    return canvas


def render_ablation(summary: AblationSummary) -> np.ndarray:
    """uint8 [H, W, 3] BGR picture: a header, then the panels of every column in a 3 × 2 grid."""
    import cv2

    columns = 3
    panels = [_panel(measure, summary) for measure in COLUMNS]
    rows = math.ceil(len(panels) / columns)
    canvas = np.full((HEADER + rows * PANEL_H, columns * PANEL_W, 3), 255, np.uint8)
    seeds = max((c["n"] for cells in summary.cells.values() for c in cells.values()), default=0)
    font = cv2.FONT_HERSHEY_SIMPLEX
    title = "fercl miniature ablation on the synthetic sample"
    cv2.putText(canvas, title, (12, 22), font, 0.6, INK, 1, cv2.LINE_AA)
    legend = (
        f"big dot: mean over {seeds} pretraining seeds, whisker: +/- 1 std, small dots: single seeds, "
        "dashed: random-init floor"
    )
    cv2.putText(canvas, legend, (12, 44), font, FONT_SCALE, (60, 60, 60), 1, cv2.LINE_AA)
    for index, panel in enumerate(panels):
        row, column = divmod(index, columns)
        canvas[
            HEADER + row * PANEL_H : HEADER + (row + 1) * PANEL_H, column * PANEL_W : (column + 1) * PANEL_W
        ] = panel
    return canvas


def write_ablation_png(path: str | Path, summary: AblationSummary) -> Path:
    """Draw :func:`render_ablation` and save it as PNG at ``path``."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), render_ablation(summary)):
        raise FerclError(f"{path}: could not write the ablation plot; check the folder is writable")
    return path
