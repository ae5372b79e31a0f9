import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from fercl_cli import cli
from fercl_cli.errors import FerclError

runner = CliRunner()


def test_help_lists_commands_and_imports_nothing_heavy():
    code = (
        "import sys, fercl_cli.cli;"
        "heavy = [m for m in ('torch', 'dlib', 'cv2', 'h5py', 'sklearn', 'pandas', 'scipy') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for name in cli.COMMANDS:
        assert name in result.output


def test_every_command_help_has_an_example():
    for name in cli.COMMANDS:
        result = runner.invoke(cli.app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output or "example" in result.output, (
            f"'fercl {name} --help' has no example"
        )


def test_flags_show_no_value_placeholder_in_help():
    names = [["preprocess", "voxceleb"], ["store", "validate"], ["checkpoint", "convert"]]
    for words in [[n] for n in cli.COMMANDS if n not in ("preprocess", "store", "checkpoint")] + names:
        result = runner.invoke(cli.app, [*words, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0 and "<bool>" not in result.output, words
    assert "<int>" in runner.invoke(cli.app, ["pretrain", "--help"], env={"COLUMNS": "200"}).output


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "fercl_cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("fercl ")


def test_fercl_errors_become_one_line_and_exit_status_2():
    demo = typer.Typer(cls=cli._FerclGroup)

    @demo.command()
    def broken() -> None:
        raise FerclError("store /x/faces.h5 is truncated; rerun preprocess")

    @demo.command()
    def fine() -> None:
        pass

    result = runner.invoke(demo, ["broken"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: store /x/faces.h5 is truncated; rerun preprocess"


def test_gpu_out_of_memory_becomes_a_one_line_error():
    import torch

    demo = typer.Typer(cls=cli._FerclGroup)

    @demo.command()
    def big() -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    @demo.command()
    def other() -> None:
        pass

    result = runner.invoke(demo, ["big"])
    assert result.exit_code == 2
    assert result.output.startswith("error: out of GPU memory (CUDA out of memory.")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pretrain", "x.h5", "--out", "RUN", "--arch", "vgg"], "--arch must be one of resnet18, resnet50"),
        (["evaluate", "--task", "mnist", "--checkpoint", "random"], "--task must be one of"),
        (
            ["evaluate", "--task", "lfw", "--checkpoint", "random", "--device", "tpu"],
            "--device must be one of",
        ),
    ],
)
def test_a_bad_choice_is_refused_before_torch_is_imported(tmp_path, args, message):
    args = [str(tmp_path / "run") if a == "RUN" else a for a in args]
    code = (
        "import sys; from typer.testing import CliRunner; from fercl_cli.cli import app;"
        f"r = CliRunner().invoke(app, {args!r});"
        "print(r.exit_code, 'torch' in sys.modules, r.output.strip())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith(f"2 False error: {message}"), out
