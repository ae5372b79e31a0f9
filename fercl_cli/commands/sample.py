"""``fercl sample``: generate the embedded sample corpus (VoxCeleb1, AffectNet, FER2013, RAF-DB and LFW formats)."""

from __future__ import annotations

from pathlib import Path

import typer


def sample(
    out_dir: Path = typer.Argument(
        ..., metavar="DIR", help="Folder to write (new, empty, or an earlier sample corpus)."
    ),
    identities: int = typer.Option(8, "--identities", help="People in the pretraining clips."),
    clips_per_identity: int = typer.Option(3, "--clips-per-identity", help="Clips per person."),
    seconds: float = typer.Option(6.0, "--seconds", help="Clip length in seconds (25 fps)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same corpus."),
    eval_identities: int = typer.Option(
        4, "--eval-identities", help="People in AffectNet, FER2013, RAF-DB and LFW."
    ),
    images_per_class: int = typer.Option(
        4, "--images-per-class", help="AffectNet/FER2013/RAF-DB photos per person and class."
    ),
    lfw_images: int = typer.Option(10, "--lfw-images", help="LFW photos per person."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write a small talking-face corpus and evaluation sets, in the official on-disk formats, with ground truth.

    Faces come from real photos shipped in installed packages (scikit-image, matplotlib, and the
    insightface 2.1 wheel when it has been fetched); extra identities are blends of them, marked derived.
    See docs/sample-data.md.

    Example: fercl sample /tmp/s --identities 8 --clips-per-identity 3 --seconds 6 --seed 0
    """
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from fercl_cli import report
    from fercl_cli.sample.corpus import SampleOptions, check_output, generate_sample

    options = SampleOptions(
        identities=identities,
        clips_per_identity=clips_per_identity,
        seconds=seconds,
        seed=seed,
        eval_identities=eval_identities,
        images_per_class=images_per_class,
        lfw_images=lfw_images,
    )
    options.check()
    check_output(out_dir)
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with report.progress_display(*columns, out=report.err_console, enabled=not json_output) as bar:
        task = bar.add_task("faces", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        summary = generate_sample(out_dir, options, progress)
    if json_output:
        report.print_json(summary.to_dict())
        return
    counts = summary.counts
    rows = [
        (
            "VoxCeleb1",
            f"{counts['voxceleb']['identities']} identities, {counts['voxceleb']['clips']} clips, "
            f"{counts['voxceleb']['frames']} frames (25 fps), {counts['voxceleb']['interval_frames']} face JPEGs",
            summary.paths["voxceleb_videos"],
        ),
        (
            "AffectNet",
            f"{counts['affectnet']['training']} training, {counts['affectnet']['validation']} validation",
            summary.paths["affectnet"],
        ),
        (
            "FER2013",
            f"{counts['fer2013']['training']} Training, {counts['fer2013']['public_test']} PublicTest, "
            f"{counts['fer2013']['private_test']} PrivateTest",
            summary.paths["fer2013"],
        ),
        (
            "RAF-DB",
            f"{counts['rafdb']['train']} train, {counts['rafdb']['test']} test (original and aligned)",
            summary.paths["rafdb"],
        ),
        (
            "LFW",
            f"{counts['lfw']['people']} people, {counts['lfw']['images']} images, "
            f"{counts['lfw']['train_pairs']}/{counts['lfw']['test_pairs']} train/test pairs",
            summary.paths["lfw_data_home"],
        ),
        (
            "identities",
            f"{summary.real_identities} real, {summary.derived_identities} derived",
            summary.paths["identities"],
        ),
        ("contact sheet", "strongest frame per identity and expression", summary.paths["contact_sheet"]),
    ]
    report.console.print(report.table(f"fercl sample (seed {seed})", ["dataset", "contents", "path"], rows))
    for note in summary.notes:
        report.console.print(f"[yellow]note:[/] {note}")


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)
