"""``make bench-gpu``: pretraining speed on a GPU machine that has torch, h5py and numpy but none of
fercl's pins (run from a checkout: ``PYTHONPATH=. python3 -m fercl_cli.bench.gpu --out DIR``).

Trains ``--steps`` steps of ResNet-18 and ResNet-50 at 112 px on a generated synthetic store, with AMP
and channels-last off and on, and prints images/s, step time, data-wait fraction and peak GPU memory
as a Markdown table (also written to ``DIR/bench-gpu.md`` and ``DIR/bench-gpu.json``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from fercl_cli.bench.record import BenchResult, Row, machine_description
from fercl_cli.bench.synthetic import write_synthetic_store

CONFIGS = (("fp32", False, False), ("amp", True, False), ("amp+channels-last", True, True))


def run(
    out: Path,
    steps: int,
    batch_clips: int,
    clips: int,
    workers: int,
    device: str,
    archs: list[str],
    size: int,
) -> BenchResult:
    """Time every (arch, precision) configuration; the first 20% of steps are warm-up and not counted."""
    import torch

    from fercl_cli.train.config import resolve
    from fercl_cli.train.loop import pretrain

    out.mkdir(parents=True, exist_ok=True)
    store = out / "synthetic.h5"
    if not store.exists():
        write_synthetic_store(store, clips=clips, frames=40, size=128)
    rows, notes = [], []
    for arch in archs:
        for label, amp, channels_last in CONFIGS:
            records: list[dict] = []
            run_dir = out / f"run-{arch}-{label}"
            if run_dir.exists():
                for child in run_dir.iterdir():
                    if child.is_file():
                        child.unlink()
            config = resolve(
                {},
                dict(
                    store=str(store),
                    out=str(run_dir),
                    arch=arch,
                    size=size,
                    batch_clips=batch_clips,
                    epochs=1000,
                    max_steps=steps,
                    amp=amp,
                    channels_last=channels_last,
                    workers=workers,
                    device=device,
                    warmup_epochs=0,
                ),
            )
            if device != "cpu" and torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            started = time.perf_counter()
            pretrain(
                config,
                on_event=lambda kind, payload, r=records: r.append(payload) if kind == "step" else None,
            )
            wall = time.perf_counter() - started
            timed = records[max(1, len(records) // 5) :]
            step_time = sum(r["step_seconds"] for r in timed) / len(timed)
            images_per_s = sum(r["images_per_s"] * r["step_seconds"] for r in timed) / sum(
                r["step_seconds"] for r in timed
            )
            wait = sum(r["data_wait"] * r["step_seconds"] for r in timed) / sum(
                r["step_seconds"] for r in timed
            )
            peak = (
                torch.cuda.max_memory_allocated() / 2**30
                if device != "cpu" and torch.cuda.is_available()
                else float("nan")
            )
            name = f"{arch} {label}"
            rows += [
                Row(f"{name}: images/s", images_per_s, "img/s"),
                Row(f"{name}: step time", 1000 * step_time, "ms"),
                Row(f"{name}: data-wait fraction", wait, ""),
                Row(f"{name}: peak GPU memory", peak, "GiB"),
            ]
            notes.append(
                f"{name}: {len(records)} steps in {wall:.1f} s wall (start-up included), {len(timed)} timed"
            )
    return BenchResult(
        name="gpu",
        title="Pretraining on a GPU (make bench-gpu)",
        rows=rows,
        settings={
            "steps": steps,
            "batch_clips": batch_clips,
            "images/step": 4 * batch_clips,
            "size": size,
            "workers": workers,
            "store": "synthetic 128 px raw",
        },
        notes=notes,
        machine=machine_description(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-clips", type=int, default=128)
    parser.add_argument("--clips", type=int, default=1024)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--arch", action="append", default=None)
    parser.add_argument("--size", type=int, default=112)
    args = parser.parse_args()
    result = run(
        args.out,
        args.steps,
        args.batch_clips,
        args.clips,
        args.workers,
        args.device,
        args.arch or ["resnet18", "resnet50"],
        args.size,
    )
    text = result.markdown()
    (args.out / "bench-gpu.md").write_text(text)
    (args.out / "bench-gpu.json").write_text(json.dumps(result.to_dict(), indent=2))
    print(text)


if __name__ == "__main__":
    main()
