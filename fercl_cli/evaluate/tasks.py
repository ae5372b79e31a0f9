"""``fercl evaluate``'s library half: one task, one protocol, one or more seeds, one results dictionary.

Tasks and their protocols (the first is the default):

| task | data | protocols |
|---|---|---|
| ``affectnet`` | AffectNet expression, 8 or 7 classes; train → validation (CSV or .npy release) | linear, knn, paper |
| ``affectnet-va`` | AffectNet valence and arousal | linear (ridge) |
| ``fer2013`` | FER2013 or FER+ labels; Training → PublicTest, PrivateTest selects (or reversed) | linear, knn, paper |
| ``rafdb`` | RAF-DB basic, 7 classes; train → test | linear, knn, paper |
| ``lfw`` | LFW identities (identity leakage, lower is better) | nn1 |

Frozen-feature protocols extract the features once per (dataset, checkpoint) and cache them; ``paper``
fine-tunes the backbone per seed. Every result names its protocol.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fercl_cli import __version__
from fercl_cli.errors import FerclError
from fercl_cli.evaluate import cache, results
from fercl_cli.evaluate.backbones import Backbone, resolve_backbone
from fercl_cli.evaluate.calibrate import calibrate_batchnorm, calibration_rows
from fercl_cli.evaluate.datasets import DatasetSpec, affectnet_spec, fer2013_spec, lfw_spec, rafdb_spec
from fercl_cli.evaluate.features import (
    extract_features,
    network_input_size,
    precision_name,
    preprocessing_note,
    resolve_device,
    stored_size,
)
from fercl_cli.evaluate.finetune import PAPER_AFFECTNET_TRAIN_COUNTS, FinetuneConfig, finetune
from fercl_cli.evaluate.head import combine as combine_heads
from fercl_cli.evaluate.head import save_head
from fercl_cli.evaluate.probes import LinearMap, TooFewRowsError
from fercl_cli.evaluate.progress import ProgressFn, no_progress
from fercl_cli.evaluate.request import TASKS, EvaluateRequest
from fercl_cli.sources.fer2013 import usage_splits
from fercl_cli.sources.labelled import ALL, SELECT, TEST, TRAIN

PROTOCOL_DESCRIPTIONS: dict[str, str] = {
    "linear": "frozen backbone features, multinomial logistic regression; C chosen on selection data",
    "linear-regression": "frozen backbone features, ridge regression per dimension; alpha chosen on selection data",
    "knn": "frozen backbone features, cosine k-nearest-neighbour vote; k chosen on selection data",
    "nn1": "frozen backbone features, 1-nearest-neighbour (Euclidean) on a stratified 70/30 split per seed; "
    "nothing tuned (the paper's LFW protocol)",
    "paper": "the paper's fine-tuning recipe run correctly: whole backbone + MLP head, balanced softmax, "
    "epoch chosen on selection data, clean test images",
}
LFW_NOTE = (
    "LFW measures identity leakage: for an expression representation LOWER identity accuracy and macro-F1 "
    "are better (the features carry less identity)"
)


def _dataset(request: EvaluateRequest) -> DatasetSpec:
    size = stored_size(request.input_size)
    name = TASKS[request.task].dataset
    if name == "affectnet":
        return affectnet_spec(request.data, images=request.images, classes=request.classes, size=size)
    if name == "fer2013":
        return fer2013_spec(request.data, size=size, split=request.split, ferplus=request.ferplus)
    if name == "rafdb":
        return rafdb_spec(request.data, images=request.rafdb_images, size=size)
    return lfw_spec(request.data, min_faces=request.min_faces, size=size)


def _calibration_pool(data: cache.CachedDataset) -> np.ndarray:
    """The rows a random floor calibrates BatchNorm on: the training split (LFW: its one pool)."""
    train = data.rows(TRAIN)
    return train if len(train) else data.rows(ALL)


def _with_calibration(backbone: Backbone, data: cache.CachedDataset, protocol: str) -> Backbone:
    """``backbone`` with its ``bn_calibration`` record completed for this dataset (or dropped for the
    ``paper`` protocol, whose fine-tuning trains BatchNorm itself)."""
    if backbone.bn_calibration is None:
        return backbone
    if protocol == "paper":
        return replace(backbone, bn_calibration={"applied": False, "why": "fine-tuning trains BatchNorm"})
    pool = _calibration_pool(data)
    used = len(calibration_rows(pool))
    record = {
        "applied": True,
        "split": TRAIN if len(data.rows(TRAIN)) else ALL,
        "images": used,
        "rows": "evenly spread over the split in file order",
        "labels_used": False,
    }
    return replace(backbone, bn_calibration=record)


def _features(
    data: cache.CachedDataset, backbone: Backbone, request: EvaluateRequest, device: Any, progress: ProgressFn
) -> tuple[np.ndarray, dict[str, Any]]:
    precision = precision_name(device)
    path = cache.features_path(data.path, backbone.hash, request.input_size, precision)
    features = cache.load_features(path, dataset_key=data.key, backbone_hash=backbone.hash, rows=len(data))
    hit = features is not None
    if features is None:
        with data.images() as images:
            if backbone.bn_calibration is not None:
                calibrate_batchnorm(
                    backbone.module,
                    images,
                    calibration_rows(_calibration_pool(data)),
                    input_size=request.input_size,
                    device=device,
                )
            features = extract_features(
                backbone.module,
                images,
                input_size=request.input_size,
                device=device,
                batch_size=request.batch_size,
                progress=progress,
            )
        attrs = {
            "dataset_key": data.key,
            "backbone_hash": backbone.hash,
            "input_size": request.input_size,
            "precision": precision,
        }
        cache.save_features(path, features, attrs)
    return features, {"path": str(path), "hit": hit, "dim": int(features.shape[1]), "precision": precision}


def _test_rows(rows: np.ndarray, targets: np.ndarray, predictions: np.ndarray) -> dict[str, list]:
    """A run's scored test rows as JSON: dataset row numbers, targets and predictions, in test order (what
    :mod:`fercl_cli.evaluate.intervals` resamples)."""
    return {"rows": rows.tolist(), "targets": targets.tolist(), "predictions": predictions.tolist()}


def _classification_run(
    seed: int, result: Any, hyperparameters: dict[str, Any], rows: np.ndarray, labels: np.ndarray
) -> dict[str, Any]:
    """One seed of a classification protocol as JSON (``result``: a probe or fine-tuning result; ``rows``:
    int64 [M] the dataset rows it was tested on, ``labels``: their class codes)."""
    return {
        "seed": seed,
        "metrics": results.classification_dict(result.metrics),
        "hyperparameters": hyperparameters,
        "selection": result.selection,
        "selected_by": result.selected_by,
        "selection_scores": {str(k): v for k, v in result.selection_scores.items()},
        "test": _test_rows(rows, labels, result.predictions.astype(np.int64)),
    }


def _regression_run(
    seed: int, by_target: dict[str, Any], rows: np.ndarray, targets: np.ndarray
) -> dict[str, Any]:
    """One seed of the ridge probe as JSON, every entry keyed by target name (``rows``: int64 [M] test
    rows; ``targets``: float [M, T], NaN where a row has no target)."""
    return {
        "test": {
            name: _test_rows(rows[r.scored], targets[r.scored, t], r.predictions[r.scored].astype(np.float64))
            for t, (name, r) in enumerate(by_target.items())
        },
        "seed": seed,
        "metrics": {name: results.regression_dict(r.metrics) for name, r in by_target.items()},
        "hyperparameters": {name: r.hyperparameters for name, r in by_target.items()},
        "selection": {name: r.selection for name, r in by_target.items()},
        "selected_by": {name: r.selected_by for name, r in by_target.items()},
        "selection_scores": {
            name: {str(k): v for k, v in r.selection_scores.items()} for name, r in by_target.items()
        },
        "excluded_train_rows": {name: r.excluded_train for name, r in by_target.items()},
    }


def _probe_runs(
    request: EvaluateRequest, data: cache.CachedDataset, features: np.ndarray, protocol: str
) -> tuple[list[dict[str, Any]], list[Any], LinearMap | None]:
    """Per seed: the JSON run and the metrics object(s) of a frozen-feature protocol; and the linear
    head of the first seed (None for kNN and 1-NN)."""
    from fercl_cli.evaluate.probes import knn_probe, linear_probe, linear_regression_probe, nn1_probe

    kind = TASKS[request.task].kind
    classes = list(range(len(data.class_names)))
    train, test, select = data.rows(TRAIN), data.rows(TEST), data.rows(SELECT)
    runs, metrics, heads = [], [], []
    if kind == "regression":
        targets = np.stack([data.valence, data.arousal], axis=1).astype(np.float64)
        for seed in request.seeds:
            by_target = linear_regression_probe(
                features[train], targets[train], features[test], targets[test], seed=seed
            )
            runs.append(_regression_run(seed, by_target, test, targets[test]))
            metrics.append({name: r.metrics for name, r in by_target.items()})
            heads.append(combine_heads([r.head for r in by_target.values()]))
        return runs, metrics, heads[0]
    extra: dict[str, Any] = {}
    if protocol == "linear" and request.task == "affectnet":
        extra["class_weight"] = "balanced"
    selection = (features[select], data.labels[select]) if len(select) else None
    for seed in request.seeds:
        if kind == "identity":
            pool = data.rows(ALL)
            result = nn1_probe(features[pool], data.labels[pool], seed=seed, class_codes=classes)
            tested = pool[result.test_index]
        else:
            tested = test
            probe = linear_probe if protocol == "linear" else knn_probe
            result = probe(
                features[train],
                data.labels[train],
                features[test],
                data.labels[test],
                labels=classes,
                select=selection,
                seed=seed,
                **extra,
            )
        hyperparameters = {**result.hyperparameters, **extra}
        runs.append(_classification_run(seed, result, hyperparameters, tested, data.labels[tested]))
        metrics.append(result.metrics)
        heads.append(result.head)
    return runs, metrics, heads[0]


def _save_head(
    request: EvaluateRequest, data: cache.CachedDataset, backbone: Backbone, linear: LinearMap, runs: list
) -> dict[str, Any]:
    """Write the first seed's head to ``request.save_head``; returns what the results JSON records."""
    kind = TASKS[request.task].kind
    outputs = (
        [data.class_names[c] for c in linear.outputs] if kind == "classification" else list(linear.outputs)
    )
    meta = {
        "kind": kind,
        "outputs": outputs,
        "task": request.task,
        "seed": request.seeds[0],
        "hyperparameters": runs[0]["hyperparameters"],
        "backbone": {k: backbone.to_dict()[k] for k in ("hash", "arch", "feature_dim", "spec")},
        "input_size": request.input_size,
    }
    save_head(request.save_head, linear, meta)
    return {"path": str(request.save_head), "seed": request.seeds[0], "kind": kind, "outputs": outputs}


def balanced_softmax_prior(
    request: EvaluateRequest, data: cache.CachedDataset, fit_labels: np.ndarray
) -> tuple[list[float], str]:
    """Balanced-softmax class counts and where they come from."""
    n_classes = len(data.class_names)
    paper = list(PAPER_AFFECTNET_TRAIN_COUNTS[:n_classes])
    if request.task == "affectnet" and data.extra.get("listed_train_counts") == paper:
        source = "the paper's AffectNet training counts (training.csv is the full list)"
        return [float(c) for c in paper], source
    counts = np.bincount(fit_labels, minlength=n_classes)
    return counts.astype(float).tolist(), f"class counts of the {len(fit_labels)} rows of the training split"


def _paper_runs(
    request: EvaluateRequest,
    data: cache.CachedDataset,
    backbone: Backbone,
    device: Any,
    progress: ProgressFn,
) -> tuple[list[dict[str, Any]], list[Any], dict[str, Any]]:
    config = FinetuneConfig(epochs=request.epochs, **({} if request.lr is None else {"lr": request.lr}))
    classes = list(range(len(data.class_names)))
    train, test, select = data.rows(TRAIN), data.rows(TEST), data.rows(SELECT)
    counts, prior_source = balanced_softmax_prior(request, data, data.labels[train])
    runs, metrics = [], []
    with data.images() as images:
        for seed in request.seeds:
            result = finetune(
                backbone.module,
                backbone.feature_dim,
                images,
                data.labels,
                train_rows=train,
                test_rows=test,
                select_rows=select if len(select) else None,
                classes=classes,
                prior_counts=counts,
                input_size=request.input_size,
                config=config,
                device=device,
                seed=seed,
                progress=progress,
            )
            hyperparameters = {"best_epoch": result.best_epoch, **config.to_dict()}
            run = _classification_run(seed, result, hyperparameters, test, data.labels[test])
            runs.append({**run, "train_loss": result.train_loss})
            metrics.append(result.metrics)
    details = {"finetune": config.to_dict(), "balanced_softmax_prior": prior_source, "prior_counts": counts}
    return runs, metrics, details


def _split_rows(data: cache.CachedDataset) -> dict[str, int]:
    return {split: int(n) for split in cache.SPLIT_NAMES if (n := (data.splits == split).sum())}


def _task_title(request: EvaluateRequest, spec: DatasetSpec) -> str:
    """The task's title with what sets its numbers apart: AffectNet's classes and release, FER2013's split
    and label set, RAF-DB's images."""
    title, options = TASKS[request.task].title, spec.options
    if spec.name == "affectnet":
        npy = options["release"] == "npy"
        if request.task == "affectnet":
            return f"{title} ({request.classes} classes{', .npy release' if npy else ''})"
        return f"{title} (.npy release)" if npy else title
    if spec.name == "rafdb":
        faces = "aligned faces" if options["images"] == "aligned" else "faces detected in the original photos"
        return f"{title} ({faces})"
    if spec.name != "fer2013":
        return title
    if options["layout"] == "folders":
        return f"{title} (folder layout: test/ reported)"
    usage = {role: name for name, role in usage_splits(options["split"]).items()}
    splits = f"test {usage[TEST]}, select {usage[SELECT]}"
    if options["labels"] == "ferplus":
        return f"{title}, FER+ labels (8 classes, majority vote; {splits})"
    return f"{title} ({splits})"


def _with_input_size(request: EvaluateRequest, backbone: Backbone) -> tuple[EvaluateRequest, str]:
    """``request`` with its input size settled (``--size``, else the size a fercl checkpoint was trained
    at, else fercl's default) and a note saying which, with the architecture used."""
    size, why = network_input_size(backbone.config.get("size"), request.input_size)
    if request.input_size is None:
        why += "; --size changes it"
    arch = {"random": "--arch", "pixels": "no network", "landmarks": "no network"}.get(
        backbone.kind, "read from the weights"
    )
    note = f"network input {size} px ({why}); architecture {backbone.arch} ({arch})"
    return replace(request, input_size=size), note


def evaluate(request: EvaluateRequest, progress: ProgressFn = no_progress) -> dict[str, Any]:
    """Run one evaluation and return its JSON-ready results (see docs/evaluate.md, "Results file").

    Raises:
        FerclError: bad options, unreadable data or checkpoint, or data too small for the protocol.
    """
    request.check()
    protocol = request.protocol_name()
    info = TASKS[request.task]
    backbone = resolve_backbone(request.checkpoint, request.arch)
    request, size_note = _with_input_size(request, backbone)
    device = resolve_device(request.device)
    spec = _dataset(request)
    cache_dir = (
        Path(request.cache_dir) if request.cache_dir is not None else cache.default_cache_dir(spec.root)
    )
    data = cache.ensure_dataset(
        cache_dir, spec.name, spec.key, spec.open, options=spec.options, extra=spec.extra, progress=progress
    )
    notes = [*data.notes, size_note]
    backbone = _with_calibration(backbone, data, protocol)
    if backbone.bn_calibration and backbone.bn_calibration.get("applied"):
        notes.append(
            f"random floor: BatchNorm statistics calibrated on {backbone.bn_calibration['images']} unlabelled "
            f"images of the {backbone.bn_calibration['split']} split (no weight changes); "
            "--checkpoint random-raw keeps the initial statistics"
        )
    protocol_details: dict[str, Any] = {}
    features_info: dict[str, Any] | None = None
    head_info: dict[str, Any] | None = None
    try:
        if protocol == "paper":
            runs, metrics, protocol_details = _paper_runs(request, data, backbone, device, progress)
            notes.append(f"balanced-softmax prior: {protocol_details['balanced_softmax_prior']}")
        else:
            features, features_info = _features(data, backbone, request, device, progress)
            runs, metrics, head = _probe_runs(request, data, features, protocol)
            if request.save_head is not None:
                head_info = _save_head(request, data, backbone, head, runs)
    except TooFewRowsError as exc:
        name = data.class_names[exc.label]
        drop = "; or pass --classes 7 to leave Contempt out" if name == "Contempt" else ""
        raise FerclError(
            f"{spec.root}: {request.task} {protocol}: class {name!r} has {exc.count} training row(s), and the "
            f"held-out selection split needs at least 2 of each class: add training images of {name!r}{drop}"
        ) from None
    except ValueError as exc:
        raise FerclError(f"{spec.root}: {request.task} {protocol}: {exc}") from None
    if info.kind == "regression":
        summary = results.regression_summary(metrics)
    else:
        summary = results.classification_summary(metrics, data.class_names)
    if info.kind == "identity":
        notes.append(LFW_NOTE)
    if info.kind == "classification":
        unseen = sorted(set(data.labels[data.rows(TEST)]) - set(data.labels[data.rows(TRAIN)]))
        if unseen:
            names = ", ".join(data.class_names[c] for c in unseen)
            notes.append(
                f"class(es) {names} are in the test split but not in training: no probe can predict them"
            )
    if protocol in ("linear", "knn") and len(data.rows(SELECT)) and len(request.seeds) > 1:
        notes.append(
            "the selection split is fixed and this probe is deterministic, so every seed gives the same numbers"
        )
    description_key = "linear-regression" if info.kind == "regression" else protocol
    return {
        "format": results.RESULTS_FORMAT,
        "version": results.RESULTS_VERSION,
        "fercl_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "device": str(device),
        },
        "task": request.task,
        "task_title": _task_title(request, spec),
        "kind": info.kind,
        "protocol": protocol,
        "protocol_description": PROTOCOL_DESCRIPTIONS[description_key],
        "checkpoint": backbone.to_dict(),
        "data": {
            "path": str(spec.root),
            "hash": data.key,
            "options": spec.options,
            "cache": str(data.path),
            "cache_hit": data.hit,
            "features": features_info,
            "class_names": list(data.class_names),
            "rows": _split_rows(data),
            "counts": data.counts,
        },
        "preprocessing": {
            "stored_size": data.image_size,
            "input_size": request.input_size,
            "description": preprocessing_note(data.image_size, request.input_size),
        },
        "request": request.to_json(),
        "protocol_details": protocol_details,
        "seeds": list(request.seeds),
        "runs": runs,
        "summary": summary,
        "head": head_info,
        "notes": notes,
    }
