"""The demo's stages, each a library call with its own resume: sample → preprocess → swap → describe →
pretrain → evaluate → report (see :mod:`fercl_cli.demo.chain`). A rerun reuses what is finished: the
sample corpus when ``sample.json`` records the same options, the face store's committed clips, the swap
bank's committed sources, a descriptor slot with the same settings and row count, a finished pretraining
run (a partial one is resumed), and a results file of the same checkpoint and request."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from fercl_cli.demo.layout import Layout
from fercl_cli.demo.profiles import DemoProfile
from fercl_cli.demo.runs import (
    DEMO_RUN,
    RANDOM,
    evaluation_requests,
    pretrain_config,
    run_pretraining,
    strategies_label,
)
from fercl_cli.demo.stage import RAN, RESUMED, REUSED, Event, Stage, StageResult, status_of
from fercl_cli.demo.table import headline_text


def sample_stage(layout: Layout, profile: DemoProfile, emit: Event) -> StageResult:
    """Generate the sample corpus unless ``sample.json`` records the same options; regenerating removes
    everything derived from the old corpus."""
    from fercl_cli.sample.corpus import MANIFEST, generate_sample
    from fercl_cli.sample.testbed import TestbedOptions, generate_testbed

    stage = Stage("sample", "sample corpus (fercl sample)", emit)
    manifest = layout.sample / MANIFEST
    wanted = profile.sample_options()
    recorded = json.loads(manifest.read_text()) if manifest.is_file() else None
    if recorded is not None and recorded.get("options") == wanted:
        status = REUSED
    else:
        for path in layout.derived():
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        generate = generate_testbed if isinstance(profile.sample, TestbedOptions) else generate_sample
        generate(layout.sample, profile.sample, lambda what, done, total: stage.progress(what, done, total))
        recorded = json.loads(manifest.read_text())
        status = RAN
    counts = recorded["counts"]
    vox = counts["voxceleb"]
    headline = (
        f"{vox['identities']} talking people × {vox['clips']} clips ({vox['frames']} video frames at 25 fps), "
        f"AffectNet {counts['affectnet']['training']}+{counts['affectnet']['validation']} photos, "
        f"FER2013 {sum(counts['fer2013'].values())}, LFW {counts['lfw']['images']} of {counts['lfw']['people']} people"
    )
    return stage.end(status, headline, {"sample": layout.sample}, {"options": wanted, "counts": counts})


def preprocess_stage(layout: Layout, profile: DemoProfile, emit: Event) -> StageResult:
    """Preprocess the sample's VoxCeleb videos into the face store (committed clips are skipped)."""
    from fercl_cli.preprocess.pipeline import PreprocessConfig, preprocess
    from fercl_cli.sources.voxceleb import discover_voxceleb
    from fercl_cli.store.reader import FaceStore

    stage = Stage("preprocess", "detect, landmark, align, crop (fercl preprocess voxceleb)", emit)
    discovery = discover_voxceleb(layout.sample / "voxceleb", "videos")
    config = PreprocessConfig(out=str(layout.store), size=profile.crop_px, workers=profile.workers)
    done = 0

    def on_event(kind: str, payload: dict[str, Any]) -> None:
        nonlocal done
        if kind == "start":
            done = payload["done"]
            stage.progress("clips", done, payload["total"])
        elif kind == "clip":
            done += 1
            stage.progress("clips", done, len(discovery.clips))

    summary = preprocess(discovery, config, on_event)
    status = status_of(summary.clips_processed > 0, summary.clips_already_done > 0)
    store = FaceStore(layout.store)
    try:
        frames, clips = store.n_frames, store.n_clips
    finally:
        store.close()
    dropped = sum(summary.dropped.values())
    headline = (
        f"{clips} clips → {frames} aligned {profile.crop_px} px faces with 68 landmarks"
        + (f" ({dropped} frames dropped)" if dropped else "")
        + f"; {summary.clips_processed} clips processed now"
    )
    return stage.end(status, headline, {"store": layout.store}, summary.to_dict())


def swap_stage(layout: Layout, profile: DemoProfile, emit: Event) -> StageResult:
    """Build (or resume) the FaceSwap bank: ``profile.swap_per_frame`` swaps per frame, each onto another
    person's head."""
    from fercl_cli.swap.generate import build_bank

    stage = Stage("swap", "FaceSwap bank (fercl swap)", emit)
    summary = build_bank(
        layout.store,
        layout.swaps,
        per_frame=profile.swap_per_frame,
        frames="all",
        seed=0,
        workers=profile.workers,
        progress=lambda done, total: stage.progress("frames", done, total),
    )
    status = status_of(summary.swaps > 0, summary.resumed_sources > 0)
    skipped = sum(summary.skipped.values())
    headline = (
        f"{summary.total_swaps} swaps (each frame's eyes, brows, nose and mouth on "
        + (
            f"{profile.swap_per_frame} other people's heads)"
            if profile.swap_per_frame > 1
            else "another person's head)"
        )
        + (f", {skipped} frames without usable landmarks skipped" if skipped else "")
    )
    return stage.end(status, headline, {"swaps": layout.swaps}, summary.to_dict())


def _descriptors_current(store_path: Path, kind: str, config: dict[str, Any]) -> dict[str, Any] | None:
    """The attributes of the store's ``kind`` slot when it was made with ``config`` for every frame; else None."""
    from fercl_cli.store.reader import FaceStore

    store = FaceStore(store_path)
    try:
        if kind not in store.descriptor_kinds:
            return None
        attrs = store.descriptor_attrs(kind)
        same = attrs.get("config") == json.dumps(config, sort_keys=True)
        if not same or len(store.descriptors(kind)) != store.n_frames:
            return None
        return {**attrs, "frames": store.n_frames}
    finally:
        store.close()


def describe_stage(layout: Layout, emit: Event) -> StageResult:
    """Weights-free mouth-eye descriptors for MaskFN, unless the store already has them for every frame."""
    from fercl_cli.descriptors import geometry
    from fercl_cli.descriptors.describe import describe_store

    stage = Stage("describe", "mouth-eye descriptors for MaskFN (fercl describe)", emit)
    current = _descriptors_current(layout.store, "geometry", geometry.config())
    if current is not None:
        frames, valid, dim = current["frames"], int(current["valid_frames"]), int(current["dim"])
        details = {"kind": "geometry", "dim": dim, "frames": frames, "valid": valid}
        status = REUSED
    else:
        summary = describe_store(
            layout.store, "geometry", progress=lambda done, total: stage.progress("frames", done, total)
        )
        frames, valid, dim = summary.frames, summary.valid, summary.dim
        details = summary.to_dict()
        status = RAN
    headline = (
        f"{dim}-d geometry descriptors (eye/mouth landmark shapes + HOG, no weights) for {frames} frames"
        + (f", {frames - valid} flagged (never matched)" if frames != valid else "")
    )
    return stage.end(status, headline, {"descriptors": Path(f"{layout.store}#descriptors/geometry")}, details)


def pretrain_stage(layout: Layout, profile: DemoProfile, device: str, emit: Event) -> StageResult:
    """Pretrain the demo checkpoint with all four strategies (TimeAug, HardNeg, FaceSwap, MaskFN)."""
    config = pretrain_config(
        layout,
        profile,
        layout.runs / DEMO_RUN,
        device,
        time_aug=True,
        hard_neg=True,
        face_swap=True,
        swap_p=profile.swap_p,
        swap_q=profile.swap_p,
        mask_fn="top1-other-clip",
    )
    stage = Stage("pretrain", "contrastive pretraining (fercl pretrain)", emit)
    status, details = run_pretraining(config, lambda done, total: stage.progress("steps", done, total))
    headline = (
        f"{profile.arch} at {profile.net_px} px, {strategies_label(config)}: {details['epochs_done']} epochs, "
        f"{details['steps']} steps of {profile.batch_clips} clips"
    )
    if details["last_epoch_loss"] is not None:
        headline += (
            f"; loss {details['first_epoch_loss']:.2f} → {details['last_epoch_loss']:.2f}, positives found "
            f"{100 * details['contrastive_accuracy']:.0f} % (chance {100 * details['chance_accuracy']:.0f} %)"
        )
    return stage.end(status, headline, {"run": Path(config.out)}, {"config": config.to_dict(), **details})


def evaluate_stage(layout: Layout, profile: DemoProfile, device: str, emit: Event) -> StageResult:
    """Score the demo checkpoint and the random-init floor on AffectNet, AffectNet V/A, FER2013 and LFW."""
    from fercl_cli.evaluate.reuse import evaluate_or_reuse

    stage = Stage("evaluate", "AffectNet, AffectNet V/A, FER2013, LFW (fercl evaluate)", emit)
    reused = 0
    results: dict[str, dict[str, Any]] = {}
    outputs: dict[str, Path] = {}
    for label, spec in ((DEMO_RUN, str(layout.runs / DEMO_RUN)), (RANDOM, RANDOM)):
        for task, request in evaluation_requests(layout, profile, spec, device).items():
            out = layout.results_file(label, task)
            hit, result = evaluate_or_reuse(
                request, out, lambda what, done, total, t=task: stage.progress(f"{t}: {what}", done, total)
            )
            reused += hit
            results[f"{label}/{task}"] = result.raw
            outputs[f"{label}/{task}"] = out
    total = len(results)
    status = REUSED if reused == total else (RAN if reused == 0 else RESUMED)
    return stage.end(status, headline_text(results) + " (demo checkpoint)", outputs, {"results": results})


def report_stage(layout: Layout, evaluation: StageResult, emit: Event) -> StageResult:
    """``fercl report`` of the demo's results files, with the paper's published rows, as Markdown."""
    from fercl_cli.evaluate.compare import compare, to_markdown

    stage = Stage("report", "side-by-side report (fercl report)", emit)
    paths = [Path(path) for path in evaluation.outputs.values()]
    text = to_markdown(compare(paths, paper=True))
    if layout.report.is_file() and layout.report.read_text() == text:
        status = REUSED
    else:
        layout.report.write_text(text)
        status = RAN
    headline = f"{len(paths)} results files side by side with the paper's published AffectNet rows"
    return stage.end(status, headline, {"report": layout.report}, {"files": [str(p) for p in paths]})
