"""Slow, obvious per-anchor loop versions of the losses (float64 autograd scalars), for the tests."""

import numpy as np
import torch


def _positive(pair, i):
    return next(k for k in range(len(pair)) if k != i and pair[k] == pair[i])


def info_nce_loop(z, pair, tau=0.07):
    losses = []
    for i in range(z.shape[0]):
        p = _positive(pair, i)
        numerator = torch.exp(z[i] @ z[p] / tau)
        denominator = sum(torch.exp(z[i] @ z[k] / tau) for k in range(z.shape[0]) if k != i)
        losses.append(-torch.log(numerator / denominator))
    return torch.stack(losses).mean()


def _cosine(a, b):
    return np.float32(a @ b / (a.norm() * b.norm()))


def maskfn_loop(z, pair, clip, desc, valid, mode, tau=0.07, lam=0.8, threshold=0.5):
    """Returns (loss, list of false-negative sets per anchor)."""
    m = z.shape[0]
    l1s, l2s, chosen = [], [], []
    for i in range(m):
        p = _positive(pair, i)
        negatives = [k for k in range(m) if k not in (i, p)]
        candidates = [k for k in negatives if valid[i] and valid[k]]
        if mode.endswith("other-clip"):
            candidates = [k for k in candidates if clip[k] != clip[i]]
        if mode.startswith("threshold"):
            removed = [k for k in candidates if _cosine(desc[i], desc[k]) > threshold]
        else:
            removed = []
            for k in candidates:  # first strictly better wins: ties go to the lowest row
                if not removed or _cosine(desc[i], desc[k]) > _cosine(desc[i], desc[removed[0]]):
                    removed = [k]
        chosen.append(set(removed))
        rest = sum(
            (torch.exp(z[i] @ z[k] / tau) for k in negatives if k not in removed),
            torch.zeros((), dtype=z.dtype),
        )
        positive = torch.exp(z[i] @ z[p] / tau)
        l1s.append(-torch.log(positive / (positive + rest)))
        if removed and mode.startswith("top1"):
            j = removed[0]
            attract = torch.exp(z[i] @ z[j] / tau)
            l2s.append(-torch.log(attract / (attract + rest)))
    loss = torch.stack(l1s).mean()
    if l2s:
        loss = loss + lam * torch.stack(l2s).mean()
    return loss, chosen
