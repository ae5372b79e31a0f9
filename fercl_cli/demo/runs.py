"""The demo's pretraining runs and evaluation requests, shared by the chain and the ablation: one
:class:`~fercl_cli.train.config.PretrainConfig` per run on the profile's store, run to its end (a
finished run reused, a partial one resumed, one of other settings started over), and the
:class:`~fercl_cli.evaluate.request.EvaluateRequest` of each task for a checkpoint."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fercl_cli.demo.layout import Layout
from fercl_cli.demo.profiles import DemoProfile
from fercl_cli.demo.stage import status_of

if TYPE_CHECKING:
    from fercl_cli.evaluate.request import EvaluateRequest
    from fercl_cli.train.config import PretrainConfig

DEMO_RUN = "demo"
RANDOM = "random"
# The evaluation tasks, in the order of the final table.
TASKS = ("affectnet", "affectnet-va", "fer2013", "lfw")


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
    from fercl_cli.train.loop import pretrain, resume_conflicts

    out = Path(config.out)
    last = out / checkpoint.LAST
    resume = last.is_file()
    if resume and resume_conflicts(checkpoint.load(last)["config"], config, extend=False):
        shutil.rmtree(out)  # other settings: a longer run is not the run a fresh start gives, so no extending
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


def evaluation_requests(
    layout: Layout, profile: DemoProfile, checkpoint: str, device: str
) -> dict[str, EvaluateRequest]:
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
