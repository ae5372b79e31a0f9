"""The pretraining loop: sampler → batches → views → model → InfoNCE / MaskFN, with AMP, checkpoints,
exact resume, metrics (JSON lines + TensorBoard) and DDP.

``pretrain(config, on_event)`` runs a whole run; ``on_event(kind, payload)`` receives ``start``,
``step``, ``epoch`` and ``end`` events on rank 0 only (the CLI draws progress from them).
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

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
from fercl_cli.train.losses import InfoNCELoss, MaskFNLoss, sum_over_ranks, view_index
from fercl_cli.train.model import build_model
from fercl_cli.train.sampling import ClipSampler, SamplerConfig
from fercl_cli.train.schedule import build_scheduler
from fercl_cli.train.views import apply_view, paper_views, sample_params

Event = Callable[[str, dict[str, Any]], None]

# Options that may change between a run and its --resume (they do not change what is computed).
LOCK = ".lock"
"""File in the run directory that a running ``pretrain`` holds locked, so a second one on it is refused."""
RESUMABLE_CHANGES = frozenset({"max_steps", "workers", "device", "store", "swaps", "out"})


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


def draw(config, generator: torch.Generator, rows: torch.Tensor, total: int):  # noqa: ANN001, ANN201 - ViewConfig
    """View parameters of a global half-batch of ``total`` images, restricted to this process's ``rows``."""
    return sample_params(total, config, generator).select(rows)


def _seed_of(*parts: int) -> int:
    return int(np.random.default_rng(list(parts)).integers(0, 2**62))


class _StopRequests:
    """SIGINT (Ctrl-C) and SIGTERM (batch schedulers) stop the run at the next step boundary, so the saved
    checkpoint is the state of the last completed step (BatchNorm statistics and counters included) and
    ``--resume`` is exact; a second signal stops at once, without saving over the last checkpoint.

    Handlers are installed only in the main thread (elsewhere Python cannot); DataLoader workers ignore
    both signals (:func:`_ignore_stop_signals`) so that they outlive the step being finished.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._handle) for signum in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signum

    def pending(self, dist: DistInfo) -> bool:
        """True when any process received a stop signal (one all-reduce under DDP, so all stop together)."""
        flag = self.received is not None
        if dist.world_size > 1:
            shared = torch.tensor([float(flag)], device=dist.device)
            torch.distributed.all_reduce(shared, op=torch.distributed.ReduceOp.MAX)
            flag = bool(shared.item())
        return flag


def _ignore_stop_signals(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: the main process decides when to stop (see :class:`_StopRequests`)."""
    for signum in _StopRequests.SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _step_of(line: str) -> float:
    """The step a metrics.jsonl line records; infinity for a torn line (never kept)."""
    try:
        return float(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return math.inf


class _Metrics:
    """JSON-lines log (rank 0) plus TensorBoard event files when the package is installed."""

    def __init__(self, out: Path, resume_step: int | None, notes: list[str]) -> None:
        self.path = out / "metrics.jsonl"
        kept = []
        if resume_step is not None and self.path.exists():
            # Steps logged after the checkpoint (before a crash) are redone: drop their lines, and a
            # line torn by a crash or a full disk.
            kept = [line for line in self.path.read_text().splitlines() if _step_of(line) <= resume_step]
        self.handle = self.path.open("w")  # noqa: SIM115 - kept open for the run, closed in close()
        self.handle.writelines(line + "\n" for line in kept)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.board = SummaryWriter(str(out / "tensorboard"))
        except ImportError:
            self.board = None
            notes.append("TensorBoard is not installed: metrics are in metrics.jsonl only")

    def write(self, record: dict[str, Any]) -> None:
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()
        if self.board is not None:
            for key, value in record.items():
                if key not in ("epoch", "step", "batch") and isinstance(value, (int, float)):
                    self.board.add_scalar(f"pretrain/{key}", value, record["step"])

    def last_loss(self) -> float:
        """The loss of the last logged step (NaN when none is logged)."""
        self.handle.flush()
        lines = self.path.read_text().splitlines()
        return float(json.loads(lines[-1])["loss"]) if lines else math.nan

    def close(self) -> None:
        self.handle.close()
        if self.board is not None:
            self.board.close()


def _open_store(config: PretrainConfig):  # noqa: ANN202 - FaceStore
    from fercl_cli.store.reader import FaceStore

    store = FaceStore(config.store)
    if not store.fps > 0:
        raise FerclError(
            f"{config.store} holds still images (fps {store.fps}), not video clips; pretraining needs clips"
        )
    if store.n_clips == 0 or store.n_frames == 0:
        raise FerclError(f"{config.store} has no committed clips; run 'fercl preprocess' to fill it")
    if config.mask_fn != "off" and config.descriptor not in store.descriptor_kinds:
        raise FerclError(
            f"--mask-fn {config.mask_fn} needs '{config.descriptor}' descriptors in {config.store}; "
            f"run 'fercl describe {config.store} --kind {config.descriptor}'"
        )
    return store


def _open_swaps(config: PretrainConfig, store) -> SwapSource | None:  # noqa: ANN001 - FaceStore
    if not config.face_swap:
        return None
    from fercl_cli.swap.bank import SwapBank

    return SwapBank(config.swaps, store=store)


def _check_resume(saved: dict[str, Any], config: PretrainConfig) -> None:
    """Refuse a resume whose options change what is computed; more ``epochs`` than saved are allowed (the
    run goes on, its cosine schedule stretched to the new end)."""
    current = config.to_dict()
    extends = "epochs" in saved and current["epochs"] >= saved["epochs"]
    differ = sorted(
        k
        for k, v in saved.items()
        if k not in RESUMABLE_CHANGES and current.get(k) != v and not (k == "epochs" and extends)
    )
    if differ:
        raise FerclError(
            "--resume with different settings: "
            + ", ".join(f"{k} (checkpoint {saved[k]!r}, now {current.get(k)!r})" for k in differ)
            + "; resume with the original options or start a new --out"
        )


def _build(config: PretrainConfig, dist: DistInfo):  # noqa: ANN202 - model, ddp model
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


def _amp_dtype(config: PretrainConfig, device: torch.device) -> torch.dtype | None:
    if not config.amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def pretrain(config: PretrainConfig, on_event: Event | None = None, resume: bool = False) -> RunSummary:
    """Run (or with ``resume`` continue) pretraining as ``config`` says; see the module docstring."""
    config.validate()
    dist = setup(config.device)
    emit = on_event if (on_event is not None and dist.is_main) else (lambda kind, payload: None)
    out = Path(config.out)
    last = out / checkpoint.LAST
    lock = None
    try:
        if dist.is_main:
            out.mkdir(parents=True, exist_ok=True)
            lock = lock_exclusively(out / LOCK, "run directory")
        if not resume and last.exists():
            raise FerclError(
                f"{out} already holds a run; pass --resume to continue it or choose another --out"
            )
        if resume and not last.exists():
            raise FerclError(f"--resume: no checkpoint in {out}; start without --resume")
        saved = checkpoint.load(last) if resume else None
        if saved is not None:
            _check_resume(saved["config"], config)
        store = _open_store(config)
        if saved is not None and "store" in saved:
            # The run trains on the rows committed when it started, even if the store grew since.
            store.limit_to(int(saved["store"]["clips"]), int(saved["store"]["frames"]))
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
            descriptor=config.descriptor if config.mask_fn != "off" else None,
            swap_p=config.swap_p if swaps is not None else 0.0,
            swap_q=config.swap_q if swaps is not None else 0.0,
            seed=config.seed,
        )
        dataset = PretrainBatches(store, sampler, data_config, swaps)
        steps_per_epoch = dataset.num_batches(0)
        if steps_per_epoch == 0:
            raise FerclError(
                f"no clip of {config.store} is long enough for the chosen strategies "
                f"(clips skipped by rule: {dict(sampler.epoch(0).skipped)}); HardNeg needs clips longer than 3 s: "
                "try --no-hard-neg"
            )
        total_steps = steps_per_epoch * config.epochs
        warmup = min(total_steps, int(round(config.warmup_epochs * steps_per_epoch)))

        model, wrapped = _build(config, dist)
        opt_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        optimizer = opt_class(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        scheduler = build_scheduler(optimizer, total_steps, warmup)
        amp_dtype = _amp_dtype(config, dist.device)
        scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
        gather = dist.world_size > 1
        if config.mask_fn == "off":
            loss_fn = InfoNCELoss(tau=config.temperature, gather_distributed=gather)
        else:
            loss_fn = MaskFNLoss(
                mode=config.mask_fn,
                tau=config.temperature,
                lam=config.mask_lambda,
                threshold=config.mask_threshold,
                gather_distributed=gather,
            )
        view1, view2 = paper_views(config.size, store.crop_size)
        view1 = replace(view1, occlusion_p=config.occlusion_p)
        view2 = replace(view2, occlusion_p=config.occlusion_p)

        start_epoch, start_batch, step = 0, 0, 0
        if dist.is_main:
            state_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
            require_free(out, 3 * state_bytes + (1 << 20), "the checkpoint (model and optimizer state)")
        if saved is not None:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            scaler.load_state_dict(saved["scaler"])
            checkpoint.set_rng_state(saved["rng"])
            start_epoch, start_batch, step = saved["epoch"], saved["batch"], saved["step"]

        notes: list[str] = []
        if config.amp and amp_dtype is None:
            notes.append("AMP is used on CUDA only: this run computes in float32 on the CPU")
        if dist.is_main:
            out.mkdir(parents=True, exist_ok=True)
            (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
        metrics = _Metrics(out, step if resume else None, notes) if dist.is_main else None

        def save(epoch: int, batch: int, reason: str) -> None:
            if not dist.is_main:
                return
            checkpoint.save(
                last,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(),
                    "rng": checkpoint.rng_state(),
                    "epoch": epoch,
                    "batch": batch,
                    "step": step,
                    "config": config.to_dict(),
                    "fercl_version": __version__,
                    "reason": reason,
                    "store": {"path": str(config.store), "frames": store.n_frames, "clips": store.n_clips},
                },
            )

        def _train_step(
            item: dict[str, torch.Tensor], epoch: int, batch_index: int, step: int
        ) -> dict[str, Any]:
            images = item["images"].to(dist.device, non_blocking=True)
            landmarks = item["landmarks"].to(dist.device, non_blocking=True)
            local = int(item["clip"].shape[0])
            index = view_index(local, config.hard_neg, dist.device)
            half = images.shape[0] // 2
            # Parameters are drawn for the global batch and each process takes its clips' rows, so the
            # augmentations do not depend on how many processes share the batch.
            generator = torch.Generator().manual_seed(_seed_of(config.seed, epoch, batch_index))
            mine = _global_rows(local, half // local, dist.rank, dist.world_size)
            x = torch.cat(
                [
                    apply_view(
                        images[:half],
                        landmarks[:half],
                        draw(view1, generator, mine, half * dist.world_size),
                        view1,
                        dist.device,
                    ),
                    apply_view(
                        images[half:],
                        landmarks[half:],
                        draw(view2, generator, mine, half * dist.world_size),
                        view2,
                        dist.device,
                    ),
                ]
            )
            if config.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(
                dist.device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None
            ):
                _, z = wrapped(x)
            z = z.float()
            extra: dict[str, float] = {}
            if config.mask_fn == "off":
                loss = loss_fn(z, index.pair)
            else:
                result = loss_fn(
                    z,
                    index.pair,
                    index.clip,
                    item["descriptors"].to(dist.device),
                    item["descriptor_valid"].to(dist.device),
                )
                loss = result.loss
                extra = {"l1": float(result.l1), "l2": float(result.l2), "matched": float(result.matched)}
            if not torch.isfinite(loss):
                raise FerclError(
                    f"the loss became {float(loss)} at step {step} (epoch {epoch}, batch {batch_index}); "
                    f"the last good checkpoint {last} is intact: lower --lr or check the data"
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
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
                "lr": optimizer.param_groups[0]["lr"],
                "swapped_fraction": float(item["swapped"].float().mean()),
                **extra,
            }

        schedule = [(e, dataset.num_batches(e)) for e in range(start_epoch, config.epochs)]
        skipped = dict(sampler.epoch(start_epoch).skipped) if start_epoch < config.epochs else {}
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=None,
            sampler=BatchKeys(schedule, start_batch),
            num_workers=config.workers,
            pin_memory=dist.device.type == "cuda",
            persistent_workers=config.workers > 0,
            prefetch_factor=4 if config.workers > 0 else None,
            worker_init_fn=_ignore_stop_signals if config.workers > 0 else None,
        )
        emit(
            "start",
            {
                "steps_per_epoch": steps_per_epoch,
                "total_steps": total_steps,
                "start_step": step,
                "device": str(dist.device),
                "world_size": dist.world_size,
                "clips": store.n_clips,
                "frames": store.n_frames,
                "skipped": skipped,
                "notes": notes,
                "amp": str(amp_dtype),
            },
        )
        wrapped.train()
        batches_in = dict(schedule)
        stopped, last_loss, images_done, busy, waited, swapped_views = (
            "finished",
            float("nan"),
            0,
            0.0,
            0.0,
            0,
        )
        position = (start_epoch, start_batch)
        iterator = iter(loader)
        tick = time.perf_counter()
        in_step = False
        stop = _StopRequests()
        try:
            with stop:
                for epoch, batch_index in BatchKeys(schedule, start_batch):
                    if stop.pending(dist):
                        save(*position, "interrupted")
                        raise KeyboardInterrupt
                    if config.max_steps is not None and step >= config.max_steps:
                        stopped = "max_steps"
                        break
                    item = next(iterator)
                    ready = time.perf_counter()
                    in_step = True
                    record = _train_step(item, epoch, batch_index, step)
                    step += 1
                    in_step = False
                    done = time.perf_counter()
                    waited += ready - tick
                    busy += done - tick
                    views = int(item["images"].shape[0]) * dist.world_size
                    images_done += views
                    swapped_views += int(item["swapped"].sum())
                    last_loss = record["loss"]
                    record.update(
                        step=step,
                        step_seconds=done - tick,
                        images_per_s=views / max(done - tick, 1e-9),
                        data_wait=(ready - tick) / max(done - tick, 1e-9),
                    )
                    tick = done
                    if metrics is not None:
                        metrics.write(record)
                    emit("step", record)
                    position = (epoch, batch_index + 1)
                    if batch_index + 1 == batches_in[epoch]:
                        position = (epoch + 1, 0)
                        save(*position, "epoch")
                        emit("epoch", {"epoch": epoch, "step": step, "loss": last_loss})
        except KeyboardInterrupt:
            if not in_step and stop.received is None:
                save(*position, "interrupted")  # interrupted between steps, e.g. waiting for data
            raise
        except torch.cuda.OutOfMemoryError:
            raise FerclError(
                f"out of GPU memory at --batch-clips {config.batch_clips} ({config.arch}, {config.size} px); "
                "lower --batch-clips (AMP is on unless --no-amp was given)"
            ) from None
        if stopped == "max_steps":
            save(*position, "max_steps")
        if metrics is not None:
            if resume and images_done == 0 and stopped == "finished":
                stopped = "already finished"
                last_loss = metrics.last_loss()
                notes.append(f"the run had already finished its {config.epochs} epochs; nothing was trained")
            metrics.close()
        summary = RunSummary(
            out=str(out),
            epochs_done=position[0],
            steps=step,
            last_loss=last_loss,
            images_per_second=images_done / busy if busy else 0.0,
            data_wait_fraction=waited / busy if busy else 0.0,
            stopped=stopped,
            checkpoint=str(last),
            skipped_clips=skipped,
            swapped_views=swapped_views,
            notes=notes,
        )
        emit("end", summary.__dict__)
        return summary
    finally:
        if lock is not None:
            os.close(lock)
        teardown()
