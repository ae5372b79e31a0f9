"""``fercl preprocess``: clips → worker processes (decode, detect/track, align) → one writer.

Clips are processed in key order by a pool of worker processes with a bounded window of clips in
flight (memory stays bounded); the single writer appends each clip's frames and failure records to
the face store and commits at least every ``commit_seconds``. A rerun skips committed clips, so a
crashed or interrupted run resumes where it stopped and ends with the same store as an
uninterrupted one. ``--shard I/N`` keeps every N-th clip (by sorted key) starting at I.
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from fercl_cli.errors import FerclError
from fercl_cli.faces.template import DEFAULT_TEMPLATE
from fercl_cli.preprocess.analyse import AnalyseConfig, ClipResult, analyse_clip
from fercl_cli.sources.clips import ClipSource
from fercl_cli.sources.voxceleb import Discovery
from fercl_cli.workers import die_with_parent

Event = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class PreprocessConfig:
    """Settings of one preprocessing run (those that shape the store are recorded in it)."""

    out: str
    size: int = 128
    fps: Fraction = Fraction(25, 6)
    encoding: str = "raw"
    detector: str = "dlib"
    models_dir: str | None = None
    upsample: int = 1
    detect_face_px: int = 100
    cnn_fallback: bool = False
    track: bool = True
    redetect_every: int = 4
    rule: str = "best"
    workers: int = 1
    shard: tuple[int, int] = (0, 1)
    limit_clips: int | None = None
    commit_seconds: float = 5.0

    def store_config(self, layout: str) -> dict[str, Any]:
        """What determines the store's content: compared when a run resumes or shards merge."""
        return {
            "layout": layout,
            "fps": str(self.fps),
            "size": self.size,
            "detector": self.detector,
            "upsample": self.upsample,
            "detect_face_px": self.detect_face_px,
            "cnn_fallback": self.cnn_fallback,
            "track": self.track,
            "redetect_every": self.redetect_every,
            "rule": self.rule,
        }


@dataclass
class PreprocessSummary:
    """Counts of a run, for the summary table and ``--json``."""

    store: str
    layout: str
    clips_found: int
    clips_in_shard: int
    clips_already_done: int
    clips_processed: int
    clips_without_frames: int
    clips_unreadable: int
    clips_fps_above_video: int
    frames_read: int
    frames_kept: int
    dropped: dict[str, int]
    detections: int
    tracked: int
    several_faces: int
    seconds: float
    frames_per_second: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` → (I, N) with 0 <= I < N."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise FerclError(f"--shard must look like I/N (e.g. 0/4), got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise FerclError(f"--shard {text}: need 0 <= I < N")
    return index, count


def parse_fps(text: str) -> Fraction:
    """``"25/6"`` or ``"4.1667"`` → a positive Fraction."""
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise FerclError(f"--fps must be a number or a fraction such as 25/6, got {text!r}") from None
    if value <= 0:
        raise FerclError(f"--fps must be positive, got {text}")
    return value


_WORKER: dict[str, Any] = {}


def _init_worker(config: PreprocessConfig, parent_pid: int | None = None) -> None:
    """Set up analysis in this process; ``parent_pid``: a pool worker, killed when that process dies."""
    from fercl_cli.faces import make_backend

    if parent_pid is not None:
        die_with_parent(parent_pid)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER["backend"] = make_backend(
        config.detector, config.models_dir, config.upsample, config.cnn_fallback, config.detect_face_px
    )
    _WORKER["analyse"] = AnalyseConfig(
        size=config.size,
        fps=config.fps,
        track=config.track,
        redetect_every=config.redetect_every,
        rule=config.rule,
    )


def _work(clip: ClipSource) -> ClipResult:
    return analyse_clip(clip, _WORKER["backend"], _WORKER["analyse"])


def preprocess(
    discovery: Discovery, config: PreprocessConfig, on_event: Event | None = None
) -> PreprocessSummary:
    """Analyse every clip of ``discovery`` not yet in the store ``config.out`` and append it."""
    from fercl_cli.faces import make_backend
    from fercl_cli.store.writer import FaceStoreWriter

    emit = on_event or (lambda kind, payload: None)
    index, count = config.shard
    clips = discovery.clips[index::count]
    if config.limit_clips is not None:
        clips = clips[: config.limit_clips]
    make_backend(  # fail before work
        config.detector, config.models_dir, config.upsample, config.cnn_fallback, config.detect_face_px
    )
    start = time.perf_counter()
    writer = FaceStoreWriter(
        config.out,
        crop_size=config.size,
        fps=float(config.fps),
        detector=config.detector,
        template=DEFAULT_TEMPLATE.describe(),
        encoding=config.encoding,
        config=config.store_config(discovery.layout),
        shard=f"{index}/{count}" if count > 1 else "",
    )
    stats: Counter = Counter()
    processed = without_frames = 0
    try:
        done = writer.committed_keys
        todo = [clip for clip in clips if clip.key not in done]
        emit("start", {"total": len(clips), "done": len(clips) - len(todo), "notes": discovery.notes})
        last_commit = time.perf_counter()
        for result in _results(todo, config):
            writer.add_clip(*result.clip.key, result if len(result) else None, result.failures)
            stats.update(result.stats)
            processed += 1
            without_frames += len(result) == 0 and not (
                result.stats["clips_unreadable"] or result.stats["clips_fps_above_video"]
            )
            if time.perf_counter() - last_commit >= config.commit_seconds:
                writer.commit()
                last_commit = time.perf_counter()
            emit("clip", {"key": result.clip.key, "frames": len(result), "stats": dict(stats)})
        writer.commit()
    finally:
        writer.close()
    seconds = time.perf_counter() - start
    summary = PreprocessSummary(
        store=str(config.out),
        layout=discovery.layout,
        clips_found=len(discovery.clips),
        clips_in_shard=len(clips),
        clips_already_done=len(clips) - len(todo),
        clips_processed=processed,
        clips_without_frames=without_frames,
        clips_unreadable=stats["clips_unreadable"],
        clips_fps_above_video=stats["clips_fps_above_video"],
        frames_read=stats["frames_read"],
        frames_kept=stats["kept"],
        dropped={k.split(":", 1)[1]: v for k, v in sorted(stats.items()) if k.startswith("dropped:")},
        detections=stats["detections"],
        tracked=stats["tracked"],
        several_faces=stats["several_faces"],
        seconds=seconds,
        frames_per_second=stats["frames_read"] / seconds if seconds > 0 else 0.0,
        notes=list(discovery.notes),
    )
    emit("end", summary.to_dict())
    return summary


def _results(clips: list[ClipSource], config: PreprocessConfig) -> Iterator[ClipResult]:
    """Analysed clips in input order; at most ``2 × workers`` clips in flight."""
    if config.workers <= 0:
        _init_worker(config)
        yield from (_work(clip) for clip in clips)
        return
    with ProcessPoolExecutor(
        config.workers, initializer=_init_worker, initargs=(config, os.getpid())
    ) as pool:
        window: deque[Future] = deque()
        pending = iter(clips)
        for clip in pending:
            window.append(pool.submit(_work, clip))
            if len(window) >= 2 * config.workers:
                break
        while window:
            result = window.popleft().result()
            following = next(pending, None)
            if following is not None:
                window.append(pool.submit(_work, following))
            yield result


def check_output(out: str | Path) -> Path:
    """The store path, after checking its folder can be written."""
    out = Path(out)
    if out.exists() and out.is_dir():
        raise FerclError(f"--out {out} is a folder; give the path of the .h5 store to write")
    folder = out.parent if str(out.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise FerclError(f"cannot write in {folder}; choose another --out")
    return out
