"""``fercl preprocess voxceleb|folder``: videos and frames into the face store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from fercl_cli.preprocess.pipeline import PreprocessConfig
    from fercl_cli.sources.voxceleb import Discovery

app = typer.Typer(
    help=(
        "Decode, detect, landmark, align and crop talking-face clips into a face store (HDF5).\n\n"
        "Example: fercl preprocess voxceleb /data/voxceleb1/unzippedIntervalFaces --out faces.h5 --workers 8"
    ),
    no_args_is_help=True,
)


def _config(options: Mapping[str, Any]) -> PreprocessConfig:
    """The checked :class:`PreprocessConfig` of the options both subcommands share (``ctx.params``)."""
    from fercl_cli.errors import FerclError
    from fercl_cli.faces import BACKENDS
    from fercl_cli.faces.dlib_backend import MIN_FACE_PX
    from fercl_cli.faces.select import RULES
    from fercl_cli.preprocess.pipeline import PreprocessConfig, check_output, parse_fps, parse_shard

    out, size, encoding, workers = options["out"], options["size"], options["encoding"], options["workers"]
    detector, rule, upsample = options["detector"], options["rule"], options["upsample"]
    detect_face_px, redetect_every = options["detect_face_px"], options["redetect_every"]
    commit_seconds, models_dir = options["commit_seconds"], options["models_dir"]

    if detector not in BACKENDS:
        raise FerclError(f"--detector must be one of {', '.join(BACKENDS)}, got {detector!r}")
    if encoding not in ("raw", "jpeg"):
        raise FerclError(f"--encoding must be raw or jpeg, got {encoding!r}")
    if rule not in RULES:
        raise FerclError(f"--face-rule must be one of {', '.join(RULES)}, got {rule!r}")
    if size < 32:
        raise FerclError(f"--size must be at least 32 px, got {size}")
    if commit_seconds < 0:
        raise FerclError(f"--commit-seconds cannot be negative, got {commit_seconds}")
    if workers < 0 or upsample < 0 or redetect_every < 0:
        raise FerclError("--workers, --upsample and --redetect-every cannot be negative")
    if detect_face_px and detect_face_px < MIN_FACE_PX:
        raise FerclError(
            f"--detect-face-px must be 0 (off) or at least {MIN_FACE_PX} (dlib HOG's window), got {detect_face_px}"
        )
    return PreprocessConfig(
        out=str(check_output(out)),
        size=size,
        fps=parse_fps(options["fps"]),
        encoding=encoding,
        detector=detector,
        models_dir=str(models_dir) if models_dir else None,
        upsample=upsample,
        detect_face_px=detect_face_px,
        cnn_fallback=options["cnn_fallback"],
        track=options["track"],
        redetect_every=redetect_every,
        rule=rule,
        workers=workers,
        shard=parse_shard(options["shard"]),
        limit_clips=options["limit_clips"],
        commit_seconds=commit_seconds,
    )


def _run(discovery: Discovery, config: PreprocessConfig, json_output: bool) -> None:
    from fercl_cli import report
    from fercl_cli.preprocess.pipeline import preprocess as run
    from fercl_cli.space import disk_full_is_an_error

    progress = report.ClipProgress(enabled=not json_output)
    kept = f"committed clips are kept in {config.out}; rerun the same command to resume"
    with report.interruptible(progress, kept), disk_full_is_an_error(config.out):
        summary = run(discovery, config, on_event=progress.on_event)
    if json_output:
        report.print_json(summary.to_dict())
    else:
        report.console.print(report.preprocess_summary_table(summary.to_dict()))


OUT = typer.Option(..., "--out", help="Face store to write (created, or resumed when it exists).")
FPS = typer.Option("25/6", "--fps", help="Frames per second kept from videos (VoxCeleb's 25/6 by default).")
SIZE = typer.Option(128, "--size", help="Side of the aligned square crops in pixels.")
ENCODING = typer.Option("raw", "--encoding", help="raw uint8 pixels, or jpeg (4-8x smaller).")
WORKERS = typer.Option(1, "--workers", help="Analysis worker processes (0 = in this process).")
SHARD = typer.Option(
    "0/1", "--shard", help="I/N: process every N-th clip from the I-th; join with 'fercl store merge'."
)
LIMIT = typer.Option(None, "--limit-clips", help="Process at most K clips (of this shard).")
DETECTOR = typer.Option("dlib", "--detector", help="dlib (default) or insightface (needs --models-dir).")
MODELS = typer.Option(None, "--models-dir", help="Folder with the detector/landmark model files.")
UPSAMPLE = typer.Option(1, "--upsample", help="dlib HOG upsampling (1 finds faces down to ~40 px).")
FACE_PX = typer.Option(
    100,
    "--detect-face-px",
    help="Fast detection on large frames: HOG runs on a copy downscaled so the face is about N px wide, "
    "landmarks at full resolution; the full --upsample search runs when that finds no face (0 = off).",
)
CNN = typer.Option(
    False,
    "--cnn-fallback/--no-cnn-fallback",
    help="Run dlib's CNN detector when HOG finds no face (slow on CPU).",
)
TRACK = typer.Option(
    True,
    "--track/--no-track",
    help="Re-fit landmarks from the previous frame instead of detecting every frame.",
)
REDETECT = typer.Option(
    4, "--redetect-every", help="With --track: a full detection at least every N frames (0 = on drift only)."
)
RULE = typer.Option(
    "best", "--face-rule", help="Which face to keep when there are several: best | largest | track."
)
JSON = typer.Option(False, "--json", help="Print the summary as JSON.")
COMMIT = typer.Option(
    5.0,
    "--commit-seconds",
    help="Commit finished clips at least this often (a crash loses at most this much work).",
)


@app.command("voxceleb")
def voxceleb(
    ctx: typer.Context,
    root: Path = typer.Argument(
        ..., help="VoxCeleb root: <id>/<video>/<clip>.mp4 or unzippedIntervalFaces/..."
    ),
    out: Path = OUT,
    layout: str = typer.Option("auto", "--layout", help="auto | videos | frames."),
    meta: Path | None = typer.Option(
        None, "--meta", help="vox1_meta.csv (frames layout; found next to ROOT if omitted)."
    ),
    fps: str = FPS,
    size: int = SIZE,
    encoding: str = ENCODING,
    workers: int = WORKERS,
    shard: str = SHARD,
    limit_clips: int | None = LIMIT,
    detector: str = DETECTOR,
    models_dir: Path | None = MODELS,
    upsample: int = UPSAMPLE,
    detect_face_px: int = FACE_PX,
    cnn_fallback: bool = CNN,
    track: bool = TRACK,
    redetect_every: int = REDETECT,
    rule: str = RULE,
    commit_seconds: float = COMMIT,
    json_output: bool = JSON,
) -> None:
    """VoxCeleb1/2 videos or unzippedIntervalFaces frames into a face store.

    Example: fercl preprocess voxceleb /data/voxceleb1 --out faces.h5 --workers 8 --encoding jpeg
    """
    from fercl_cli.sources.voxceleb import discover_voxceleb

    _run(discover_voxceleb(root, layout, meta), _config(ctx.params), json_output)


@app.command("folder")
def folder(
    ctx: typer.Context,
    root: Path = typer.Argument(
        ..., help="One sub-folder per identity, holding videos or image-sequence folders."
    ),
    out: Path = OUT,
    fps: str = FPS,
    size: int = SIZE,
    encoding: str = ENCODING,
    workers: int = WORKERS,
    shard: str = SHARD,
    limit_clips: int | None = LIMIT,
    detector: str = DETECTOR,
    models_dir: Path | None = MODELS,
    upsample: int = UPSAMPLE,
    detect_face_px: int = FACE_PX,
    cnn_fallback: bool = CNN,
    track: bool = TRACK,
    redetect_every: int = REDETECT,
    rule: str = RULE,
    commit_seconds: float = COMMIT,
    json_output: bool = JSON,
) -> None:
    """Any tree of talking-face videos or image sequences into a face store.

    Example: fercl preprocess folder /data/my_videos --out faces.h5 --workers 4
    """
    from fercl_cli.sources.folders import discover_folder

    _run(discover_folder(root), _config(ctx.params), json_output)


def register(root_app: typer.Typer) -> None:
    root_app.add_typer(app, name="preprocess")
