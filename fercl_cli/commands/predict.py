"""``fercl predict``: a saved probe head applied to every face in images and videos."""

from __future__ import annotations

from pathlib import Path

import typer

from fercl_cli.commands.embed import ARCH, BATCH, CHECKPOINT, DEVICE, FPS, INPUTS, MODELS, SIZE


def predict(
    inputs: list[Path] = INPUTS,
    checkpoint: str = CHECKPOINT,
    head: Path = typer.Option(..., "--head", help="Probe head written by fercl evaluate --save-head (.npz)."),
    out: Path = typer.Option(..., "--out", help="preds.csv: one row per face."),
    plot: Path | None = typer.Option(
        None, "--plot", help="PNG of each video's curves over time (needs a video among the inputs)."
    ),
    arch: str | None = ARCH,
    size: int | None = SIZE,
    fps: str = FPS,
    device: str = DEVICE,
    batch_size: int = BATCH,
    models_dir: Path | None = MODELS,
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Predict expression probabilities (or valence/arousal) for every face, with a saved linear probe.

    Faces are found and aligned as fercl embed does; the head must come from the same backbone (hash) and input size. The CSV holds the source, frame, time and face box, then one probability column per class and the arg-max label (classification heads) or valence and arousal (affectnet-va heads).

    Example: fercl predict clip.mp4 --checkpoint runs/timeaug --head affectnet-head.npz --out preds.csv --plot curves.png
    """
    from fercl_cli import report
    from fercl_cli.apply.predict import predict as run_predict
    from fercl_cli.apply.predict import write_predictions
    from fercl_cli.commands.embed import print_failures, summary_rows
    from fercl_cli.errors import FerclError
    from fercl_cli.preprocess.pipeline import parse_fps

    if out.suffix.lower() != ".csv":
        raise FerclError(f"--out {out}: predictions are written as CSV; give a path ending in .csv")
    if plot is not None and plot.suffix.lower() != ".png":
        raise FerclError(f"--plot {plot}: the curves are written as PNG; give a path ending in .png")
    with report.stage_progress(enabled=not json_output) as progress:
        prediction = run_predict(
            inputs,
            checkpoint,
            head,
            arch=arch,
            size=size,
            fps=parse_fps(fps),
            device=device,
            batch_size=batch_size,
            models_dir=None if models_dir is None else str(models_dir),
            need_video=plot is not None,
            progress=progress,
        )
    written = [write_predictions(prediction, out)]
    if plot is not None:
        from fercl_cli.apply.plot import write_curves_png

        written.append(write_curves_png(prediction, plot))
    summary = {**prediction.summary(), "written": [str(p) for p in written]}
    if json_output:
        report.print_json(summary)
        return
    rows = [
        *summary_rows(summary),
        ("head", f"{summary['head']['kind']}: {', '.join(summary['head']['outputs'])}"),
    ]
    if "labels" in summary:
        rows.append(("labels", ", ".join(f"{k} {v}" for k, v in summary["labels"].items() if v)))
    rows.append(("written", ", ".join(summary["written"])))
    report.console.print(report.table(f"fercl predict → {out}", ["", "value"], rows))
    print_failures(summary)


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
