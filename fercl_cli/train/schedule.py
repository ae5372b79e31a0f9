"""Per-step learning-rate schedule: linear warmup, then cosine decay to zero.

The released code built ``CosineAnnealingLR`` with ``T_max`` in iterations but stepped it once per
epoch, so the rate barely moved; fercl steps the schedule every optimisation step.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LambdaLR


def lr_factor(step: int, total_steps: int, warmup_steps: int) -> float:
    """Multiplier of the base learning rate at optimisation ``step`` (0-based).

    Linear from 1/warmup to 1 over ``warmup_steps`` steps, then half a cosine from 1 to 0 at
    ``total_steps``. Steps past the end keep the final value 0.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be at least 1, got {total_steps}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"warmup_steps must be in [0, total_steps={total_steps}], got {warmup_steps}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    decay = total_steps - warmup_steps
    progress = min(1.0, (step - warmup_steps) / decay) if decay > 0 else 1.0
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(optimizer: Optimizer, total_steps: int, warmup_steps: int) -> LambdaLR:
    """A ``torch.optim.lr_scheduler.LambdaLR`` applying :func:`lr_factor`; call ``.step()`` once per step."""
    from torch.optim.lr_scheduler import LambdaLR

    return LambdaLR(optimizer, lambda step: lr_factor(step, total_steps, warmup_steps))
