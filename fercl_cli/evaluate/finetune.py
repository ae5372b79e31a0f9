"""The paper's AffectNet protocol, run correctly: the whole backbone fine-tuned with the released MLP head.

Recipe (released code): head ``Dropout–Linear(F, 1024)–ReLU–Dropout–Linear(1024, 512)–Dropout–
Linear(512, C)`` (F = 2048 for resnet50, 512 for resnet18; dropout 0.5), Adam lr 1e-4, weight decay 5e-4,
batch 64, 20 epochs, cosine learning-rate decay stepped every optimisation step, balanced-softmax
cross-entropy (logits + log class prior). Training views: random crop of the network input size out of
the stored crop, flip, colour jitter (0.4, 0.4, 0.4, 0.2), blur p 0.5, grayscale p 0.2 (the released
fine-tuning augmentations, without its landmark occlusion). Fixes: the epoch kept is the one with the
best macro-F1 on selection data disjoint from the test set (a held-out part of train, or a selection
split), and every evaluation uses clean centre-cropped images.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from fercl_cli.evaluate.features import autocast_dtype, clean_inputs
from fercl_cli.evaluate.metrics import ClassificationMetrics, accuracy, classification_metrics, macro_f1
from fercl_cli.evaluate.progress import ProgressFn, no_progress

if TYPE_CHECKING:
    import torch

PAPER_AFFECTNET_TRAIN_COUNTS: tuple[int, ...] = (74874, 134415, 25459, 14090, 6378, 3803, 24882, 3750)
"""Rows per class (Neutral … Contempt) of the official AffectNet training.csv, as used by the paper's loss."""
HIDDEN = (1024, 512)
_T = TypeVar("_T")


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning hyper-parameters (defaults: the released AffectNet recipe)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 5e-4
    dropout: float = 0.5
    held_out: float = 0.1
    select_by: str = "macro_f1"
    eval_batch_size: int = 256

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.eval_batch_size < 1:
            raise ValueError(
                f"need epochs >= 1, batch_size >= 2, eval_batch_size >= 1; got {self.epochs}, "
                f"{self.batch_size}, {self.eval_batch_size}"
            )
        if self.lr <= 0 or self.weight_decay < 0 or not 0 <= self.dropout < 1:
            raise ValueError(
                f"invalid lr {self.lr}, weight_decay {self.weight_decay} or dropout {self.dropout}"
            )
        if not 0 < self.held_out < 1:
            raise ValueError(f"held_out must be a fraction in (0, 1), got {self.held_out}")
        if self.select_by not in ("macro_f1", "accuracy"):
            raise ValueError(f"select_by must be macro_f1 or accuracy, got {self.select_by!r}")

    def to_dict(self) -> dict[str, Any]:
        """The values, JSON-ready."""
        return asdict(self)


@dataclass(frozen=True)
class FinetuneResult:
    """What one fine-tuning run found.

    Attributes:
        metrics: scores on the test rows with the selected epoch's weights.
        predictions: int64 [M] predicted class codes of the test rows, in test order.
        best_epoch: the epoch kept (1-based).
        selection: how it was chosen, in words; selected_by: the score used.
        selection_scores: epoch → selection score.
        train_loss: mean training loss per epoch.
        held_out: int64 rows of the input held out of training for selection (None with a selection split).
    """

    metrics: ClassificationMetrics
    predictions: np.ndarray
    best_epoch: int
    selection: str
    selected_by: str
    selection_scores: dict[int, float]
    train_loss: list[float]
    held_out: np.ndarray | None


def paper_head(feature_dim: int, n_classes: int, dropout: float = 0.5) -> torch.nn.Sequential:
    """The released MLP head: F → 1024 → 512 → C, dropout before every linear layer, ReLU after the first
    (as released, none between 512 and C)."""
    from torch import nn

    return nn.Sequential(
        nn.Dropout(dropout),
        nn.Linear(feature_dim, HIDDEN[0]),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(HIDDEN[0], HIDDEN[1]),
        nn.Dropout(dropout),
        nn.Linear(HIDDEN[1], n_classes),
    )


def balanced_softmax_loss(
    logits: torch.Tensor, targets: torch.Tensor, log_prior: torch.Tensor
) -> torch.Tensor:
    """Balanced-softmax cross-entropy: ``CE(logits + log prior, targets)``; logits float [B, C], targets
    int64 [B] class indices, log_prior float [C] (log of the training class frequencies)."""
    import torch.nn.functional as F

    return F.cross_entropy(logits.float() + log_prior, targets)


def _prefetched(items: Iterator[_T]) -> Iterator[_T]:
    """The items of ``items``, the next one read in a background thread while the current one is used."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(next, items, None)
        while (item := future.result()) is not None:
            future = pool.submit(next, items, None)
            yield item


def _read(images: Any, rows: np.ndarray) -> np.ndarray:
    """uint8 [len(rows), S, S, 3]: HDF5 needs increasing indices, so ``rows`` must be sorted."""
    return np.asarray(images[np.asarray(rows, dtype=np.int64)])


def _held_out(
    rows: np.ndarray, labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows), stratified by class, at least one held-out row per class."""
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(labels[rows], return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"class {classes[counts.argmin()]} has {counts.min()} training row(s); holding out selection "
            "rows needs at least 2 per class"
        )
    n_val = max(math.ceil(fraction * len(rows)), len(classes))
    fit, val = train_test_split(rows, test_size=n_val, random_state=seed, stratify=labels[rows])
    return np.sort(fit), np.sort(val)


def finetune(
    backbone: Any,
    feature_dim: int,
    images: Any,
    labels: np.ndarray,
    *,
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    classes: Sequence[int],
    prior_counts: Sequence[float],
    select_rows: np.ndarray | None = None,
    input_size: int = 112,
    config: FinetuneConfig = FinetuneConfig(),
    device: Any = "cpu",
    seed: int = 0,
    progress: ProgressFn = no_progress,
) -> FinetuneResult:
    """Fine-tune a copy of ``backbone`` with the paper head and score the selected epoch on the test rows.

    Args:
        backbone: ``torch.nn.Module`` images [B, 3, H, W] → features [B, ``feature_dim``]; copied, not changed.
        images: uint8 [N, S, S, 3] crops (NumPy array or HDF5 dataset); labels: int [N] class codes.
        train_rows, test_rows: int rows of ``images``; select_rows: rows that choose the epoch, or None to
            hold out ``config.held_out`` of the training rows (stratified, ``seed``).
        classes: the class codes, in head-output order; prior_counts: training rows per class (same
            order) for the balanced-softmax prior (zeros count as one).
        input_size: network input side (random crop when training, centre crop when evaluating).
        device: ``torch.device`` or name; CUDA runs under autocast (bf16, or fp16 with loss scaling).
        seed: seeds the held-out split, head initialisation, dropout, batch order and augmentation.
    """
    import torch

    from fercl_cli.train.schedule import build_scheduler
    from fercl_cli.train.views import ViewConfig, augment

    classes = np.asarray(classes, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    if len(prior_counts) != len(classes):
        raise ValueError(f"prior_counts has {len(prior_counts)} entries for {len(classes)} classes")
    unknown = np.setdiff1d(labels[np.concatenate([train_rows, test_rows])], classes)
    if len(unknown):
        raise ValueError(f"labels use class codes {unknown.tolist()} outside classes {classes.tolist()}")
    device = torch.device(device)
    train_rows = np.sort(np.asarray(train_rows, dtype=np.int64))
    if select_rows is None:
        fit_rows, val_rows = _held_out(train_rows, labels, config.held_out, seed)
        selection = f"held-out {config.held_out:.0%} of train (stratified, seed {seed}, n={len(val_rows)})"
        held_out = val_rows
    else:
        fit_rows, val_rows = train_rows, np.sort(np.asarray(select_rows, dtype=np.int64))
        selection = f"selection split (n={len(val_rows)})"
        held_out = None
    if len(fit_rows) < 2:
        raise ValueError(f"need at least 2 training rows to fine-tune, got {len(fit_rows)}")
    stored = int(images.shape[1])
    view = ViewConfig(size=input_size, input_size=stored, occlusion_p=0.0, jitter_p=1.0)
    dtype = autocast_dtype(device)
    score = accuracy if config.select_by == "accuracy" else (lambda y, p: macro_f1(y, p, classes))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = torch.nn.Sequential(
            copy.deepcopy(backbone), paper_head(feature_dim, len(classes), config.dropout)
        ).to(device)
        log_prior = torch.log(torch.as_tensor(np.maximum(prior_counts, 1), dtype=torch.float32)).to(device)
        log_prior -= torch.logsumexp(log_prior, dim=0)
        optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        batches_per_epoch = len(fit_rows) // config.batch_size + (len(fit_rows) % config.batch_size >= 2)
        total = config.epochs * batches_per_epoch
        scheduler = build_scheduler(optimiser, total_steps=total, warmup_steps=0)
        scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
        generator = torch.Generator().manual_seed(seed)
        order_rng = np.random.default_rng(seed)
        stage = f"fine-tuning (seed {seed})"
        step, best_score, best_epoch, best_state = 0, -math.inf, 0, None
        scores: dict[int, float] = {}
        losses: list[float] = []
        progress(stage, 0, total)

        def train_batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            order = order_rng.permutation(fit_rows)
            for start in range(0, len(order), config.batch_size):
                rows = np.sort(order[start : start + config.batch_size])
                if len(rows) >= 2:  # batch norm cannot train on a single image
                    yield _read(images, rows), np.searchsorted(classes, labels[rows])

        for epoch in range(1, config.epochs + 1):
            model.train()
            epoch_loss = []
            for batch, targets in _prefetched(train_batches()):
                x = augment(batch, np.zeros((len(batch), 68, 2), np.float32), view, generator, device)
                y = torch.as_tensor(targets, device=device)
                with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                    logits = model(x)
                loss = balanced_softmax_loss(logits, y, log_prior)
                optimiser.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimiser)
                scaler.update()
                scheduler.step()
                epoch_loss.append(float(loss.detach()))
                step += 1
                progress(stage, step, total)
            losses.append(float(np.mean(epoch_loss)))
            predicted = classes[_predict(model, images, val_rows, input_size, device, config.eval_batch_size)]
            scores[epoch] = score(labels[val_rows], predicted)
            if scores[epoch] > best_score:
                best_score, best_epoch = scores[epoch], epoch
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        model.load_state_dict(best_state)
    test_rows = np.asarray(test_rows, dtype=np.int64)
    predictions = classes[_predict(model, images, test_rows, input_size, device, config.eval_batch_size)]
    return FinetuneResult(
        metrics=classification_metrics(labels[test_rows], predictions, classes),
        predictions=predictions,
        best_epoch=best_epoch,
        selection=selection,
        selected_by=config.select_by,
        selection_scores=scores,
        train_loss=losses,
        held_out=held_out,
    )


def _predict(
    model: Any, images: Any, rows: np.ndarray, input_size: int, device: Any, batch_size: int
) -> np.ndarray:
    """Class indices (argmax of the logits) of ``rows`` on clean centre-cropped images, in ``rows`` order."""
    import torch

    dtype = autocast_dtype(device)
    model.eval()
    order = np.argsort(rows, kind="stable")
    out = np.empty(len(rows), dtype=np.int64)
    with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        for start in range(0, len(rows), batch_size):
            chunk = order[start : start + batch_size]
            logits = model(clean_inputs(_read(images, rows[chunk]), input_size, device))
            out[chunk] = logits.float().argmax(dim=1).cpu().numpy()
    return out
