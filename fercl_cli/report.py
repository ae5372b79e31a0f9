"""Rich rendering shared by the commands (the only library module that imports rich)."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)


def table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], compact: bool = False
) -> Table:
    """A rich table with the given header and rows; the title, headers and plain cells are escaped (a
    ``[linear]`` is text, not markup), :class:`Text` cells kept. ``compact``: a rule under the header
    only and no padding between columns, for a wide table in an 80-column terminal."""
    out = Table(title=escape(title), title_justify="left")
    if compact:
        out.box, out.collapse_padding = box.SIMPLE_HEAD, True
    for column in columns:
        out.add_column(escape(str(column)), overflow="fold")
    for row in rows:
        out.add_row(*(cell if isinstance(cell, Text) else escape(str(cell)) for cell in row))
    return out


def split_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], width: int, keep: int = 1
) -> list[Table]:
    """``table(title, columns, rows)`` cut into several tables that each fit ``width`` characters: the
    first ``keep`` columns (the row names) repeat in every part, the others are placed greedily in order.
    No cell wraps, so a number is never broken over two lines."""

    def needed(index: int) -> int:
        cells = [str(columns[index]), *(str(row[index]) for row in rows)]
        return max(len(cell) for cell in cells) + 3  # padding and the border

    fixed = sum(needed(i) for i in range(keep)) + 1
    parts: list[list[int]] = [[]]
    used = fixed
    for index in range(keep, len(columns)):
        if parts[-1] and used + needed(index) > width:
            parts.append([])
            used = fixed
        parts[-1].append(index)
        used += needed(index)
    tables = []
    for number, part in enumerate(parts, start=1):
        chosen = [*range(keep), *part]
        name = title if len(parts) == 1 else f"{title} ({number}/{len(parts)})"
        out = table(name, [columns[i] for i in chosen], [[row[i] for i in chosen] for row in rows])
        for column in out.columns:
            column.no_wrap = True
        tables.append(out)
    return tables


def status(ok: bool, required: bool = True) -> Text:
    """A coloured status cell: ok, MISSING (required) or optional."""
    if ok:
        return Text("ok", style="green")
    return Text("MISSING", style="bold red") if required else Text("optional", style="yellow")


def json_safe(value: object) -> object:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def print_json(payload: object) -> None:
    """Machine-readable output on stdout (no colour, no wrapping; strict JSON: NaN and ±inf are null)."""
    print(json.dumps(json_safe(payload), indent=2, default=str, allow_nan=False))


def print_markdown(text: str) -> None:
    """Markdown ``text`` rendered on stdout (headings, tables, emphasis drawn by rich)."""
    from rich.markdown import Markdown

    console.print(Markdown(text))


LOG_SECONDS_ENV = "FERCL_LOG_SECONDS"
DEFAULT_LOG_SECONDS = 30.0


class LineLog:
    """Progress for a console that is not a terminal (a batch job's log file): instead of a live bar,
    one plain line per task at most every ``interval`` seconds (``FERCL_LOG_SECONDS``, default 30), and
    a last one when it stops. Takes the calls fercl makes on a ``rich.progress.Progress``."""

    def __init__(self, out: Console, interval: float | None = None, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet
        self.interval = (
            float(os.environ.get(LOG_SECONDS_ENV, DEFAULT_LOG_SECONDS)) if interval is None else interval
        )
        self._tasks: dict[int, dict] = {}
        self._began = time.monotonic()

    def __enter__(self) -> LineLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Nothing to draw until the first interval has passed."""

    def add_task(
        self, description: str, total: float | None = None, completed: float = 0, **fields: object
    ) -> int:
        task = len(self._tasks)
        self._tasks[task] = {
            "description": description,
            "total": total,
            "completed": completed,
            "printed": None,
            "due": time.monotonic() + self.interval,
            **fields,
        }
        return task

    def update(self, task: int, **changes: object) -> None:
        state = self._tasks[task]
        state.update((k, v) for k, v in changes.items() if v is not None)
        if time.monotonic() >= state["due"]:
            self._line(state)

    def stop(self) -> None:
        for state in self._tasks.values():
            if state["printed"] != state["completed"]:
                self._line(state)

    def _line(self, state: dict) -> None:
        if self.quiet:
            return
        done, total = state["completed"], state["total"]
        share = f" ({100 * done / total:.0f} %)" if total else ""
        info = f" {state['info']}" if state.get("info") else ""
        elapsed = time.monotonic() - self._began
        self.out.print(
            f"{state['description']}: {done:g}/{total if total is not None else '?'}{share}{info} "
            f"[{elapsed:.0f} s]",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        state["printed"], state["due"] = done, time.monotonic() + self.interval


def progress_display(*columns: object, out: Console, transient: bool = False, enabled: bool = True) -> object:
    """A rich ``Progress`` with ``columns`` on a terminal, else a :class:`LineLog` on the same console;
    nothing at all when not ``enabled`` (e.g. ``--json``: the output is for a program)."""
    if not enabled or not out.is_terminal:
        return LineLog(out, quiet=not enabled)
    from rich.progress import Progress

    return Progress(*columns, console=out, transient=transient)


INTERRUPTED_STATUS = 130
"""Exit status after Ctrl-C (128 + SIGINT), as shells report it."""


class Stoppable(Protocol):
    """A display that can be stopped (the progress classes here)."""

    def stop(self) -> None: ...


@contextmanager
def interruptible(progress: Stoppable, kept: str, show: bool = True) -> Iterator[None]:
    """Run a long stage under ``progress``: its bars stop when the stage ends however it ends; Ctrl-C
    prints ``interrupted: {kept}`` on stderr (when ``show``) and exits with :data:`INTERRUPTED_STATUS`
    (``kept`` says what was saved and how to resume)."""
    try:
        yield
    except KeyboardInterrupt:
        progress.stop()
        if show:
            err_console.print(f"interrupted: {kept}", markup=False, highlight=False)
        raise SystemExit(INTERRUPTED_STATUS) from None
    finally:
        progress.stop()


class StageProgress:
    """``fercl demo``'s display: one transient progress bar per stage on stderr, and each stage's headline
    on stdout when it ends; fed by the chain's ``stage`` / ``progress`` / ``done`` events."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def on_event(self, kind: str, payload: dict[str, Any]) -> None:
        if not self.enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if kind == "stage":
            self.stop()
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
                disable=not err_console.is_terminal,
            )
            self._bar.start()
            self._task = self._bar.add_task(payload["title"], total=None)
        elif kind == "progress" and self._bar is not None:
            self._bar.update(
                self._task,
                description=f"{payload['stage']}: {payload['what']}",
                completed=payload["done"],
                total=payload["total"] or None,
            )
        elif kind == "done":
            self.stop()
            status = {"ran": "green", "resumed": "yellow", "reused": "cyan"}[payload["status"]]
            console.print(
                f"[bold]{payload['stage']:<10}[/] [{status}]{payload['status']:<7}[/] "
                f"{payload['seconds']:6.1f} s  {escape(payload['headline'])}",
                highlight=False,
                soft_wrap=True,
            )

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class _EventProgress:
    """A rich progress bar driven by a library's ``on_event(kind, payload)`` callback (see subclasses)."""

    label = ""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = None
        self._task = None

    def _start(self, total: int, completed: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

        self._progress = progress_display(
            TextColumn(f"[bold]{self.label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            out=console,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=total, completed=completed, info="")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class CountProgress(_EventProgress):
    """A ``progress(done, total)`` callback drawing a bar that appears on the first call (after the
    library has checked its inputs, so a one-line error is not preceded by an empty bar)."""

    def __init__(self, label: str, enabled: bool = True) -> None:
        super().__init__(enabled)
        self.label = label

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            self._start(total, done)
        self._progress.update(self._task, completed=done, total=total)


class TrainingProgress(_EventProgress):
    """Progress of ``fercl pretrain`` from the training loop's events (``start``, ``step``, ``epoch``, ``end``)."""

    label = "pretrain"

    def on_event(self, kind: str, payload: dict) -> None:
        if not self.enabled:
            return
        if kind == "start":
            for note in payload.get("notes", []):
                console.print(f"[yellow]note:[/] {escape(note)}")
            console.print(
                f"pretraining on {payload['device']} x{payload['world_size']}: {payload['clips']} clips, "
                f"{payload['frames']} frames, {payload['steps_per_epoch']} steps/epoch; skipped clips: {payload['skipped']}"
            )
            self._start(payload["total_steps"], payload["start_step"])
        elif kind == "step" and self._progress is not None:
            info = (
                f"ep {payload['epoch']} loss {payload['loss']:.3f} acc {payload['contrastive_accuracy']:.2f} "
                f"{payload['images_per_s']:.0f} img/s wait {100 * payload['data_wait']:.0f}%"
            )
            self._progress.update(self._task, completed=payload["step"], info=info)


def run_summary_table(summary: dict) -> Table:
    """The end-of-run table of ``fercl pretrain``."""
    rows = [
        ("run directory", summary["out"]),
        ("stopped", summary["stopped"]),
        ("epochs done", summary["epochs_done"]),
        ("steps", summary["steps"]),
        ("last loss", f"{summary['last_loss']:.4f}" if math.isfinite(summary["last_loss"]) else "-"),
        ("images/s", f"{summary['images_per_second']:.1f}" if summary["images_per_second"] else "-"),
        ("data-wait fraction", f"{summary['data_wait_fraction']:.2f}"),
        ("FaceSwap views used", summary["swapped_views"]),
        ("skipped clips (epoch 0)", summary["skipped_clips"]),
        ("checkpoint", summary["checkpoint"]),
        *(("note", note) for note in summary["notes"]),
    ]
    return table("fercl pretrain", ["", "value"], rows)


class ClipProgress(_EventProgress):
    """Progress over clips of ``fercl preprocess`` from its events (``start``, ``clip``, ``end``)."""

    label = "preprocess"

    def on_event(self, kind: str, payload: dict) -> None:
        if not self.enabled:
            return
        if kind == "start":
            for note in payload["notes"]:
                console.print(escape(note))
            if payload["done"]:
                console.print(
                    f"resuming: {payload['done']} of {payload['total']} clips are already in the store"
                )
            self._start(payload["total"], payload["done"])
            self._started = time.perf_counter()
        elif kind == "clip" and self._progress is not None:
            stats = payload["stats"]
            elapsed = max(time.perf_counter() - self._started, 1e-9)
            info = f"{stats.get('kept', 0)} frames kept, {stats.get('frames_read', 0) / elapsed:.1f} frames/s"
            self._progress.update(self._task, advance=1, info=info)


def preprocess_summary_table(summary: dict) -> Table:
    """The end-of-run table of ``fercl preprocess``."""
    rows = [
        ("store", summary["store"]),
        ("layout", summary["layout"]),
        ("clips found / in this shard", f"{summary['clips_found']} / {summary['clips_in_shard']}"),
        ("clips already done (resumed)", summary["clips_already_done"]),
        ("clips processed now", summary["clips_processed"]),
        ("clips without any face", summary["clips_without_frames"]),
        ("clips unreadable (corrupt video or folder)", summary["clips_unreadable"]),
        ("clips whose video has fewer fps than --fps", summary["clips_fps_above_video"]),
        ("frames read / kept", f"{summary['frames_read']} / {summary['frames_kept']}"),
        *((f"frames dropped: {reason}", count) for reason, count in summary["dropped"].items()),
        ("frames with several faces (kept one)", summary["several_faces"]),
        ("detector runs / tracked frames", f"{summary['detections']} / {summary['tracked']}"),
        ("time", f"{summary['seconds']:.1f} s"),
        ("frames/s", f"{summary['frames_per_second']:.1f}"),
    ]
    return table("fercl preprocess", ["", "value"], rows)


@contextmanager
def stage_progress(enabled: bool) -> Iterator[Any]:
    """A rich progress bar on stderr, one line per stage, fed by ``progress(stage, done, total)`` calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    bars = progress_display(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        out=err_console,
        transient=True,
        enabled=enabled,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total)
        bars.update(tasks[stage], completed=done, total=total)

    with bars:
        yield update
