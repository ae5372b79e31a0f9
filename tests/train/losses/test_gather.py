"""Two CPU processes (gloo) give the same loss and, after DDP's averaging, the same gradients as one
process on the same global batch."""

import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from fercl_cli.train.losses import (
    InfoNCELoss,
    MaskFNLoss,
    gather_no_grad,
    gather_views,
    gather_with_grad,
    view_index,
    world,
)

WORLD = 2
# name: (clips per rank, hard_neg)
SCENARIOS = {"equal": ((3, 3), True), "unequal": ((3, 1), True), "no_hardneg": ((2, 2), False)}
LOSSES = {
    "info_nce": lambda gather: (
        lambda z, pair, clip, desc, valid: InfoNCELoss(gather_distributed=gather)(z, pair)
    ),
    "top1": lambda gather: lambda *views: MaskFNLoss("top1", gather_distributed=gather)(*views).loss,
    "top1-other-clip": lambda gather: lambda *views: MaskFNLoss(gather_distributed=gather)(*views).loss,
    "threshold": lambda gather: (
        lambda *views: MaskFNLoss("threshold", threshold=0.2, gather_distributed=gather)(*views).loss
    ),
}


def _global_batch(per_rank, hard_neg):
    """Per-rank local views and the equivalent single-process global batch (ids ``id·W + rank``)."""
    g = torch.Generator().manual_seed(sum(per_rank) * 10 + hard_neg)
    local = []
    for rank, batch in enumerate(per_rank):
        pair, clip = view_index(batch, hard_neg)
        local.append((pair, clip, pair * WORLD + rank, clip * WORLD + rank))
    m = sum(len(p[0]) for p in local)
    raw = torch.randn(m, 6, dtype=torch.float64, generator=g)
    desc = torch.randn(m, 5, dtype=torch.float64, generator=g)
    valid = torch.rand(m, generator=g) > 0.2
    starts = torch.tensor([0] + [len(p[0]) for p in local]).cumsum(0).tolist()
    return local, raw, desc, valid, starts


def _worker(rank, port, out_path):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        results = {"world": world(), "flags": gather_no_grad(torch.tensor([rank == 0, True])).tolist()}
        x = torch.full((rank + 1,), rank + 1.0, requires_grad=True)  # unequal rows: 1 on rank 0, 2 on rank 1
        gathered = gather_with_grad(x)
        (gathered * torch.tensor([1.0, 2.0, 3.0]) * (rank + 1)).sum().backward()
        results["gathered"] = (gathered.tolist(), x.grad.tolist())
        for scenario, (per_rank, hard_neg) in SCENARIOS.items():
            local, raw, desc, valid, starts = _global_batch(per_rank, hard_neg)
            rows = slice(starts[rank], starts[rank + 1])
            pair, clip = local[rank][:2]
            views = gather_views(F.normalize(raw[rows], dim=1), pair, clip, desc[rows], valid[rows])
            results[scenario, "anchors"] = views.anchors.tolist()
            for name, make in LOSSES.items():
                raw_local = raw[rows].clone().requires_grad_()
                loss = make(True)(F.normalize(raw_local, dim=1), pair, clip, desc[rows], valid[rows])
                loss.backward()
                total = loss.detach().clone()
                dist.all_reduce(total)
                results[scenario, name] = (total / WORLD, raw_local.grad / WORLD)
        torch.save(results, f"{out_path}.{rank}")
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_loss_and_gradients_equal_single_process(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path / "out")), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"out.{r}") for r in range(WORLD)]
    assert [r["world"] for r in ranks] == [(0, 2), (1, 2)]
    assert ranks[1]["flags"] == [True, True, False, True]
    # Row weights [1, 2, 3] times (rank + 1), summed over both ranks' losses: 3 × [1, 2, 3].
    assert ranks[0]["gathered"] == ([1.0, 2.0, 2.0], [3.0])
    assert ranks[1]["gathered"] == ([1.0, 2.0, 2.0], [6.0, 9.0])
    for scenario, (per_rank, hard_neg) in SCENARIOS.items():
        local, raw, desc, valid, starts = _global_batch(per_rank, hard_neg)
        pair = torch.cat([p[2] for p in local])
        clip = torch.cat([p[3] for p in local])
        for rank in range(WORLD):
            assert ranks[rank][scenario, "anchors"] == list(range(starts[rank], starts[rank + 1]))
        for name, make in LOSSES.items():
            raw_global = raw.clone().requires_grad_()
            loss = make(False)(F.normalize(raw_global, dim=1), pair, clip, desc, valid)
            loss.backward()
            for rank in range(WORLD):
                ddp_loss, ddp_grad = ranks[rank][scenario, name]
                torch.testing.assert_close(ddp_loss, loss.detach(), rtol=0, atol=1e-10)
                rows = slice(starts[rank], starts[rank + 1])
                torch.testing.assert_close(ddp_grad, raw_global.grad[rows], rtol=0, atol=1e-10)


def test_single_process_gather_is_the_identity():
    z = torch.randn(4, 3)
    pair, clip = view_index(2, False)
    views = gather_views(z, pair, clip)
    assert views.z is z and views.pair is pair and views.descriptors is None
    assert views.anchors.tolist() == [0, 1, 2, 3] and world() == (0, 1)
