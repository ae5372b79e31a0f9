"""The demo's stage chain: sample → preprocess → swap → describe → pretrain → evaluate → report.

Every stage is a library call with its own resume, so a rerun reuses what is finished: the sample corpus
when ``sample.json`` records the same options, the face store's committed clips, the swap bank's committed
sources, a descriptor slot with the same settings and row count, a finished pretraining run (a partial one
is resumed), and a results file of the same checkpoint and request. Layout under ``DIR/<profile>/``::

    sample/        the sample corpus (fercl sample)
    faces.h5       the face store, with descriptors/geometry (fercl preprocess, fercl describe)
    swaps.h5       the FaceSwap bank (fercl swap)
    runs/demo/     the demo's pretraining run (fercl pretrain)
    results/       one fercl evaluate results file per checkpoint and task
    eval-cache/    evaluation datasets and features converted once
    report.md      fercl report of the results, beside the paper's published rows
    summary.json   what the demo printed, as JSON

Events for the caller's progress display: ``on_event("stage", {"stage", "title"})`` when a stage starts,
``on_event("progress", {"stage", "what", "done", "total"})`` as it advances, and
``on_event("done", StageResult.to_dict())`` when it ends.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fercl_cli import __version__
from fercl_cli.demo.profiles import DemoProfile
from fercl_cli.errors import FerclError

if TYPE_CHECKING:
    from fercl_cli.evaluate.request import EvaluateRequest
    from fercl_cli.train.config import PretrainConfig

Event = Callable[[str, dict[str, Any]], None]
MARKER = "fercl-demo.json"
DEMO_RUN = "demo"
RANDOM = "random"
# The evaluation tasks, in the order of the final table.
TASKS = ("affectnet", "affectnet-va", "fer2013", "lfw")
RAN, REUSED, RESUMED = "ran", "reused", "resumed"


@dataclass
class StageResult:
    """One stage of the chain.

    Attributes:
        stage: its name (``sample``, ``preprocess``, ...).
        status: ``ran`` (work done from scratch), ``resumed`` (finished earlier partial work) or ``reused``
            (nothing left to do).
        seconds: wall time of this call.
        headline: one line saying what the stage produced.
        outputs: what it wrote, name → path.
        details: the stage's own summary (JSON-ready).
    """

    stage: str
    status: str
    seconds: float
    headline: str
    outputs: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return asdict(self)


@dataclass(frozen=True)
class Layout:
    """Where each output of one profile lives (see the module docstring)."""

    root: Path

    @property
    def sample(self) -> Path:
        return self.root / "sample"

    @property
    def store(self) -> Path:
        return self.root / "faces.h5"

    @property
    def swaps(self) -> Path:
        return self.root / "swaps.h5"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def cache(self) -> Path:
        return self.root / "eval-cache"

    @property
    def report(self) -> Path:
        return self.root / "report.md"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def ablation(self) -> Path:
        return self.root / "ablation"

    def results_file(self, label: str, task: str) -> Path:
        """The results file of checkpoint ``label`` (a run name or ``random``) on ``task``."""
        return self.results / f"{label}-{task}.json"

    def derived(self) -> list[Path]:
        """Everything made from the sample corpus (removed when the corpus is regenerated)."""
        return [self.store, self.swaps, self.runs, self.results, self.cache, self.report, self.ablation]


def prepare_dir(directory: str | Path, profile: DemoProfile) -> Layout:
    """Check the demo directory and create the profile's folder; returns its :class:`Layout`.

    The directory must be new, empty, or an earlier demo's (it holds ``fercl-demo.json``), so that the
    demo never writes into, or deletes from, a folder of the user's.

    Raises:
        FerclError: the directory is a file, or a non-empty folder of something else.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise FerclError(f"--dir {directory} is a file; give a folder (new, empty, or an earlier demo's)")
    marker = directory / MARKER
    if directory.is_dir() and any(directory.iterdir()) and not marker.is_file():
        raise FerclError(
            f"--dir {directory} is not empty and holds no earlier demo ({MARKER}); give a new or empty folder"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not marker.is_file():
            created = datetime.now(timezone.utc).isoformat(timespec="seconds")
            marker.write_text(json.dumps({"fercl_version": __version__, "created": created}, indent=2) + "\n")
        (directory / profile.name).mkdir(exist_ok=True)
    except OSError as exc:
        raise FerclError(
            f"--dir {directory}: cannot write there ({exc.strerror}); choose another folder"
        ) from None
    return Layout(directory / profile.name)


def status_of(worked: bool, earlier: bool) -> str:
    """``reused`` when nothing was left to do, else ``resumed`` when earlier work was kept, else ``ran``."""
    if not worked:
        return REUSED
    return RESUMED if earlier else RAN


class Stage:
    """Times a stage and reports its start, progress and end through the events."""

    def __init__(self, name: str, title: str, emit: Event) -> None:
        self.name, self.emit = name, emit
        self.began = time.perf_counter()
        emit("stage", {"stage": name, "title": title})

    def progress(self, what: str, done: int, total: int) -> None:
        self.emit("progress", {"stage": self.name, "what": what, "done": int(done), "total": int(total)})

    def end(
        self, status: str, headline: str, outputs: dict[str, Path], details: dict[str, Any]
    ) -> StageResult:
        result = StageResult(
            stage=self.name,
            status=status,
            seconds=time.perf_counter() - self.began,
            headline=headline,
            outputs={k: str(v) for k, v in outputs.items()},
            details=details,
        )
        self.emit("done", result.to_dict())
        return result


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


def pretrain_config(
    layout: Layout, profile: DemoProfile, run: Path, device: str, **strategies: Any
) -> PretrainConfig:
    """The resolved :class:`~fercl_cli.train.config.PretrainConfig` of one run on the profile's store.

    ``strategies`` sets the strategy options (``time_aug``, ``hard_neg``, ``face_swap``, ``mask_fn``, ...)
    and may override ``epochs`` and ``seed``; the swap bank is passed when ``face_swap`` is on.
    """
    from fercl_cli.train.config import resolve

    values: dict[str, Any] = {
        "store": str(layout.store),
        "out": str(run),
        "arch": profile.arch,
        "size": profile.net_px,
        "batch_clips": profile.batch_clips,
        "epochs": profile.epochs,
        "warmup_epochs": profile.warmup_epochs,
        "lr": profile.lr,
        "temperature": profile.temperature,
        "workers": 0,
        "device": device,
        **strategies,
    }
    if values.get("face_swap"):
        values["swaps"] = str(layout.swaps)
    return resolve({}, values)


def run_pretraining(
    config: PretrainConfig, progress: Callable[[int, int], None]
) -> tuple[str, dict[str, Any]]:
    """Run ``config`` to its end: resume a checkpoint of the same settings, start over when the settings
    differ, do nothing for a finished run. Returns (status, the run's summary plus ``total_steps``,
    ``train_seconds`` (the logged steps' time, all sessions) and :func:`learning_curve`'s entries).

    ``progress(step, total_steps)`` follows the steps.
    """
    from fercl_cli.train import checkpoint
    from fercl_cli.train.loop import RESUMABLE_CHANGES, pretrain

    out = Path(config.out)
    last = out / checkpoint.LAST
    resume = last.is_file()
    if resume:
        saved = checkpoint.load(last)["config"]
        current = config.to_dict()
        if any(current.get(k) != v for k, v in saved.items() if k not in RESUMABLE_CHANGES):
            shutil.rmtree(out)
            resume = False
    steps_before = checkpoint.load(last)["step"] if resume else 0
    total = 0

    def on_event(kind: str, payload: dict[str, Any]) -> None:
        nonlocal total
        if kind == "start":
            total = payload["total_steps"]
            progress(payload["start_step"], total)
        elif kind == "step":
            progress(payload["step"], total)

    summary = pretrain(config, on_event, resume=resume)
    status = status_of(summary.steps > steps_before, steps_before > 0)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    details = {
        **summary.__dict__,
        "total_steps": total,
        "train_seconds": float(sum(r["step_seconds"] for r in records)),
        **learning_curve(records, config),
    }
    return status, details


def learning_curve(records: list[dict[str, Any]], config: PretrainConfig) -> dict[str, float | None]:
    """Whether a run learned, from its ``metrics.jsonl`` records: mean loss of the first and of the last
    epoch, the last epoch's contrastive accuracy (fraction of views whose most similar other view is their
    positive) and that accuracy's chance level, 1 / (views per step − 1)."""
    views = (4 if config.hard_neg else 2) * config.batch_clips
    out: dict[str, float | None] = {
        "first_epoch_loss": None,
        "last_epoch_loss": None,
        "contrastive_accuracy": None,
        "chance_accuracy": 1.0 / (views - 1),
    }
    if records:
        first = [r for r in records if r["epoch"] == records[0]["epoch"]]
        last = [r for r in records if r["epoch"] == records[-1]["epoch"]]
        out["first_epoch_loss"] = float(np.mean([r["loss"] for r in first]))
        out["last_epoch_loss"] = float(np.mean([r["loss"] for r in last]))
        out["contrastive_accuracy"] = float(np.mean([r["contrastive_accuracy"] for r in last]))
    return out


def strategies_label(config: PretrainConfig) -> str:
    """``"SimCLR"`` or the strategies on, e.g. ``"TimeAug+HardNeg+FaceSwap+MaskFN"``."""
    parts = [
        name
        for name, on in (
            ("TimeAug", config.time_aug),
            ("HardNeg", config.hard_neg),
            (f"FaceSwap (p {config.swap_p:g})", config.face_swap),
            (f"MaskFN ({config.mask_fn})", config.maskfn is not None),
        )
        if on
    ]
    return "+".join(parts) if parts else "SimCLR"


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


def evaluation_requests(layout: Layout, profile: DemoProfile, checkpoint: str, device: str) -> dict[str, Any]:
    """The :class:`~fercl_cli.evaluate.request.EvaluateRequest` of each task in :data:`TASKS` for ``checkpoint``
    (a run directory or ``random``): frozen-feature protocols at the profile's input size; LFW keeps
    people with ``lfw_images`` photos (the sample's count, see docs/troubleshooting.md "LFW offline")."""
    from fercl_cli.evaluate.request import EvaluateRequest

    data = {
        "affectnet": layout.sample / "affectnet",
        "affectnet-va": layout.sample / "affectnet",
        "fer2013": layout.sample / "fer2013" / "fer2013.csv",
        "lfw": layout.sample / "lfw",
    }
    return {
        task: EvaluateRequest(
            task=task,
            checkpoint=checkpoint,
            data=data[task],
            seeds=(0,),
            cache_dir=layout.cache,
            device=device,
            arch=profile.arch,
            input_size=profile.net_px,
            batch_size=64,
            min_faces=profile.sample.lfw_images,
        )
        for task in TASKS
    }


def _request_json(request: EvaluateRequest) -> dict[str, Any]:
    """The request as ``fercl evaluate`` records it in a results file."""
    plain = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(request).items()}
    return json.loads(json.dumps(plain))


def same_request(saved: dict[str, Any], request: EvaluateRequest) -> bool:
    """True when a results file's recorded request is ``request``; an option the file predates counts as
    its default (results written before the option existed were computed with it)."""
    from fercl_cli.evaluate.request import EvaluateRequest

    defaults = {f.name: f.default for f in fields(EvaluateRequest) if f.default is not MISSING}
    current = _request_json(request)
    return set(saved) <= set(current) and all(saved.get(k, defaults.get(k)) == v for k, v in current.items())


def checkpoint_hash(spec: str, arch: str) -> str:
    """The hash ``fercl evaluate`` records for ``spec``: a built-in checkpoint's, else the file's SHA-256."""
    from fercl_cli.evaluate.backbones import builtin_hash, file_sha256
    from fercl_cli.train.checkpoint import LAST

    builtin = builtin_hash(spec, arch)
    if builtin is not None:
        return builtin
    path = Path(spec)
    return file_sha256(path / LAST if path.is_dir() else path)


def evaluate_cached(
    request: EvaluateRequest, out: Path, progress: Callable[[str, int, int], None]
) -> tuple[bool, dict[str, Any]]:
    """``fercl evaluate --out out`` unless ``out`` already holds the results of this checkpoint and request.

    Returns (reused, results dict).
    """
    from fercl_cli.evaluate.compare import load_results
    from fercl_cli.evaluate.tasks import evaluate

    if out.is_file():
        try:
            previous = load_results(out)
        except FerclError:
            previous = None
        if (
            previous is not None
            and previous["checkpoint"]["hash"] == checkpoint_hash(request.checkpoint, request.arch)
            and same_request(previous["request"], request)
            and all("test" in run for run in previous["runs"])  # test rows: needed for intervals
        ):
            return True, previous
    result = evaluate(request, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return False, result


def evaluate_stage(layout: Layout, profile: DemoProfile, device: str, emit: Event) -> StageResult:
    """Score the demo checkpoint and the random-init floor on AffectNet, AffectNet V/A, FER2013 and LFW."""
    stage = Stage("evaluate", "AffectNet, AffectNet V/A, FER2013, LFW (fercl evaluate)", emit)
    reused = 0
    results: dict[str, dict[str, Any]] = {}
    outputs: dict[str, Path] = {}
    for label, spec in ((DEMO_RUN, str(layout.runs / DEMO_RUN)), (RANDOM, RANDOM)):
        for task, request in evaluation_requests(layout, profile, spec, device).items():
            out = layout.results_file(label, task)
            hit, result = evaluate_cached(
                request, out, lambda what, done, total, t=task: stage.progress(f"{t}: {what}", done, total)
            )
            reused += hit
            results[f"{label}/{task}"] = result
            outputs[f"{label}/{task}"] = out
    total = len(results)
    status = REUSED if reused == total else (RAN if reused == 0 else RESUMED)
    headline_rows = metric_rows(results)
    headline = "; ".join(
        f"{row['short']} {format_value(row['demo'], row['percent'])}{' %' if row['percent'] else ''}"
        for row in headline_rows
        if row["headline"]
    )
    return stage.end(status, headline + " (demo checkpoint)", outputs, {"results": results})


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


@dataclass(frozen=True)
class MetricSpec:
    """One row of the final table: a metric of a task's results."""

    task: str
    metric: str
    label: str
    short: str
    percent: bool
    better: str
    headline: bool


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "affectnet",
        "accuracy",
        "AffectNet expression accuracy % (8 classes)",
        "AffectNet acc",
        True,
        "higher",
        True,
    ),
    MetricSpec(
        "affectnet", "macro_f1", "AffectNet expression macro-F1 %", "AffectNet F1", True, "higher", False
    ),
    MetricSpec("affectnet-va", "valence_ccc", "AffectNet valence CCC", "valence CCC", False, "higher", True),
    MetricSpec("affectnet-va", "arousal_ccc", "AffectNet arousal CCC", "arousal CCC", False, "higher", True),
    MetricSpec(
        "fer2013",
        "accuracy",
        "FER2013 expression accuracy % (7 classes)",
        "FER2013 acc",
        True,
        "higher",
        True,
    ),
    MetricSpec("lfw", "accuracy", "LFW identity accuracy % (1-NN)", "LFW identity acc", True, "lower", True),
)


def chance_level(result: dict[str, Any], metric: str) -> float | None:
    """Accuracy of always guessing the most frequent test class (classification tasks), 0 for a CCC
    (no agreement), None otherwise."""
    if metric.endswith("_ccc"):
        return 0.0
    if metric != "accuracy":
        return None
    support = [c["support"] for c in result["summary"]["per_class"]]
    return max(support) / sum(support) if sum(support) else None


def scored_rows(result: dict[str, Any], metric: str) -> int:
    """How many test rows scored ``metric`` (per-class supports, or the regression target's scored rows)."""
    if metric.endswith(("_ccc", "_rmse")):
        return int(result["summary"]["scored_rows"][metric.rsplit("_", 1)[0]])
    return int(sum(c["support"] for c in result["summary"]["per_class"]))


def metric_rows(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The final table's rows from results keyed ``"<label>/<task>"`` (labels ``demo`` and ``random``):
    label, the demo checkpoint's and the random floor's {mean, std, n}, chance level, test rows, which way
    is better."""
    rows = []
    for spec in METRICS:
        demo = results[f"{DEMO_RUN}/{spec.task}"]
        floor = results[f"{RANDOM}/{spec.task}"]
        rows.append(
            {
                "task": spec.task,
                "metric": spec.metric,
                "label": spec.label,
                "short": spec.short,
                "percent": spec.percent,
                "better": spec.better,
                "headline": spec.headline,
                "protocol": demo["protocol"],
                "demo": demo["summary"]["metrics"][spec.metric],
                "random": floor["summary"]["metrics"][spec.metric],
                "chance": chance_level(demo, spec.metric),
                "test_rows": scored_rows(demo, spec.metric),
            }
        )
    return rows


def format_value(value: dict[str, Any] | float | None, percent: bool) -> str:
    """A {mean, std, n} cell or a plain number as ``fercl report`` prints it (percent with 1 decimal)."""
    from fercl_cli.evaluate.compare import format_cell

    if value is None or isinstance(value, dict):
        return format_cell(value, percent)
    return format_cell({"mean": value, "std": None, "n": 1}, percent)


def _is_better(row: dict[str, Any]) -> bool | None:
    demo, floor = row["demo"]["mean"], row["random"]["mean"]
    if demo is None or floor is None:
        return None
    return demo < floor if row["better"] == "lower" else demo > floor


def explanations(
    rows: list[dict[str, Any]], profile: DemoProfile, sample: dict[str, Any], pretraining: dict[str, Any]
) -> list[str]:
    """Plain sentences under the final table: what the numbers are, and what they are not.

    ``sample``: the sample stage's details (options, counts); ``pretraining``: the pretrain stage's
    details (:func:`learning_curve` entries)."""
    vox = sample["counts"]["voxceleb"]
    expression = [row for row in rows if row["better"] == "higher"]
    wins = [_is_better(row) for row in expression]
    lfw = next(row for row in rows if row["task"] == "lfw")
    lfw_better = _is_better(lfw)
    smallest = max(1, min(row["test_rows"] for row in rows if row["metric"] == "accuracy"))
    accuracy, chance = pretraining.get("contrastive_accuracy"), pretraining["chance_accuracy"]
    learned = (
        "Pretraining could not be measured (no steps logged)."
        if accuracy is None
        else f"Pretraining: in its last epoch the network picked out a view's positive among the batch "
        f"{100 * accuracy:.0f} % of the time (chance {100 * chance:.0f} %)"
        + (
            "; it barely learned in this budget. With FaceSwap the positive is another person's head around "
            "the same inner face, a much harder match than SimCLR's; the paper trained 300-500 epochs on "
            "153k clips with 512 images per step."
            if accuracy < 2 * chance
            else "."
        )
    )
    lines = [
        f"The data are synthetic: {vox['identities']} people animated from a few real photographs "
        f"({vox['clips']} clips), and the evaluation sets hold {sample['options']['eval_identities']} other people. "
        "The numbers show that every stage works on this machine, not what fercl reaches on real data: the "
        "paper's AffectNet results (e.g. F1 59.3 % for all four strategies) need VoxCeleb1 and hundreds of GPU epochs.",
        f"Expression rows (higher is better): the pretrained checkpoint beats the random-init floor on "
        f"{sum(w is True for w in wins)} of {len(wins)} measures after {profile.epochs} epochs on {vox['clips']} clips; "
        "'chance' is always guessing the most frequent class (0 for a CCC)."
        + (
            " A randomly initialised ResNet is a strong baseline for a linear probe on a few hundred photos; "
            "beating it takes far more pretraining than a demo affords."
            if sum(w is True for w in wins) * 2 < len(wins)
            else ""
        ),
        "LFW identity accuracy: LOWER is better. An expression representation should carry little identity, so "
        "a nearest-neighbour identity classifier on its features should do badly; here the pretrained "
        + (
            "checkpoint leaks less identity than random init."
            if lfw_better
            else "checkpoint does not (yet) leak less identity than random init."
            if lfw_better is False
            else "checkpoint could not be compared."
        ),
        "The test sets are small ("
        + ", ".join(f"{row['short']}: {row['test_rows']}" for row in rows if row["metric"] == "accuracy")
        + f" photos): one photo moves an accuracy by {100 / smallest:.1f} points or more, so single-run "
        "differences of a few points are noise; `fercl demo --ablation` repeats runs over seeds.",
        learned,
        "Protocols: frozen backbone features; linear probes (logistic / ridge regression, regularisation chosen "
        "on held-out training rows) and LFW 1-nearest-neighbour on a 70/30 split. 'fercl evaluate --protocol "
        "paper' runs the paper's fine-tuning instead.",
    ]
    return lines


def next_steps(layout: Layout, profile: DemoProfile) -> list[str]:
    """Commands to run next, on the user's own data, and the ablation on this sample."""
    return [
        "fercl preprocess voxceleb /data/voxceleb1 --out faces.h5 --workers 8 --encoding jpeg",
        "fercl swap faces.h5 --out swaps.h5 --workers 8 && fercl describe faces.h5",
        "fercl pretrain faces.h5 --out runs/all4 --swaps swaps.h5 --face-swap --mask-fn top1-other-clip --arch resnet50",
        "fercl evaluate --task affectnet --checkpoint runs/all4 --data /data/AffectNet --protocol paper --seeds 1,2,3 --out affectnet.json",
        f"fercl demo --ablation --dir {layout.root.parent}{' --quick' if profile.name == 'quick' else ''}   "
        "(the paper's configurations in miniature, on this sample)",
    ]


def run_demo(
    directory: str | Path, profile: DemoProfile, device: str = "auto", on_event: Event | None = None
) -> dict[str, Any]:
    """Run every stage (see the module docstring) and return the demo's summary (JSON-ready), also
    written to ``summary.json``.

    Keys: ``profile``, ``dir``, ``device``, ``stages`` (list of :class:`StageResult` dicts), ``results``
    (:func:`metric_rows`), ``notes`` (:func:`explanations`), ``files`` and ``next``.

    Raises:
        FerclError: an unusable ``directory`` or ``device``, or a stage's own error.
    """
    from fercl_cli.demo.profiles import check_device
    from fercl_cli.evaluate.features import resolve_device

    resolve_device(check_device(device))  # --device cuda without a GPU fails here, before any work
    emit = on_event or (lambda kind, payload: None)
    layout = prepare_dir(directory, profile)
    sample = sample_stage(layout, profile, emit)
    data = [
        preprocess_stage(layout, profile, emit),
        swap_stage(layout, profile, emit),
        describe_stage(layout, emit),
    ]
    pretraining = pretrain_stage(layout, profile, device, emit)
    evaluation = evaluate_stage(layout, profile, device, emit)
    stages = [sample, *data, pretraining, evaluation, report_stage(layout, evaluation, emit)]
    rows = metric_rows(evaluation.details["results"])
    summary = {
        "profile": profile.name,
        "dir": str(layout.root),
        "device": device,
        "stages": [{**s.to_dict(), "details": {} if s.stage == "evaluate" else s.details} for s in stages],
        "results": rows,
        "notes": explanations(rows, profile, sample.details, pretraining.details),
        "files": {
            "sample corpus": str(layout.sample),
            "face store": str(layout.store),
            "swap bank": str(layout.swaps),
            "pretraining run": str(layout.runs / DEMO_RUN),
            "results files": str(layout.results),
            "report": str(layout.report),
            "this summary": str(layout.summary),
        },
        "next": next_steps(layout, profile),
    }
    layout.summary.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary
