"""The pretraining loop: sampler → batches → views → model → InfoNCE / MaskFN, with AMP, checkpoints,
exact resume, metrics (JSON lines + TensorBoard) and DDP.

Read top to bottom: :func:`open_data` (store, sampler, batches), :func:`build_loss`, :func:`build_run`
(model, optimiser, schedule, views), :func:`restore` (the resume state), :func:`save_checkpoint`,
:func:`train_step` (one optimisation step), :func:`run_steps` (the epochs, timing and stop signals) and
:func:`pretrain`, which chains them. ``pretrain(config, on_event)`` runs a whole run;
``on_event(kind, payload)`` receives ``start``, ``step``, ``epoch`` and ``end`` events on rank 0 only
(the CLI draws progress from them).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fercl_cli import __version__
from fercl_cli.errors import FerclError
from fercl_cli.space import require_free
from fercl_cli.store.files import lock_exclusively
from fercl_cli.train import checkpoint
from fercl_cli.train.config import PretrainConfig
from fercl_cli.train.data import BatchKeys, DataConfig, PretrainBatches, SwapSource
from fercl_cli.train.distributed import DistInfo, setup, teardown
from fercl_cli.train.losses import InfoNCELoss, MaskFNLoss, ViewIndex, sum_over_ranks, view_index
from fercl_cli.train.metrics_log import MetricsLog
from fercl_cli.train.model import ContrastiveModel, build_model
from fercl_cli.train.sampling import ClipSampler, SamplerConfig
from fercl_cli.train.schedule import build_scheduler
from fercl_cli.train.stop import StopRequests, ignore_stop_signals
from fercl_cli.train.views import ViewConfig, ViewParams, apply_view, paper_views, sample_params

if TYPE_CHECKING:
    from fercl_cli.store.reader import FaceStore

Event = Callable[[str, dict[str, Any]], None]
Batch = dict[str, torch.Tensor]
"""One item of :class:`~fercl_cli.train.data.PretrainBatches` (images, landmarks, clip, swapped, ...)."""
StepLoss = Callable[[torch.Tensor, ViewIndex, Batch], tuple[torch.Tensor, dict[str, float]]]
"""``loss(z [V, D] float32, index, batch) -> (scalar loss, extra logged values)``: InfoNCE and MaskFN alike."""

LOCK = ".lock"
"""File in the run directory that a running ``pretrain`` holds locked, so a second one on it is refused."""
RESUMABLE_CHANGES = frozenset({"max_steps", "workers", "device", "store", "swaps", "out"})
"""Options that may change between a run and its --resume (they do not change what is computed)."""


@dataclass
class RunSummary:
    """What a finished (or stopped) run did."""

    out: str
    epochs_done: int
    steps: int
    last_loss: float
    images_per_second: float
    data_wait_fraction: float
    stopped: str
    checkpoint: str
    skipped_clips: dict[str, int]
    swapped_views: int
    notes: list[str]


def _contrastive_accuracy(z: torch.Tensor, pair: torch.Tensor) -> float:
    """Fraction of views whose most similar other view is their positive partner."""
    with torch.no_grad():
        sim = z.float() @ z.float().T
        sim.fill_diagonal_(-math.inf)
        nearest = sim.argmax(dim=1)
        return float((pair[nearest] == pair).float().mean())


def _global_rows(local: int, groups: int, rank: int, world_size: int) -> torch.Tensor:
    """Rows of this process's images among a global half-batch of ``groups`` view groups (A, NA) of
    ``local × world_size`` clips: rank r holds the global clips r, r + W, r + 2W, ... (see ``sampling.shard``)."""
    clips = torch.arange(local) * world_size + rank
    return torch.cat([clips + g * local * world_size for g in range(groups)])


def draw(config: ViewConfig, generator: torch.Generator, rows: torch.Tensor, total: int) -> ViewParams:
    """View parameters of a global half-batch of ``total`` images, restricted to this process's ``rows``."""
    return sample_params(total, config, generator).select(rows)


def _seed_of(*parts: int) -> int:
    return int(np.random.default_rng(list(parts)).integers(0, 2**62))


def resume_conflicts(saved: dict[str, Any], config: PretrainConfig, extend: bool = True) -> list[str]:
    """The options of ``config`` that differ from a checkpoint's ``saved`` config and change what is
    computed (sorted; empty when the run can resume). With ``extend``, more ``epochs`` than saved are
    allowed: the run goes on, its cosine schedule stretched to the new end (so it is not the run a fresh
    start would give)."""
    current = config.to_dict()
    extends = extend and "epochs" in saved and current["epochs"] >= saved["epochs"]
    return sorted(
        k
        for k, v in saved.items()
        if k not in RESUMABLE_CHANGES and current.get(k) != v and not (k == "epochs" and extends)
    )


def _check_resume(saved: dict[str, Any], config: PretrainConfig) -> None:
    """Refuse a resume whose options change what is computed (see :func:`resume_conflicts`)."""
    current = config.to_dict()
    differ = resume_conflicts(saved, config)
    if differ:
        raise FerclError(
            "--resume with different settings: "
            + ", ".join(f"{k} (checkpoint {saved[k]!r}, now {current.get(k)!r})" for k in differ)
            + "; resume with the original options or start a new --out"
        )


def _open_store(config: PretrainConfig, saved: dict[str, Any] | None) -> FaceStore:
    """The face store, limited on resume to the rows committed when the run started."""
    from fercl_cli.store.reader import FaceStore

    store = FaceStore(config.store)
    if not store.fps > 0:
        raise FerclError(
            f"{config.store} holds still images (fps {store.fps}), not video clips; pretraining needs clips"
        )
    if store.n_clips == 0 or store.n_frames == 0:
        raise FerclError(f"{config.store} has no committed clips; run 'fercl preprocess' to fill it")
    if config.maskfn is not None and config.descriptor not in store.descriptor_kinds:
        raise FerclError(
            f"--mask-fn {config.mask_fn} needs '{config.descriptor}' descriptors in {config.store}; "
            f"run 'fercl describe {config.store} --kind {config.descriptor}'"
        )
    if saved is not None and "store" in saved:
        # The run trains on the rows committed when it started, even if the store grew since.
        store.limit_to(int(saved["store"]["clips"]), int(saved["store"]["frames"]))
    return store


def _open_swaps(config: PretrainConfig, store: FaceStore) -> SwapSource | None:
    if not config.face_swap:
        return None
    from fercl_cli.store.swap_bank import SwapBank

    return SwapBank(config.swaps, store=store)


@dataclass
class Data:
    """What a run reads: the store, the clip sampler and the batches (which hold the optional swap bank)."""

    store: FaceStore
    sampler: ClipSampler
    batches: PretrainBatches
    steps_per_epoch: int


def open_data(config: PretrainConfig, dist: DistInfo, saved: dict[str, Any] | None) -> Data:
    """Open the store (and swap bank) and build this process's sampler and batches; refuses a batch larger
    than the store and a store with no clip long enough for the chosen strategies."""
    store = _open_store(config, saved)
    if config.batch_clips * dist.world_size > store.n_clips:
        processes = f" x {dist.world_size} processes" if dist.world_size > 1 else ""
        raise FerclError(
            f"--batch-clips {config.batch_clips}{processes} is larger than the {store.n_clips} clips in "
            f"{config.store}; lower --batch-clips"
        )
    swaps = _open_swaps(config, store)
    sampler = ClipSampler(
        store.clip_start,
        store.clip_stop,
        store.fps,
        SamplerConfig(
            time_aug=config.time_aug,
            hard_neg=config.hard_neg,
            offset_mode=config.offset_weights,
            seed=config.seed,
        ),
        clip_identity=store.clip_identity,
        rank=dist.rank,
        world_size=dist.world_size,
    )
    data_config = DataConfig(
        batch_clips=config.batch_clips,
        hard_neg=config.hard_neg,
        descriptor=config.descriptor if config.maskfn is not None else None,
        swap_p=config.swap_p if swaps is not None else 0.0,
        swap_q=config.swap_q if swaps is not None else 0.0,
        seed=config.seed,
    )
    batches = PretrainBatches(store, sampler, data_config, swaps)
    steps_per_epoch = batches.num_batches(0)
    if steps_per_epoch == 0:
        raise FerclError(
            f"no clip of {config.store} is long enough for the chosen strategies "
            f"(clips skipped by rule: {dict(sampler.epoch(0).skipped)}); HardNeg needs clips longer than 3 s: "
            "try --no-hard-neg"
        )
    return Data(store, sampler, batches, steps_per_epoch)


def build_loss(config: PretrainConfig, gather_distributed: bool) -> StepLoss:
    """The run's loss with one signature: InfoNCE when MaskFN is off, else MaskFN in ``config.maskfn``
    mode (its ``l1``, ``l2`` and ``matched`` logged as extras). ``gather_distributed``: negatives from
    every DDP process."""
    mode = config.maskfn
    if mode is None:
        info_nce = InfoNCELoss(tau=config.temperature, gather_distributed=gather_distributed)
        return lambda z, index, batch: (info_nce(z, index.pair), {})
    maskfn = MaskFNLoss(
        mode=mode,
        tau=config.temperature,
        lam=config.mask_lambda,
        threshold=config.mask_threshold,
        gather_distributed=gather_distributed,
    )

    def maskfn_loss(z: torch.Tensor, index: ViewIndex, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        out = maskfn(
            z,
            index.pair,
            index.clip,
            batch["descriptors"].to(z.device),
            batch["descriptor_valid"].to(z.device),
        )
        return out.loss, {"l1": float(out.l1), "l2": float(out.l2), "matched": float(out.matched)}

    return maskfn_loss


def _amp_dtype(config: PretrainConfig, device: torch.device) -> torch.dtype | None:
    if not config.amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


@dataclass
class Run:
    """Everything a run builds once. ``model`` is the bare network (its state is what is saved);
    ``wrapped`` is what the step calls (DDP and/or ``torch.compile`` around it)."""

    config: PretrainConfig
    dist: DistInfo
    out: Path
    data: Data
    model: ContrastiveModel
    wrapped: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    amp_dtype: torch.dtype | None
    loss: StepLoss
    views: tuple[ViewConfig, ViewConfig]
    total_steps: int
    notes: list[str] = field(default_factory=list)

    @property
    def last(self) -> Path:
        """The checkpoint file every save replaces atomically."""
        return self.out / checkpoint.LAST


def _build_model(config: PretrainConfig, dist: DistInfo) -> tuple[ContrastiveModel, torch.nn.Module]:
    torch.manual_seed(config.seed)
    model = build_model(config.arch)
    if config.sync_bn and dist.world_size > 1:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = model.to(dist.device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    wrapped: torch.nn.Module = model
    if dist.world_size > 1:
        ids = [dist.local_rank] if dist.device.type == "cuda" else None
        wrapped = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    if config.compile:
        wrapped = torch.compile(wrapped)
    return model, wrapped


def build_run(config: PretrainConfig, dist: DistInfo, out: Path, data: Data) -> Run:
    """Model (seeded by ``config.seed``), optimiser, warmup + cosine schedule, AMP scaler, loss and the
    paper's two views for ``config.epochs`` epochs of ``data``."""
    total_steps = data.steps_per_epoch * config.epochs
    warmup = min(total_steps, int(round(config.warmup_epochs * data.steps_per_epoch)))
    model, wrapped = _build_model(config, dist)
    opt_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    optimizer = opt_class(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    amp_dtype = _amp_dtype(config, dist.device)
    view1, view2 = paper_views(config.size, data.store.crop_size)
    run = Run(
        config=config,
        dist=dist,
        out=out,
        data=data,
        model=model,
        wrapped=wrapped,
        optimizer=optimizer,
        scheduler=build_scheduler(optimizer, total_steps, warmup),
        scaler=torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16),
        amp_dtype=amp_dtype,
        loss=build_loss(config, gather_distributed=dist.world_size > 1),
        views=(
            replace(view1, occlusion_p=config.occlusion_p),
            replace(view2, occlusion_p=config.occlusion_p),
        ),
        total_steps=total_steps,
    )
    if config.amp and amp_dtype is None:
        run.notes.append("AMP is used on CUDA only: this run computes in float32 on the CPU")
    return run


@dataclass
class Position:
    """Where the run stands: the next ``(epoch, batch)`` to train and the optimisation steps done."""

    epoch: int = 0
    batch: int = 0
    step: int = 0


def restore(run: Run, saved: dict[str, Any] | None) -> Position:
    """Load a checkpoint's model, optimiser, schedule, scaler and RNG state into ``run``; its position
    (the start when ``saved`` is None)."""
    if saved is None:
        return Position()
    run.model.load_state_dict(saved["model"])
    run.optimizer.load_state_dict(saved["optimizer"])
    run.scheduler.load_state_dict(saved["scheduler"])
    run.scaler.load_state_dict(saved["scaler"])
    checkpoint.set_rng_state(saved["rng"])
    return Position(saved["epoch"], saved["batch"], saved["step"])


def save_checkpoint(run: Run, position: Position, reason: str) -> None:
    """Write ``last.pt`` atomically (rank 0 only): everything :func:`restore` reads, plus the config, the
    store's committed size and why it was saved (``epoch``, ``interrupted``, ``max_steps``)."""
    if not run.dist.is_main:
        return
    store = run.data.store
    checkpoint.save(
        run.last,
        {
            "model": run.model.state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict(),
            "scaler": run.scaler.state_dict(),
            "rng": checkpoint.rng_state(),
            "epoch": position.epoch,
            "batch": position.batch,
            "step": position.step,
            "config": run.config.to_dict(),
            "fercl_version": __version__,
            "reason": reason,
            "store": {"path": str(run.config.store), "frames": store.n_frames, "clips": store.n_clips},
        },
    )


def _augment(run: Run, batch: Batch, epoch: int, batch_index: int) -> tuple[torch.Tensor, ViewIndex]:
    """The batch's two views as model input [V, 3, size, size] float, and their pair/clip ids.

    Parameters are drawn for the global batch and each process takes its clips' rows, so the
    augmentations do not depend on how many processes share the batch."""
    dist, (view1, view2) = run.dist, run.views
    images = batch["images"].to(dist.device, non_blocking=True)
    landmarks = batch["landmarks"].to(dist.device, non_blocking=True)
    local = int(batch["clip"].shape[0])
    half = images.shape[0] // 2
    generator = torch.Generator().manual_seed(_seed_of(run.config.seed, epoch, batch_index))
    mine = _global_rows(local, half // local, dist.rank, dist.world_size)
    total = half * dist.world_size
    x = torch.cat(
        [
            apply_view(
                images[:half], landmarks[:half], draw(view1, generator, mine, total), view1, dist.device
            ),
            apply_view(
                images[half:], landmarks[half:], draw(view2, generator, mine, total), view2, dist.device
            ),
        ]
    )
    if run.config.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, view_index(local, run.config.hard_neg, dist.device)


def train_step(run: Run, batch: Batch, epoch: int, batch_index: int, step: int) -> dict[str, Any]:
    """One optimisation step on ``batch``: views, forward (AMP on CUDA), loss, backward, optimiser and
    schedule step. Returns the step's record (the global batch's loss, contrastive accuracy, lr, ...)."""
    dist = run.dist
    x, index = _augment(run, batch, epoch, batch_index)
    with torch.autocast(
        dist.device.type, dtype=run.amp_dtype or torch.float32, enabled=run.amp_dtype is not None
    ):
        _, z = run.wrapped(x)
    z = z.float()
    loss, extra = run.loss(z, index, batch)
    if not torch.isfinite(loss):
        raise FerclError(
            f"the loss became {float(loss)} at step {step} (epoch {epoch}, batch {batch_index}); "
            f"the last good checkpoint {run.last} is intact: lower --lr or check the data"
        )
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.scheduler.step()
    logged = loss.detach()
    if dist.world_size > 1:
        logged = sum_over_ranks(logged) / dist.world_size  # the global batch's loss, as one process
    if dist.device.type == "cuda":
        torch.cuda.synchronize(dist.device)
    return {
        "epoch": epoch,
        "batch": batch_index,
        "loss": float(logged),
        "contrastive_accuracy": _contrastive_accuracy(z, index.pair),
        "lr": run.optimizer.param_groups[0]["lr"],
        "swapped_fraction": float(batch["swapped"].float().mean()),
        **extra,
    }


@dataclass
class Progress:
    """What :func:`run_steps` did: why it stopped, the last loss, images trained, seconds busy and
    waiting for data, swapped views seen."""

    stopped: str = "finished"
    last_loss: float = math.nan
    images: int = 0
    busy: float = 0.0
    waited: float = 0.0
    swapped_views: int = 0


def _loader(run: Run, schedule: list[tuple[int, int]], start_batch: int) -> torch.utils.data.DataLoader:
    workers = run.config.workers
    return torch.utils.data.DataLoader(
        run.data.batches,
        batch_size=None,
        sampler=BatchKeys(schedule, start_batch),
        num_workers=workers,
        pin_memory=run.dist.device.type == "cuda",
        persistent_workers=workers > 0,
        prefetch_factor=4 if workers > 0 else None,
        worker_init_fn=ignore_stop_signals if workers > 0 else None,
    )


def run_steps(
    run: Run, position: Position, schedule: list[tuple[int, int]], metrics: MetricsLog | None, emit: Event
) -> Progress:
    """Train through ``schedule`` (``(epoch, batches)`` from ``position``), saving at every epoch end, at
    ``max_steps`` and on a stop signal (then re-raising ``KeyboardInterrupt``). ``position`` is advanced."""
    progress = Progress()
    batches_in = dict(schedule)
    iterator = iter(_loader(run, schedule, position.batch))
    tick = time.perf_counter()
    in_step = False
    stop = StopRequests()
    try:
        with stop:
            for epoch, batch_index in BatchKeys(schedule, position.batch):
                if stop.pending(run.dist):
                    save_checkpoint(run, position, "interrupted")
                    raise KeyboardInterrupt
                if run.config.max_steps is not None and position.step >= run.config.max_steps:
                    progress.stopped = "max_steps"
                    break
                batch = next(iterator)
                ready = time.perf_counter()
                in_step = True
                record = train_step(run, batch, epoch, batch_index, position.step)
                position.step += 1
                in_step = False
                done = time.perf_counter()
                views = int(batch["images"].shape[0]) * run.dist.world_size
                progress.waited += ready - tick
                progress.busy += done - tick
                progress.images += views
                progress.swapped_views += int(batch["swapped"].sum())
                progress.last_loss = record["loss"]
                record.update(
                    step=position.step,
                    step_seconds=done - tick,
                    images_per_s=views / max(done - tick, 1e-9),
                    data_wait=(ready - tick) / max(done - tick, 1e-9),
                )
                tick = done
                if metrics is not None:
                    metrics.write(record)
                emit("step", record)
                position.epoch, position.batch = epoch, batch_index + 1
                if batch_index + 1 == batches_in[epoch]:
                    position.epoch, position.batch = epoch + 1, 0
                    save_checkpoint(run, position, "epoch")
                    emit("epoch", {"epoch": epoch, "step": position.step, "loss": progress.last_loss})
    except KeyboardInterrupt:
        if not in_step and stop.received is None:
            save_checkpoint(run, position, "interrupted")  # interrupted between steps, e.g. waiting for data
        raise
    except torch.cuda.OutOfMemoryError:
        config = run.config
        raise FerclError(
            f"out of GPU memory at --batch-clips {config.batch_clips} ({config.arch}, {config.size} px); "
            "lower --batch-clips (AMP is on unless --no-amp was given)"
        ) from None
    if progress.stopped == "max_steps":
        save_checkpoint(run, position, "max_steps")
    return progress


def _saved_state(out: Path, config: PretrainConfig, resume: bool) -> dict[str, Any] | None:
    """The checkpoint to resume from (checked against ``config``), None for a new run."""
    last = out / checkpoint.LAST
    if not resume and last.exists():
        raise FerclError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    if resume and not last.exists():
        raise FerclError(f"--resume: no checkpoint in {out}; start without --resume")
    saved = checkpoint.load(last) if resume else None
    if saved is not None:
        _check_resume(saved["config"], config)
    return saved


def pretrain(config: PretrainConfig, on_event: Event | None = None, resume: bool = False) -> RunSummary:
    """Run (or with ``resume`` continue) pretraining as ``config`` says; see the module docstring."""
    config.validate()
    dist = setup(config.device)
    emit = on_event if (on_event is not None and dist.is_main) else (lambda kind, payload: None)
    out = Path(config.out)
    lock = None
    try:
        if dist.is_main:
            out.mkdir(parents=True, exist_ok=True)
            lock = lock_exclusively(out / LOCK, "run directory")
        saved = _saved_state(out, config, resume)
        run = build_run(config, dist, out, open_data(config, dist, saved))
        if dist.is_main:
            state_bytes = sum(t.numel() * t.element_size() for t in run.model.state_dict().values())
            require_free(out, 3 * state_bytes + (1 << 20), "the checkpoint (model and optimizer state)")
        position = restore(run, saved)
        if dist.is_main:
            (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
        metrics = MetricsLog(out, position.step if resume else None, run.notes) if dist.is_main else None

        data = run.data
        schedule = [(e, data.batches.num_batches(e)) for e in range(position.epoch, config.epochs)]
        skipped = dict(data.sampler.epoch(position.epoch).skipped) if position.epoch < config.epochs else {}
        emit(
            "start",
            {
                "steps_per_epoch": data.steps_per_epoch,
                "total_steps": run.total_steps,
                "start_step": position.step,
                "device": str(dist.device),
                "world_size": dist.world_size,
                "clips": data.store.n_clips,
                "frames": data.store.n_frames,
                "skipped": skipped,
                "notes": run.notes,
                "amp": str(run.amp_dtype),
            },
        )
        run.wrapped.train()
        progress = run_steps(run, position, schedule, metrics, emit)
        if metrics is not None:
            if resume and progress.images == 0 and progress.stopped == "finished":
                progress.stopped = "already finished"
                progress.last_loss = metrics.last_loss()
                run.notes.append(
                    f"the run had already finished its {config.epochs} epochs; nothing was trained"
                )
            metrics.close()
        summary = RunSummary(
            out=str(out),
            epochs_done=position.epoch,
            steps=position.step,
            last_loss=progress.last_loss,
            images_per_second=progress.images / progress.busy if progress.busy else 0.0,
            data_wait_fraction=progress.waited / progress.busy if progress.busy else 0.0,
            stopped=progress.stopped,
            checkpoint=str(run.last),
            skipped_clips=skipped,
            swapped_views=progress.swapped_views,
            notes=run.notes,
        )
        emit("end", summary.__dict__)
        return summary
    finally:
        if lock is not None:
            os.close(lock)
        teardown()
