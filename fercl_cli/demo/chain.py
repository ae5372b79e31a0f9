"""The demo's stage chain: sample → preprocess → swap → describe → pretrain → evaluate → report, each a
stage of :mod:`fercl_cli.demo.stages` with its own resume, written under the profile's
:class:`~fercl_cli.demo.layout.Layout`. Progress reaches the caller as :mod:`fercl_cli.demo.stage` events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fercl_cli.demo.layout import prepare_dir
from fercl_cli.demo.narrative import explanations, next_steps
from fercl_cli.demo.profiles import DemoProfile
from fercl_cli.demo.runs import DEMO_RUN
from fercl_cli.demo.stage import Event
from fercl_cli.demo.stages import (
    describe_stage,
    evaluate_stage,
    preprocess_stage,
    pretrain_stage,
    report_stage,
    sample_stage,
    swap_stage,
)
from fercl_cli.demo.table import metric_rows


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
