"""Training throughput of each backbone on this machine's CPU: images/s of forward + backward + Adam step.

Random normalised inputs (no data loading, no views), the whole :class:`~fercl_cli.train.model.
ContrastiveModel` (backbone and projection head) in train mode, an InfoNCE loss over image pairs: the
network's share of a pretraining step, which on a CPU is nearly all of it. Each configuration runs with
1 and 2 torch threads; the figure is the batch over the median of the timed steps (robust to a machine
other work shares).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from fercl_cli.bench.record import BenchResult, Row, torch_threads
from fercl_cli.errors import FerclError
from fercl_cli.train.archs import ARCH_NAMES, arch_error

CONFIGS: tuple[tuple[str, int], ...] = (
    ("smallcnn", 56),
    ("smallcnn", 64),
    ("resnet18-cifar", 32),
    ("resnet18-cifar", 64),
    ("resnet18", 56),
)
"""(arch, input px) measured by default."""
ABLATION_SECONDS = 75 * 60 / 18
"""One run's share of a 75-minute miniature ablation of 6 configurations × 3 seeds."""


def parse_config(text: str) -> tuple[str, int]:
    """``"smallcnn:56"`` → ``("smallcnn", 56)``; one error line for anything else."""
    arch, _, px = text.rpartition(":")
    if arch not in ARCH_NAMES:
        raise FerclError(arch_error("--config ARCH:PX arch", arch or text))
    if not px.isdigit() or int(px) < 16:
        raise FerclError(f"--config {text}: the size after ':' must be a whole number of pixels >= 16")
    return arch, int(px)


def train_step_seconds(
    arch: str, size: int, batch: int, steps: int, warmup: int = 1, seed: int = 0
) -> list[float]:
    """Seconds of each of ``steps`` timed training steps (after ``warmup`` untimed ones) of ``arch`` on
    ``batch`` random images [batch, 3, size, size], with the current torch thread count."""
    import torch
    import torch.nn.functional as F

    from fercl_cli.train.model import build_model

    if batch < 2 or batch % 2:
        raise FerclError(f"--batch must be an even number of at least 2 (pairs of views), got {batch}")
    torch.manual_seed(seed)
    model = build_model(arch).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-4)
    images = torch.randn(batch, 3, size, size)
    partner = torch.arange(batch) ^ 1  # image 2k's positive is 2k + 1
    eye = torch.eye(batch, dtype=torch.bool)
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        _, z = model(images)
        logits = (z @ z.T / 0.07).masked_fill(eye, float("-inf"))
        loss = F.cross_entropy(logits, partner)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return times


def bench_model(
    configs: Sequence[tuple[str, int]] = CONFIGS,
    threads: Sequence[int] = (1, 2),
    batch: int = 64,
    steps: int = 3,
    warmup: int = 1,
    shared: bool = True,
) -> BenchResult:
    """Images/s of every (arch, px) in ``configs`` at every thread count in ``threads``."""
    import statistics

    if steps < 1 or warmup < 0 or not threads or min(threads) < 1:
        raise FerclError("--steps must be at least 1, --warmup at least 0 and --threads positive")
    rows, budget, slower = [], [], []
    for arch, size in configs:
        rates = {}
        for count in threads:
            with torch_threads(count):
                median = statistics.median(train_step_seconds(arch, size, batch, steps, warmup))
            rates[count] = batch / median
            rows.append(
                Row(
                    f"{arch} at {size} px, {count} thread{'s' if count > 1 else ''}", rates[count], "images/s"
                )
            )
        best = max(rates, key=rates.get)
        budget.append(
            f"{arch} {size} px: {rates[best] * ABLATION_SECONDS:,.0f} ({best} thread{'s' if best > 1 else ''})"
        )
        if best != max(rates):
            slower.append(f"{arch} {size} px")
    notes = [
        "Forward + backward + Adam step of backbone and projection head (InfoNCE over image pairs) on random "
        f"inputs, batch {batch}; no data loading or augmentation. Figure: batch / median of {steps} timed "
        f"steps after {warmup} warm-up step(s).",
        f"Images one run of a 75-minute, 6 × 3-run miniature ablation ({ABLATION_SECONDS:.0f} s) trains at "
        "the faster thread count: " + "; ".join(budget) + ".",
    ]
    if slower:
        notes.append(
            f"More threads measured slower for {', '.join(slower)}: the extra threads competed for cores other "
            "work was using (on a dedicated machine more threads are faster)."
        )
    if shared:
        notes.append(
            "The machine was shared with other work during the measurement (other processes on the same "
            "cores): absolute figures are low bounds and vary run to run; the ratios between backbones hold better."
        )
    return BenchResult(
        name="model",
        title="Backbone training throughput on the CPU (fercl bench model)",
        rows=rows,
        settings={"batch": batch, "steps": steps, "warmup": warmup, "threads": ",".join(map(str, threads))},
        notes=notes,
    )
