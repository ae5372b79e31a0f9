"""report.py: progress as plain log lines when the output is not a terminal; Markdown output."""

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console

from fercl_cli import report
from tests.factories.stores import write_tiny_store


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=200), buffer


def test_line_log_prints_at_most_every_interval_and_a_last_line(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(report.time, "monotonic", lambda: clock[0])
    out, buffer = _console()
    log = report.LineLog(out, interval=10)
    task = log.add_task("swap", total=100)
    for step in range(1, 101):
        clock[0] = step * 0.5  # 50 s in all: lines at 10, 20, 30, 40 and 50 s
        log.update(task, completed=step)
    log.stop()
    lines = buffer.getvalue().splitlines()
    assert lines == [f"swap: {n}/100 ({n} %) [{n // 2} s]" for n in (20, 40, 60, 80, 100)]


def test_progress_display_is_a_bar_on_a_terminal_and_lines_elsewhere():
    assert isinstance(report.progress_display(out=_console()[0]), report.LineLog)
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert not isinstance(report.progress_display(out=terminal), report.LineLog)


def test_pretrain_in_a_batch_job_logs_progress_lines(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5")
    env = {**os.environ, report.LOG_SECONDS_ENV: "0"}
    args = ["pretrain", str(store), "--out", str(tmp_path / "run"), "--arch", "resnet18", "--size", "24"]
    args += ["--batch-clips", "2", "--workers", "0", "--device", "cpu", "--epochs", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "fercl_cli", *args], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("pretrain: ")]
    assert [line.split()[1] for line in lines] == [f"{n}/6" for n in range(1, 7)]
    assert "loss" in lines[-1]


def test_interruptible_stops_the_display_and_exits_130_naming_what_was_kept(capsys):
    class Display:
        stopped = 0

        def stop(self):
            self.stopped += 1

    display = Display()
    with pytest.raises(SystemExit) as exit_info, report.interruptible(display, "the work is kept in X"):
        raise KeyboardInterrupt
    assert exit_info.value.code == report.INTERRUPTED_STATUS == 130 and display.stopped >= 1
    assert "interrupted: the work is kept in X" in capsys.readouterr().err
    quiet = Display()
    with pytest.raises(SystemExit), report.interruptible(quiet, "not shown", show=False):
        raise KeyboardInterrupt
    assert "not shown" not in capsys.readouterr().err
    with report.interruptible(quiet, "unused"):
        pass
    assert quiet.stopped >= 2


def test_stage_progress_logs_each_stage_on_stderr_unless_disabled(monkeypatch):
    monkeypatch.setattr(report.time, "monotonic", lambda: 0.0)
    out, buffer = _console()
    monkeypatch.setattr(report, "err_console", out)
    with report.stage_progress(enabled=True) as progress:
        for done in range(1, 11):
            progress("merging frames", done, 10)
    assert buffer.getvalue().splitlines() == ["merging frames: 10/10 (100 %) [0 s]"]
    with report.stage_progress(enabled=False) as progress:
        progress("merging frames", 10, 10)
    assert buffer.getvalue().splitlines() == ["merging frames: 10/10 (100 %) [0 s]"]


def test_print_markdown_renders_on_stdout(monkeypatch):
    out, buffer = _console()
    monkeypatch.setattr(report, "console", out)
    report.print_markdown(
        "### Speed\n\nMeasured **now**.\n\n| metric | value |\n|---|---|\n| fps | 12.00 |\n"
    )
    lines = [line.strip() for line in buffer.getvalue().splitlines() if line.strip()]
    assert lines[:2] == ["Speed", "Measured now."]
    assert any(line.split() == ["fps", "12.00"] for line in lines)
    assert "|" not in buffer.getvalue() and "#" not in buffer.getvalue()
