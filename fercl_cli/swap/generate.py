"""``fercl swap`` as a library call: plan, swap in worker processes, write the bank with commit points."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.space import require_free
from fercl_cli.store.swap_bank import STATUS_LABELS, SWAPPED, SwapBankWriter
from fercl_cli.swap.colour import BLUR_FRACTION, COLOUR_MODES
from fercl_cli.swap.face_swap import DEFAULT_FEATHER_PX, swap_face
from fercl_cli.swap.plan import SwapPlan, choose_sources, parse_frames, plan_swaps
from fercl_cli.workers import die_with_parent

if TYPE_CHECKING:
    from fercl_cli.store.reader import FaceStore


@dataclass
class SwapSummary:
    """What a ``fercl swap`` run did.

    Attributes:
        out: the bank file.
        planned_sources: frames chosen as expression sources.
        resumed_sources: of those, done by an earlier run (skipped now).
        swaps: swaps written by this run; total_swaps: swaps in the bank.
        skipped: chosen sources without swaps, by reason (all runs).
        seconds: wall time of this run; swaps_per_s: this run's rate.
    """

    out: str
    planned_sources: int
    resumed_sources: int
    swaps: int = 0
    total_swaps: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    swaps_per_s: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return dict(self.__dict__)


BATCH_SOURCES = 64
COMMIT_EVERY_S = 2.0

_worker_store = None  # the FaceStore of a worker process (set by _init_worker)


def _init_worker(store_path: str, parent_pid: int) -> None:
    import cv2

    from fercl_cli.store.reader import FaceStore

    global _worker_store
    die_with_parent(parent_pid)
    cv2.setNumThreads(1)  # one process per core already
    _worker_store = FaceStore(store_path)


def _worker_batch(job: tuple[np.ndarray, np.ndarray, float, float, str]) -> tuple[np.ndarray, np.ndarray]:
    return _swap_batch(_worker_store, job)


def _swap_batch(
    store: FaceStore, job: tuple[np.ndarray, np.ndarray, float, float, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Swaps of one batch: (images uint8 [m, S, S, 3], landmarks float32 [m, 68, 2]) in plan order."""
    sources, donors, feather_px, blur_fraction, colour = job
    size = store.crop_size
    m = donors.size
    images = np.empty((m, size, size, 3), np.uint8)
    landmarks = np.empty((m, 68, 2), np.float32)
    if m == 0:
        return images, landmarks
    face_img, face_lm = store.images(sources), store.landmarks(sources)
    flat = donors.reshape(-1)
    unique, inverse = np.unique(flat, return_inverse=True)
    head_img, head_lm = store.images(unique), store.landmarks(unique)
    per = donors.shape[1]
    for j, d in enumerate(inverse):
        i = j // per
        result = swap_face(
            head_img[d], head_lm[d], face_img[i], face_lm[i], feather_px, blur_fraction, colour
        )
        images[j], landmarks[j] = result.image, result.landmarks
    return images, landmarks


def _jobs(
    plan: SwapPlan, start: int, feather_px: float, blur_fraction: float, colour: str
) -> Iterator[tuple]:
    for lo in range(start, len(plan.sources), BATCH_SOURCES):
        rows = slice(lo, lo + BATCH_SOURCES)
        swapped = plan.status[rows] == SWAPPED
        yield (
            (plan.sources[rows][swapped], plan.donors[rows][swapped], feather_px, blur_fraction, colour),
            rows,
        )


def _results(store: FaceStore, jobs: list, workers: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    if workers <= 1:
        yield from (_swap_batch(store, job) for job in jobs)
        return
    import multiprocessing

    # spawn, not fork: a forked child can inherit locks held by the parent's OpenCV/HDF5 threads
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, _init_worker, (str(store.path), os.getpid())) as pool:
        pending = []
        for job in jobs:  # keep about two batches per worker in flight
            pending.append(pool.submit(_worker_batch, job))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def build_bank(
    store_path: str | Path,
    out: str | Path,
    per_frame: int = 1,
    frames: str = "all",
    feather_px: float = DEFAULT_FEATHER_PX,
    seed: int = 0,
    workers: int = 1,
    blur_fraction: float = BLUR_FRACTION,
    colour: str = "skin",
    progress: Callable[[int, int], None] | None = None,
) -> SwapSummary:
    """Make (or resume) the swap bank ``out`` from the face store ``store_path``.

    Args:
        store_path: a face store with landmarks.
        out: the bank file; resumed when it exists (same store and settings), else created.
        per_frame: K swaps per source frame, each onto a head of another identity.
        frames: ``"all"`` or ``"sampled:N"`` (N frames per clip, evenly spread).
        feather_px: mask feathering σ in pixels; blur_fraction: colour-correction σ / inter-ocular.
        colour: colour-correction mode, ``skin`` (default) or ``paper`` (see :mod:`fercl_cli.swap.colour`).
        seed: seed of the donor draw (the plan is reproducible).
        workers: processes that read and swap (1 = in this process).
        progress: called as ``progress(sources_done, sources_total)`` after each batch.

    Raises:
        FerclError: empty store, store without landmarks, bad settings, or a bank made otherwise.
    """
    from fercl_cli.descriptors.inputs import usable_landmarks
    from fercl_cli.store.reader import FaceStore

    if feather_px < 0:
        raise FerclError(f"--feather {feather_px}: the feathering width must be >= 0 pixels")
    if workers < 1:
        raise FerclError(f"--workers {workers}: use at least 1")
    if colour not in COLOUR_MODES:
        raise FerclError(f"--colour {colour}: choose one of {', '.join(COLOUR_MODES)}")
    per_clip = parse_frames(frames)
    store = FaceStore(store_path)
    if store.n_frames == 0:
        raise FerclError(f"{store.path}: the store has no frames; preprocess some videos first")
    has = store.has_landmarks()
    if not has.any():
        raise FerclError(
            f"{store.path}: no frame has landmarks, so nothing can be swapped; preprocess with a detector"
        )
    size = store.crop_size
    landmarks = store.landmarks()
    usable = has & usable_landmarks(landmarks, size, size)
    row_identity = store.clip_identity[store.column("clip")]
    sources = choose_sources(store.clip_start, store.clip_stop, per_clip)
    plan = plan_swaps(sources, usable, row_identity, per_frame, seed)
    config = {
        "per_frame": per_frame,
        "frames": frames,
        "feather_px": feather_px,
        "blur_fraction": blur_fraction,
        "colour": colour,
        "seed": seed,
    }
    began = time.perf_counter()
    with SwapBankWriter(
        out,
        crop_size=size,
        store_frames=store.n_frames,
        store_created=str(store.attrs.get("created", "")),
        store_path=str(Path(store_path).resolve()),
        config=config,
    ) as writer:
        done = writer.committed_sources
        remaining = int((plan.status[done:] == SWAPPED).sum()) * per_frame
        require_free(Path(out).parent, remaining * (size * size * 3 + 600), f"{remaining} swaps of {size} px")
        summary = SwapSummary(out=str(out), planned_sources=len(plan.sources), resumed_sources=done)
        if progress is not None:
            progress(done, len(plan.sources))
        batches = list(_jobs(plan, done, feather_px, blur_fraction, colour))
        results = _results(store, [job for job, _ in batches], workers)
        committed_at = time.monotonic()
        for (_, rows), (images, result_landmarks) in zip(batches, results, strict=True):
            status = plan.status[rows]
            swapped = status == SWAPPED
            writer.add(
                plan.sources[rows],
                status,
                np.where(swapped, per_frame, 0),
                plan.donors[rows][swapped].reshape(-1),
                plan.donor_identity[rows][swapped].reshape(-1),
                images,
                result_landmarks,
            )
            summary.swaps += len(images)
            done += len(status)
            if time.monotonic() - committed_at > COMMIT_EVERY_S:
                writer.commit()
                committed_at = time.monotonic()
            if progress is not None:
                progress(done, len(plan.sources))
        writer.commit()
        summary.total_swaps = writer.committed_swaps
    store.close()
    counts = np.bincount(plan.status, minlength=len(STATUS_LABELS))
    summary.skipped = {
        STATUS_LABELS[c]: int(counts[c]) for c in range(len(STATUS_LABELS)) if c not in (0, SWAPPED)
    }
    summary.seconds = time.perf_counter() - began
    summary.swaps_per_s = summary.swaps / summary.seconds if summary.seconds > 0 else 0.0
    return summary
