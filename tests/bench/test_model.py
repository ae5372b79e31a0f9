"""fercl bench model runs end to end on tiny inputs (its speed is not asserted here)."""

import json
import math

import pytest
from typer.testing import CliRunner

from fercl_cli.bench.model import bench_model, parse_config
from fercl_cli.bench.record import write_section
from fercl_cli.cli import app
from fercl_cli.errors import FerclError


def test_the_model_bench_measures_each_config_and_thread_count(tmp_path):
    result = bench_model(
        [("smallcnn", 24), ("resnet18-cifar", 16)], threads=(1, 2), batch=4, steps=1, warmup=0
    )
    assert [r.metric for r in result.rows] == [
        "smallcnn at 24 px, 1 thread",
        "smallcnn at 24 px, 2 threads",
        "resnet18-cifar at 16 px, 1 thread",
        "resnet18-cifar at 16 px, 2 threads",
    ]
    assert all(r.unit == "images/s" and math.isfinite(r.value) and r.value > 0 for r in result.rows)
    assert any("shared with other work" in note for note in result.notes)
    doc = write_section(tmp_path / "benchmarks.md", result).read_text()
    assert "<!-- bench:model -->" in doc and "smallcnn at 24 px, 2 threads" in doc


def test_the_model_bench_command_and_its_errors(tmp_path):
    runner = CliRunner()
    args = ["bench", "model", "--config", "smallcnn:16", "--threads", "1", "--batch", "2", "--steps", "1"]
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == 0, done.output
    (result,) = json.loads(done.stdout)
    assert result["name"] == "model" and result["rows"][0]["metric"] == "smallcnn at 16 px, 1 thread"
    bad = runner.invoke(app, ["bench", "model", "--config", "vgg:56"])
    assert bad.exit_code == 2 and "must be one of resnet18, resnet50, resnet18-cifar, smallcnn" in bad.output
    assert parse_config("resnet18-cifar:32") == ("resnet18-cifar", 32)
    with pytest.raises(FerclError, match="whole number of pixels"):
        parse_config("smallcnn:x")
    with pytest.raises(FerclError, match="even number"):
        bench_model([("smallcnn", 16)], threads=(1,), batch=3, steps=1)
