"""``fercl sample``: generate the embedded sample corpus (VoxCeleb1, AffectNet, FER2013, RAF-DB and LFW formats)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from fercl_cli.sample.gate import GateResult

PROFILES = ("default", "testbed")


def sample(
    out_dir: Path = typer.Argument(
        ..., metavar="DIR", help="Folder to write (new, empty, or an earlier sample corpus)."
    ),
    profile: str = typer.Option(
        "default",
        "--profile",
        help="default: the small corpus of the tests and demo; testbed: the factorised corpus that can test "
        "the paper's claim (per-clip backgrounds, long expressions, held-out people), checked by its gate.",
    ),
    check: bool = typer.Option(
        False, "--check", help="Write nothing: run the testbed gate on the existing corpus in DIR."
    ),
    identities: int | None = typer.Option(
        None, "--identities", help="People in the pretraining clips [default 8; testbed 96]."
    ),
    clips_per_identity: int | None = typer.Option(
        None, "--clips-per-identity", help="Clips per person [default 3; testbed 2]."
    ),
    seconds: float | None = typer.Option(
        None, "--seconds", help="Clip length in seconds, 25 fps [default 6; testbed 20]."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same corpus."),
    eval_identities: int | None = typer.Option(
        None,
        "--eval-identities",
        help="People in the evaluation sets [default 4; testbed 32, held out, half train, half test].",
    ),
    images_per_class: int | None = typer.Option(
        None,
        "--images-per-class",
        help="Evaluation photos per person and class [default 4; testbed 14].",
    ),
    lfw_images: int | None = typer.Option(
        None,
        "--lfw-images",
        help="LFW photos per person [default 10; testbed 20, each on its own background].",
    ),
    size: int = typer.Option(64, "--size", help="Testbed face-frame size in pixels (videos and JPEGs)."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write a small talking-face corpus and evaluation sets, in the official on-disk formats, with ground truth.

    Faces come from real photos shipped in installed packages (scikit-image, matplotlib, and the
    insightface 2.1 wheel when it has been fetched); extra identities are blends of them, marked derived.
    See docs/sample-data.md.

    Example: fercl sample /tmp/s --identities 8 --clips-per-identity 3 --seconds 6 --seed 0

    Testbed: fercl sample /tmp/tb --profile testbed (about 15 min of CPU), then fercl sample /tmp/tb --check
    """
    from fercl_cli import report
    from fercl_cli.errors import FerclError
    from fercl_cli.sample.corpus import SampleOptions, check_output, generate_sample

    if profile not in PROFILES:
        raise FerclError(f"--profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if check:
        _check(out_dir, json_output)
        return
    if profile == "testbed":
        _testbed(
            out_dir,
            seed,
            json_output,
            identities=identities,
            clips_per_identity=clips_per_identity,
            seconds=seconds,
            eval_identities=eval_identities,
            images_per_class=images_per_class,
            lfw_images=lfw_images,
            size=size,
        )
        return
    options = SampleOptions(
        identities=8 if identities is None else identities,
        clips_per_identity=3 if clips_per_identity is None else clips_per_identity,
        seconds=6.0 if seconds is None else seconds,
        seed=seed,
        eval_identities=4 if eval_identities is None else eval_identities,
        images_per_class=4 if images_per_class is None else images_per_class,
        lfw_images=10 if lfw_images is None else lfw_images,
    )
    options.check()
    check_output(out_dir)
    with report.stage_progress(enabled=not json_output) as progress:
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


def _print_gate(result: GateResult, json_output: bool, payload: dict | None = None) -> None:
    from fercl_cli import report
    from fercl_cli.errors import FerclError

    if json_output:
        report.print_json(payload if payload is not None else result.to_dict())
    else:
        rows = [
            (
                c.name,
                f"{c.value:.3f}",
                f"{c.direction} {c.threshold:.3f}",
                report.Text("pass", style="green") if c.passed else report.Text("FAIL", style="bold red"),
                c.detail,
            )
            for c in result.checks
        ]
        report.console.print(
            report.table("testbed gate", ["check", "value", "threshold", "result", "detail"], rows)
        )
    if not result.passed:
        raise FerclError(result.failure_message())


def _check(out_dir: Path, json_output: bool) -> None:
    from fercl_cli.sample.gate import run_gate

    _print_gate(run_gate(out_dir), json_output)


def _testbed(out_dir: Path, seed: int, json_output: bool, **changes: object) -> None:
    from fercl_cli import report
    from fercl_cli.sample.corpus import check_output
    from fercl_cli.sample.gate import GateCheck, GateResult
    from fercl_cli.sample.testbed import TestbedOptions, generate_testbed, with_overrides

    options = with_overrides(TestbedOptions(seed=seed), **changes)
    options.check()
    check_output(out_dir)
    with report.stage_progress(enabled=not json_output) as progress:
        manifest = generate_testbed(out_dir, options, progress)
    gate = GateResult(checks=[GateCheck(**c) for c in manifest["gate"]["checks"]])
    if not json_output:
        counts = manifest["counts"]
        vox, affect, fer = counts["voxceleb"], counts["affectnet"], counts["fer2013"]
        split = manifest["evaluation_identities"]
        rows = [
            (
                "VoxCeleb1",
                f"{vox['identities']} people, {vox['clips']} clips, {vox['frames']} frames (25 fps), "
                f"{vox['interval_frames']} face JPEGs ({options.size} px)",
                str(out_dir / "voxceleb"),
            ),
            (
                "AffectNet",
                f"{affect['training']} training ({len(split['train'])} people), {affect['validation']} "
                f"validation ({len(split['test'])} other people)",
                str(out_dir / "affectnet"),
            ),
            (
                "FER2013",
                f"{fer['training']} Training, {fer['public_test']} PublicTest, {fer['private_test']} PrivateTest",
                str(out_dir / "fer2013" / "fer2013.csv"),
            ),
            (
                "LFW",
                f"{counts['lfw']['people']} held-out people, {counts['lfw']['images']} photos, each on its own "
                "background",
                str(out_dir / "lfw"),
            ),
            ("generation", f"{manifest['generation_seconds']:.0f} s", str(out_dir / "sample.json")),
        ]
        report.console.print(
            report.table(
                f"fercl sample --profile testbed (seed {seed})", ["dataset", "contents", "path"], rows
            )
        )
        for note in manifest["notes"]:
            report.console.print(f"[yellow]note:[/] {note}")
    _print_gate(gate, json_output, manifest)


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)
