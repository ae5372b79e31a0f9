"""``fercl demo --ablation``: pretrain and evaluate every configuration × seed on the profile's store
(prepared by the demo chain), evaluate the references, summarise, and write the JSON, Markdown and plot.
Runs live in ``DIR/<profile>/ablation/runs/<config>-s<seed>/``, their results in ``ablation/results/``; a
rerun reuses finished runs and results."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fercl_cli.demo.ablation.configs import CONFIGS, LANDMARKS_FLOOR, PIXELS_FLOOR, SUPERVISED
from fercl_cli.demo.ablation.plot import write_ablation_png
from fercl_cli.demo.ablation.summary import run_values, summarise
from fercl_cli.demo.ablation.table import markdown
from fercl_cli.demo.layout import Layout
from fercl_cli.demo.profiles import DemoProfile
from fercl_cli.demo.runs import RANDOM, evaluation_requests, pretrain_config, run_pretraining
from fercl_cli.demo.stage import RAN, RESUMED, REUSED, Event, Stage, status_of
from fercl_cli.errors import FerclError
from fercl_cli.evaluate.results import Results
from fercl_cli.evaluate.reuse import evaluate_or_reuse

if TYPE_CHECKING:
    from fercl_cli.evaluate.request import EvaluateRequest


def reference_requests(layout: Layout, profile: DemoProfile, device: str) -> dict[str, dict[str, Any]]:
    """Reference → task → :class:`~fercl_cli.evaluate.request.EvaluateRequest`: the raw-pixel and
    landmark-geometry floors on every task, and the supervised ceiling (the random-init network fine-tuned with the training labels, the
    paper protocol) on the tasks that have that protocol."""
    from fercl_cli.evaluate.backbones import LANDMARKS, PIXELS
    from fercl_cli.evaluate.request import TASKS as EVALUATION_TASKS

    supervised = {
        task: replace(request, protocol="paper", lr=profile.supervised_lr, epochs=profile.supervised_epochs)
        for task, request in evaluation_requests(layout, profile, RANDOM, device).items()
        if "paper" in EVALUATION_TASKS[task].protocols
    }
    return {
        PIXELS_FLOOR: evaluation_requests(layout, profile, PIXELS, device),
        LANDMARKS_FLOOR: evaluation_requests(layout, profile, LANDMARKS, device),
        SUPERVISED: supervised,
    }


def run_ablation(
    layout: Layout,
    profile: DemoProfile,
    device: str,
    emit: Event,
    seeds: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Pretrain and evaluate every configuration × seed on the profile's store (already prepared by the
    demo chain), then summarise; writes ``ablation.json`` and ``ablation.png`` under ``layout.ablation``.

    Events: ``stage`` / ``progress`` / ``done`` as in :mod:`fercl_cli.demo.stage`, stage ``ablation``.
    Returns {"summary": :class:`AblationSummary` dict, "stage": the stage's
    :class:`~fercl_cli.demo.stage.StageResult` dict (outputs ``json``, ``plot``, ``markdown``; details
    ``runs``: trained / resumed / reused counts)}.
    """
    from fercl_cli.bench.record import machine_description

    seeds = tuple(profile.ablation_seeds if seeds is None else seeds)
    if len(seeds) < 1 or len(set(seeds)) != len(seeds):
        raise FerclError(f"ablation seeds must be distinct, got {list(seeds)}")
    stage = Stage("ablation", "the paper's configurations in miniature (fercl demo --ablation)", emit)
    root = layout.ablation
    counts = {RAN: 0, RESUMED: 0, REUSED: 0}
    floor_results = {}
    for task, request in evaluation_requests(layout, profile, RANDOM, device).items():
        floor_results[task] = _evaluated(request, layout.results_file(RANDOM, task))
    reference_results: dict[str, dict[str, Any]] = {}
    for key, requests in reference_requests(layout, profile, device).items():
        for task, request in requests.items():
            stage.progress(f"reference {key}: {task}", 0, 1)
            out = layout.results_file(key, task)
            reference_results.setdefault(key, {})[task] = _evaluated(request, out)
    per_seed: dict[str, list[dict[str, float | None]]] = {}
    raw: dict[str, list[dict[str, Any]]] = {}
    train_seconds = 0.0
    total = len(CONFIGS) * len(seeds)
    for index, (config, seed) in enumerate((c, s) for c in CONFIGS for s in seeds):
        name = f"{config.key}-s{seed}"
        run = root / "runs" / name
        pretraining = pretrain_config(
            layout, profile, run, device, epochs=profile.ablation_epochs, seed=seed, **config.strategies
        )

        what = f"run {index + 1}/{total} {name}: steps"
        status, trained = run_pretraining(
            pretraining, lambda done, steps, what=what: stage.progress(what, done, steps)
        )
        counts[status] += 1
        train_seconds += trained["train_seconds"]
        results = {}
        for task, request in evaluation_requests(layout, profile, str(run), device).items():
            results[task] = _evaluated(request, root / "results" / f"{name}-{task}.json")
        raw.setdefault(config.key, []).append(results)
        per_seed.setdefault(config.key, []).append(
            {
                **run_values(results),
                "pretext/accuracy": trained["contrastive_accuracy"],
                "pretext/chance": trained["chance_accuracy"],
            }
        )
    sample = json.loads((layout.sample / "sample.json").read_text())
    vox = sample["counts"]["voxceleb"]
    settings = {
        "profile": profile.name,
        "machine": machine_description(),
        "corpus": f"{vox['identities']} people × {vox['clips']} clips of {profile.sample.seconds:g} s "
        f"(seed {profile.sample.seed}), evaluation sets of {profile.sample.eval_identities} other people",
        "pretraining": f"{profile.arch} at {profile.net_px} px, {profile.ablation_epochs} epochs, "
        f"{profile.batch_clips} clips per step, Adam lr {profile.lr:g}, warm-up {profile.warmup_epochs:g} epochs",
        "seeds": ",".join(str(s) for s in seeds),
        "test rows": ", ".join(
            f"{task} {Results(floor_results[task]).scored_rows(metric)}"
            for task, metric in (("affectnet", "accuracy"), ("fer2013", "accuracy"), ("lfw", "accuracy"))
        )
        + f" (valence/arousal {Results(floor_results['affectnet-va']).scored_rows('valence_ccc')})",
        "device": device,
        "written": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    summary = summarise(per_seed, run_values(floor_results), settings, raw, floor_results, reference_results)
    seconds = time.perf_counter() - stage.began
    summary.settings["pretraining time"] = f"{train_seconds / 60:.1f} min (all runs' steps)"
    summary.settings["this call"] = (
        f"{seconds / 60:.1f} min wall ({counts[RAN]} runs trained, {counts[RESUMED]} resumed, "
        f"{counts[REUSED]} reused)"
    )
    files = {"json": root / "ablation.json", "plot": root / "ablation.png", "markdown": root / "ablation.md"}
    root.mkdir(parents=True, exist_ok=True)
    files["json"].write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    files["markdown"].write_text(markdown(summary))
    write_ablation_png(files["plot"], summary)
    status = status_of(counts[RAN] + counts[RESUMED] > 0, counts[REUSED] + counts[RESUMED] > 0)
    result = stage.end(
        status,
        f"{len(CONFIGS)} configurations × {len(seeds)} seeds: {counts['ran']} trained now, "
        f"{counts['resumed']} resumed, {counts['reused']} reused",
        files,
        {"runs": counts},
    )
    return {"summary": summary.to_dict(), "stage": result.to_dict()}


def _evaluated(request: EvaluateRequest, out: Path) -> dict[str, Any]:
    """The results of ``request`` written to (or reused from) ``out``; its progress is not shown inside
    the ablation (the ablation's bar follows the runs)."""
    return evaluate_or_reuse(request, out, lambda what, done, total: None)[1].raw
