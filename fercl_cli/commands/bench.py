"""``fercl bench``: speed benchmarks (ours vs. the naive way, measured in the same run)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from fercl_cli.bench.record import BenchResult

app = typer.Typer(
    help=(
        "Speed benchmarks; results can be written into docs/benchmarks.md.\n\n"
        "Example: fercl bench all --write docs/benchmarks.md"
    ),
    no_args_is_help=True,
)

CORPUS = typer.Option(
    Path("build/bench/sample"), "--corpus", help="Sample corpus to run on (generated when absent)."
)
WORK = typer.Option(Path("build/bench/work"), "--work", help="Scratch folder for stores and runs.")
WRITE = typer.Option(None, "--write", help="Markdown file whose section for this benchmark is replaced.")
JSON = typer.Option(False, "--json", help="Print the results as JSON.")


def _emit(results: list[BenchResult], write: Path | None, json_output: bool) -> None:
    from fercl_cli import report
    from fercl_cli.bench.record import write_section

    for result in results:
        if write is not None:
            write_section(write, result)
    if json_output:
        report.print_json([r.to_dict() for r in results])
        return
    for result in results:
        report.print_markdown(result.markdown())
    if write is not None:
        report.console.print(f"written to {write}")


def _store(corpus: Path, work: Path) -> Path:
    from fercl_cli.bench.corpus import bench_corpus
    from fercl_cli.preprocess.pipeline import PreprocessConfig, preprocess
    from fercl_cli.sources.voxceleb import discover_voxceleb

    store = work / "faces.h5"
    if not store.exists():
        work.mkdir(parents=True, exist_ok=True)
        preprocess(
            discover_voxceleb(bench_corpus(corpus) / "voxceleb", "videos"),
            PreprocessConfig(out=str(store), workers=2),
        )
    return store


@app.command("preprocess")
def preprocess_bench(
    corpus: Path = CORPUS, work: Path = WORK, write: Path | None = WRITE, json_output: bool = JSON
) -> None:
    """Frames/s per worker, 1→2 worker scaling, tracking vs. per-frame detection, peak memory.

    Example: fercl bench preprocess --write docs/benchmarks.md
    """
    from fercl_cli.bench.corpus import bench_corpus
    from fercl_cli.bench.preprocess import bench_preprocess

    _emit([bench_preprocess(bench_corpus(corpus), work / "preprocess")], write, json_output)


@app.command("loader")
def loader_bench(
    store: Path | None = typer.Argument(
        None, help="Face store (default: the benchmark corpus, preprocessed)."
    ),
    corpus: Path = CORPUS,
    work: Path = WORK,
    batch_clips: int = typer.Option(32, "--batch-clips"),
    write: Path | None = WRITE,
    json_output: bool = JSON,
) -> None:
    """Pretraining 4-tuples/s per worker vs. detecting landmarks per sample as the released code did.

    Example: fercl bench loader faces.h5
    """
    from fercl_cli.bench.loader import bench_loader

    _emit([bench_loader(store or _store(corpus, work), batch_clips=batch_clips)], write, json_output)


@app.command("swap")
def swap_bench(
    corpus: Path = CORPUS, work: Path = WORK, write: Path | None = WRITE, json_output: bool = JSON
) -> None:
    """Swaps/s of 'fercl swap' vs. detecting landmarks on both images of every pair.

    Example: fercl bench swap --write docs/benchmarks.md
    """
    from fercl_cli.bench.offline import bench_swap

    _emit([bench_swap(_store(corpus, work), work / "swap")], write, json_output)


@app.command("describe")
def describe_bench(
    corpus: Path = CORPUS, work: Path = WORK, write: Path | None = WRITE, json_output: bool = JSON
) -> None:
    """Geometry and ResNet-18 descriptors per second on the CPU.

    Example: fercl bench describe
    """
    from fercl_cli.bench.offline import bench_describe

    _emit([bench_describe(_store(corpus, work), work / "describe")], write, json_output)


@app.command("evaluate")
def evaluate_bench(
    checkpoint: str = typer.Option(
        "random", "--checkpoint", help="What to evaluate (default: random ResNet-50)."
    ),
    corpus: Path = CORPUS,
    work: Path = WORK,
    write: Path | None = WRITE,
    json_output: bool = JSON,
) -> None:
    """A second evaluation of the same data and checkpoint reads the caches (target >= 5x faster).

    Example: fercl bench evaluate --checkpoint runs/demo
    """
    from fercl_cli.bench.corpus import bench_corpus
    from fercl_cli.bench.offline import bench_evaluate

    _emit([bench_evaluate(bench_corpus(corpus), checkpoint, work / "evaluate")], write, json_output)


@app.command("model")
def model_bench(
    config: list[str] | None = typer.Option(
        None,
        "--config",
        help="ARCH:PX to measure, repeatable (default: smallcnn:56 smallcnn:64 resnet18-cifar:32 "
        "resnet18-cifar:64 resnet18:56).",
    ),
    threads: str = typer.Option("1,2", "--threads", help="Comma-separated torch thread counts."),
    batch: int = typer.Option(64, "--batch", help="Images per training step."),
    steps: int = typer.Option(3, "--steps", help="Timed steps per configuration (the median counts)."),
    warmup: int = typer.Option(1, "--warmup", help="Untimed steps first."),
    shared: bool = typer.Option(
        True, "--shared/--dedicated", help="Note that other work shared the machine while it ran."
    ),
    write: Path | None = WRITE,
    json_output: bool = JSON,
) -> None:
    """Training images/s (forward + backward + Adam) of each backbone on the CPU, 1 and 2 threads.

    Example: fercl bench model --write docs/benchmarks.md
    """
    from fercl_cli.bench.model import CONFIGS, bench_model, parse_config
    from fercl_cli.errors import FerclError

    try:
        counts = tuple(int(part) for part in threads.split(",") if part.strip())
    except ValueError:
        raise FerclError(
            f"--threads must be comma-separated whole numbers such as 1,2, got {threads!r}"
        ) from None
    configs = tuple(parse_config(text) for text in config) if config else CONFIGS
    _emit(
        [bench_model(configs, counts, batch=batch, steps=steps, warmup=warmup, shared=shared)],
        write,
        json_output,
    )


@app.command("all")
def all_bench(
    corpus: Path = CORPUS, work: Path = WORK, write: Path | None = WRITE, json_output: bool = JSON
) -> None:
    """Every CPU benchmark, in turn, on one generated corpus (what 'make bench' runs).

    Example: fercl bench all --write docs/benchmarks.md
    """
    from fercl_cli.bench.corpus import bench_corpus
    from fercl_cli.bench.loader import bench_loader
    from fercl_cli.bench.offline import bench_describe, bench_evaluate, bench_swap
    from fercl_cli.bench.preprocess import bench_preprocess

    root = bench_corpus(corpus)
    runs = [
        lambda: bench_preprocess(root, work / "preprocess"),
        lambda: bench_loader(_store(corpus, work)),
        lambda: bench_swap(_store(corpus, work), work / "swap"),
        lambda: bench_describe(_store(corpus, work), work / "describe"),
        lambda: bench_evaluate(root, "random", work / "evaluate"),
    ]
    for run in runs:
        _emit([run()], write, json_output)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="bench")
