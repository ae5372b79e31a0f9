"""``fercl evaluate``: score a checkpoint on AffectNet, AffectNet valence/arousal, FER2013, RAF-DB or LFW."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from fercl_cli.train.archs import ARCH_HELP


def _print_tables(result: dict[str, Any]) -> None:
    from fercl_cli import report
    from fercl_cli.evaluate.results import METRICS, Results, format_cell

    results = Results(result)
    lines = [
        f"checkpoint: {results.checkpoint['description']}  [{results.checkpoint['hash'][:23]}]",
        f"data: {result['data']['path']}  cache {'hit' if result['data']['cache_hit'] else 'written'}: "
        f"{result['data']['cache']}",
    ]
    features = result["data"]["features"]
    if features is not None:
        state = "cache hit" if features["hit"] else "extracted and cached"
        lines.append(f"features: {features['dim']}-d, {features['precision']}, {state}")
    lines.append(f"input: {result['preprocessing']['description']}")
    for line in lines:
        report.console.print(line, markup=False, highlight=False)

    rows: list[tuple[str, str]] = []
    if results.kind == "regression":
        for target in ("valence", "arousal"):
            for metric in (METRICS[f"{target}_ccc"], METRICS[f"{target}_rmse"]):
                cell = format_cell(results.metrics[metric.key], metric.percent)
                rows.append((f"{metric.name} ({metric.direction} is better)", cell))
            rows.append((f"{target} test rows scored", str(results.scored_rows(f"{target}_ccc"))))
    else:
        better = " (lower = less identity leakage)" if results.kind == "identity" else ""
        for metric in (METRICS["macro_f1"], METRICS["accuracy"]):
            rows.append((f"{metric.name}{better}", format_cell(results.metrics[metric.key], metric.percent)))
        rows.append(("test rows", str(results.scored_rows("accuracy"))))
    rows.append(("seeds", ", ".join(str(s) for s in result["seeds"])))
    for run in result["runs"]:
        rows.append((f"seed {run['seed']}: chosen", _chosen(run)))
    table = report.table(results.title, ["metric", "value"], rows)
    table.caption = result["protocol_description"]
    report.console.print(table)

    if results.kind != "regression":
        per_class = [
            (
                c["name"],
                format_cell(c["precision"], True),
                format_cell(c["recall"], True),
                format_cell(c["f1"], True),
                c["support"],
            )
            for c in results.per_class
        ]
        report.console.print(
            report.table(
                f"{results.title}: per class",
                ["class", "precision %", "recall %", "F1 %", "support"],
                per_class,
            )
        )
        confusion = results.confusion
        names = confusion["names"]
        matrix_rows = [(name, *row) for name, row in zip(names, confusion["matrix"], strict=True)]
        summed = f", summed over {confusion['runs_summed']} seeds" if confusion["runs_summed"] > 1 else ""
        report.console.print(
            report.table(
                f"{results.title}: confusion (rows true, columns predicted{summed})",
                ["true \\ predicted", *names],
                matrix_rows,
            )
        )
    for note in result["notes"]:
        report.console.print(f"note: {note}", markup=False, highlight=False)


def _chosen(run: dict[str, Any]) -> str:
    hyper = run["hyperparameters"]
    if isinstance(run["selection"], dict):  # regression: one choice per target
        return "; ".join(
            f"{name} alpha={hyper[name]['alpha']:g} ({run['selection'][name]})" for name in run["selection"]
        )
    if "best_epoch" in hyper:
        return f"epoch {hyper['best_epoch']} of {hyper['epochs']} ({run['selection']})"
    values = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in hyper.items())
    return f"{values} ({run['selection']})"


def evaluate(
    task: str = typer.Option(..., "--task", help="affectnet | affectnet-va | fer2013 | rafdb | lfw."),
    checkpoint: str = typer.Option(
        ...,
        "--checkpoint",
        help="fercl checkpoint file or run directory; another library's ResNet-18/50 checkpoint (solo-learn, "
        "lightly, SimCLR, MoCo, a torchvision state dict; docs/export.md); torchvision:PATH (any torchvision "
        "ResNet-18/50 state dict, e.g. ImageNet weights; imagenet:PATH is the older name); random (needs --arch: "
        "the floor, BatchNorm statistics calibrated on the training split's unlabelled images); random-raw "
        "(BatchNorm statistics as initialised); pixels (the raw-pixel floor: the image pooled to 16×16×3); landmarks (the landmark-geometry floor: "
        "dlib's 68 points in the aligned crop).",
    ),
    data: Path | None = typer.Option(
        None,
        "--data",
        help="AffectNet folder (training.csv, validation.csv, Manually_Annotated_Images; or train_set/, val_set/ "
        "of the .npy release), fer2013.csv or its folder layout, the RAF-DB basic folder (EmoLabel/, Image/), "
        "or LFW's scikit-learn data_home (the folder holding lfw_home; default scikit-learn's).",
    ),
    protocol: str | None = typer.Option(
        None, "--protocol", help="linear | knn | paper | nn1 (default: linear; nn1 for lfw)."
    ),
    classes: int = typer.Option(8, "--classes", help="AffectNet: 8, or 7 to drop Contempt."),
    seeds: str = typer.Option(
        "0", "--seeds", help="Comma-separated seeds, e.g. 1,2,3: mean ± std over them."
    ),
    cache: Path | None = typer.Option(
        None, "--cache", help="Cache folder for converted datasets and features (default: DATA/.fercl-cache)."
    ),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda."),
    arch: str | None = typer.Option(
        None,
        "--arch",
        help=f"{ARCH_HELP}: expected architecture (read from the weights otherwise); for random/random-raw "
        "the one built (required: the architecture of the runs it is the floor for).",
    ),
    size: int | None = typer.Option(
        None,
        "--size",
        help="Network input size in px (crops cached at size·128/112); default: the size a fercl checkpoint "
        "was trained at, else 112.",
    ),
    batch_size: int = typer.Option(
        256, "--batch-size", help="Images per forward pass when extracting features."
    ),
    epochs: int = typer.Option(20, "--epochs", help="Fine-tuning epochs of --protocol paper."),
    lr: float | None = typer.Option(
        None, "--lr", help="Peak fine-tuning learning rate of --protocol paper (default: the paper's 1e-4)."
    ),
    min_faces: int = typer.Option(
        200, "--min-faces", help="LFW: keep people with at least this many images."
    ),
    images: Path | None = typer.Option(
        None, "--images", help="AffectNet (CSV release) image folder, if not DATA/Manually_Annotated_Images."
    ),
    split: str | None = typer.Option(
        None,
        "--split",
        help="FER2013 CSV: public (default: PublicTest reported, PrivateTest selects) or private (the reverse).",
    ),
    ferplus: Path | None = typer.Option(
        None,
        "--ferplus",
        help="FER2013 CSV: fer2013new.csv, to score the 8 FER+ classes (majority vote; tied, unknown and NF "
        "rows dropped) instead of the 7 FER2013 labels.",
    ),
    rafdb_images: str = typer.Option(
        "auto",
        "--rafdb-images",
        help="RAF-DB: aligned (Image/aligned, RAF-DB's 100 px faces), original (detect and align the faces in "
        "Image/original), or auto (aligned when present).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    out: Path | None = typer.Option(
        None, "--out", help="Write the results JSON (everything needed to reproduce)."
    ),
    confusion: Path | None = typer.Option(None, "--confusion", help="Write the confusion matrix as a PNG."),
    save_head: Path | None = typer.Option(
        None,
        "--save-head",
        help="Write the fitted linear probe of the first seed (logistic: class names, coefficients, "
        "standardisation; affectnet-va: the two ridge models) with its backbone hash and input size, as .npz "
        "for fercl predict.",
    ),
) -> None:
    """Evaluate a checkpoint under a named protocol; repeated runs reuse the cached dataset and features.

    Protocols: linear (frozen features, logistic or ridge regression, regularisation chosen on held-out data), knn (cosine kNN), nn1 (LFW 1-NN on a 70/30 split), paper (the paper's fine-tuning, run correctly).

    Example: fercl evaluate --task affectnet --checkpoint runs/timeaug --data /data/AffectNet --seeds 1,2,3 --out affectnet.json

    Example: fercl evaluate --task affectnet --checkpoint runs/timeaug --data /data/AffectNet --save-head affectnet-head.npz
    """
    from fercl_cli import report
    from fercl_cli.errors import FerclError
    from fercl_cli.evaluate.request import EvaluateRequest, parse_seeds
    from fercl_cli.space import disk_full_is_an_error, write_text_atomic

    request = EvaluateRequest(
        task=task,
        checkpoint=checkpoint,
        data=data,
        protocol=protocol,
        classes=classes,
        seeds=parse_seeds(seeds),
        cache_dir=cache,
        device=device,
        arch=arch,
        input_size=size,
        batch_size=batch_size,
        epochs=epochs,
        lr=lr,
        min_faces=min_faces,
        images=images,
        split=split,
        ferplus=ferplus,
        rafdb_images=rafdb_images,
        save_head=save_head,
    )
    request.check()
    from fercl_cli.evaluate.tasks import evaluate  # torch: only once the options are sound

    if confusion is not None and request.task == "affectnet-va":
        raise FerclError("--confusion: affectnet-va is a regression task and has no confusion matrix")
    if confusion is not None and confusion.suffix.lower() != ".png":
        raise FerclError(
            f"--confusion {confusion}: the picture is written as PNG; give a path ending in .png"
        )
    with (
        report.stage_progress(enabled=not json_output) as progress,
        disk_full_is_an_error(request.cache_dir or request.data or Path.cwd()),
    ):
        result = evaluate(request, progress)
    if out is not None:
        write_text_atomic(out, json.dumps(result, indent=2) + "\n")
    if confusion is not None:
        from fercl_cli.evaluate.confusion_png import write_confusion_png
        from fercl_cli.evaluate.results import Results

        matrix = Results(result).confusion
        title = f"{result['task_title']} - protocol {result['protocol']}"
        write_confusion_png(confusion, matrix["matrix"], matrix["names"], title)
    if json_output:
        report.print_json(result)
        return
    _print_tables(result)
    for path, what in ((out, "results"), (confusion, "confusion matrix"), (save_head, "probe head")):
        if path is not None:
            report.console.print(f"{what} written to {path}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
