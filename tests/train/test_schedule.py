import math

import pytest
import torch

from fercl_cli.train.schedule import build_scheduler, lr_factor


def test_warmup_then_cosine_to_zero():
    total, warm = 100, 10
    factors = [lr_factor(s, total, warm) for s in range(total + 5)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0)
    assert factors[55] == pytest.approx(0.5 * (1 + math.cos(math.pi * 45 / 90)))
    assert factors[100] == pytest.approx(0.0, abs=1e-12) and factors[104] == pytest.approx(0.0, abs=1e-12)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))
    with pytest.raises(ValueError):
        lr_factor(0, 10, 11)


def test_scheduler_is_stepped_per_step():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=1.0)
    sched = build_scheduler(opt, total_steps=20, warmup_steps=4)
    seen = []
    for _ in range(20):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert seen[-1] < 0.01
