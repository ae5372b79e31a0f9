import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.train import checkpoint
from tests.factories.stores import write_tiny_store

runner = CliRunner()
SMALL = ["--arch", "resnet18", "--size", "24", "--batch-clips", "2", "--workers", "0", "--device", "cpu"]


def test_cli_run_prints_json_summary_and_honours_a_config_file(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("epochs = 1\nlr = 0.001\nseed = 5\n")
    result = runner.invoke(
        app,
        [
            "pretrain",
            str(store),
            "--out",
            str(tmp_path / "run"),
            *SMALL,
            "--config",
            str(cfg),
            "--lr",
            "0.002",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["steps"] == 3 and summary["stopped"] == "finished"
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (resolved["epochs"], resolved["lr"], resolved["seed"], resolved["arch"]) == (
        1,
        0.002,
        5,
        "resnet18",
    )


def test_missing_swap_bank_is_a_one_line_error(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5", clips=2)
    result = runner.invoke(app, ["pretrain", str(store), "--out", str(tmp_path / "r"), *SMALL, "--face-swap"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: --face-swap needs a swap bank")


def test_kill_minus_9_then_resume_gives_the_uninterrupted_weights(tmp_path):
    # Every run in its own process with the same thread count: float reductions (and so bit-exactness)
    # depend on how many threads torch uses.
    store = write_tiny_store(tmp_path / "faces.h5")
    args = [str(store), *SMALL, "--epochs", "4", "--seed", "11"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "2"}
    command = [sys.executable, "-m", "fercl_cli", "pretrain", *args, "--json"]
    subprocess.run([*command, "--out", str(tmp_path / "straight")], check=True, capture_output=True, env=env)
    run = tmp_path / "killed"
    proc = subprocess.Popen(
        [*command, "--out", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if (run / "last.pt").exists() and checkpoint.load(run)["epoch"] >= 1:
            break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint.load(run)["epoch"] < 4
    resumed = subprocess.run(
        [*command, "--out", str(run), "--resume"], capture_output=True, text=True, env=env
    )
    assert resumed.returncode == 0, resumed.stderr
    a, b = checkpoint.load(tmp_path / "straight")["model"], checkpoint.load(run)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_second_run_on_a_locked_run_directory_is_refused(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5")
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out / ".lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = runner.invoke(app, ["pretrain", str(store), "--out", str(out), *SMALL, "--epochs", "1"])
        assert result.exit_code == 2
        assert "another process is writing this run directory" in result.output
        assert not (out / "config.json").exists() and not (out / "metrics.jsonl").exists()
    finally:
        holder.kill()
        holder.wait()
    assert (
        runner.invoke(app, ["pretrain", str(store), "--out", str(out), *SMALL, "--epochs", "1"]).exit_code
        == 0
    )


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(120)
"""


def test_resume_trains_on_the_rows_committed_when_the_run_started(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5")
    original = tmp_path / "original.h5"
    original.write_bytes(store.read_bytes())
    common = [*SMALL, "--epochs", "2", "--seed", "4"]
    assert (
        runner.invoke(app, ["pretrain", str(original), "--out", str(tmp_path / "a"), *common]).exit_code == 0
    )
    cut = ["pretrain", str(store), "--out", str(tmp_path / "b"), *common]
    assert runner.invoke(app, [*cut, "--max-steps", "2"]).exit_code == 0
    write_tiny_store(store, clips=3, first=6)  # preprocess appended clips while the run was stopped
    resumed = runner.invoke(app, [*cut, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    b = checkpoint.load(tmp_path / "b")
    assert b["store"]["clips"] == 6
    a = checkpoint.load(tmp_path / "a")["model"]
    assert all(torch.equal(a[k], b["model"][k]) for k in a)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_mid_run_then_resume_gives_the_uninterrupted_weights(tmp_path, signum):
    # The signal lands mid-step; the run finishes that step, saves it, and exits 130 (no half-step state,
    # e.g. BatchNorm running statistics of a step that the resume would redo).
    store = write_tiny_store(tmp_path / "faces.h5")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "2"}
    command = [
        sys.executable,
        "-m",
        "fercl_cli",
        "pretrain",
        str(store),
        *SMALL,
        "--epochs",
        "3",
        "--seed",
        "8",
    ]
    subprocess.run([*command, "--out", str(tmp_path / "straight")], check=True, capture_output=True, env=env)
    run = tmp_path / "stopped"
    proc = subprocess.Popen(
        [*command, "--out", str(run), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    metrics = run / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (metrics.exists() and metrics.read_text().count("\n") >= 2):
        assert proc.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.01)
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: the position is saved" in err and "Traceback" not in err
    saved = checkpoint.load(run)
    assert saved["reason"] == "interrupted" and 2 <= saved["step"] < 9
    assert len(metrics.read_text().splitlines()) == saved["step"]
    resumed = subprocess.run(
        [*command, "--out", str(run), "--resume"], capture_output=True, text=True, env=env
    )
    assert resumed.returncode == 0, resumed.stderr
    a, b = checkpoint.load(tmp_path / "straight")["model"], checkpoint.load(run)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def _strict(text: str):
    def refuse(constant: str):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_resuming_a_finished_run_says_so_in_strict_json_and_in_the_table(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5")
    args = ["pretrain", str(store), "--out", str(tmp_path / "run"), *SMALL, "--epochs", "1"]
    first = _strict(runner.invoke(app, [*args, "--json"]).stdout)
    again = runner.invoke(app, [*args, "--resume", "--json"])
    assert again.exit_code == 0, again.output
    summary = _strict(again.stdout)
    assert summary["stopped"] == "already finished" and summary["last_loss"] == first["last_loss"]
    assert summary["images_per_second"] == 0.0 and "nothing was trained" in summary["notes"][-1]
    shown = runner.invoke(app, [*args, "--resume"], env={"COLUMNS": "200"}).stdout
    assert "already finished" in shown and "nan" not in shown


def test_print_json_never_writes_nan_or_infinity(capsys):
    from fercl_cli import report

    report.print_json({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": {"d": float("nan")}})
    assert _strict(capsys.readouterr().out) == {"a": None, "b": [None, None, 1.5], "c": {"d": None}}


def test_every_command_prints_json_through_print_json():
    commands = Path(__file__).resolve().parents[2] / "fercl_cli" / "commands"
    for path in commands.glob("*.py"):
        text = path.read_text()
        assert "print(json" not in text and "echo(json" not in text, path
        if '"--json"' in text:
            assert "report.print_json(" in text, path


def test_resume_reads_the_runs_config_prints_what_changed_and_may_add_epochs(tmp_path):
    store = write_tiny_store(tmp_path / "faces.h5")
    run = tmp_path / "run"
    first = runner.invoke(
        app,
        ["pretrain", str(store), "--out", str(run), *SMALL, "--epochs", "1", "--lr", "0.002", "--seed", "6"],
    )
    assert first.exit_code == 0, first.output
    # No options but the paths: everything else (lr, seed, arch, size, ...) comes from RUN/config.json.
    again = runner.invoke(
        app, ["pretrain", str(store), "--out", str(run), "--resume", "--epochs", "2", "--json"]
    )
    assert again.exit_code == 0, again.output
    assert "resuming with changed options: epochs 1 → 2" in again.stderr
    assert json.loads(again.stdout)["steps"] == 6
    resolved = json.loads((run / "config.json").read_text())
    assert (resolved["lr"], resolved["seed"], resolved["arch"], resolved["epochs"]) == (
        0.002,
        6,
        "resnet18",
        2,
    )
    refused = runner.invoke(app, ["pretrain", str(store), "--out", str(run), "--resume", "--lr", "0.1"])
    assert refused.exit_code == 2 and "lr (checkpoint 0.002, now 0.1)" in refused.output
    fewer = runner.invoke(app, ["pretrain", str(store), "--out", str(run), "--resume", "--epochs", "1"])
    assert fewer.exit_code == 2 and "epochs (checkpoint 2, now 1)" in fewer.output
