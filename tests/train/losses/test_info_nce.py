import pytest
import torch
import torch.nn.functional as F

from fercl_cli.train.losses import InfoNCELoss, info_nce, view_index
from tests.train.losses.reference import info_nce_loop


def _z(m, d=8, seed=0):
    raw = torch.randn(m, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return raw.requires_grad_()


@pytest.mark.parametrize(("batch", "hard_neg"), [(1, False), (1, True), (3, True), (5, False)])
@pytest.mark.parametrize("tau", [0.07, 0.5])
def test_matches_reference_loop_with_gradients(batch, hard_neg, tau):
    pair, _ = view_index(batch, hard_neg)
    raw = _z(len(pair), seed=batch)
    loss = info_nce(F.normalize(raw, dim=1), pair, tau=tau)
    (grad,) = torch.autograd.grad(loss, raw)
    raw_ref = raw.detach().clone().requires_grad_()
    expected = info_nce_loop(F.normalize(raw_ref, dim=1), pair.tolist(), tau=tau)
    (grad_ref,) = torch.autograd.grad(expected, raw_ref)
    torch.testing.assert_close(loss, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(grad, grad_ref, rtol=0, atol=1e-5)


def test_anchor_subset_and_reductions():
    pair, _ = view_index(3, True)
    z = F.normalize(_z(12).detach(), dim=1)
    per_anchor = info_nce(z, pair, reduction="none")
    assert per_anchor.shape == (12,)
    torch.testing.assert_close(info_nce(z, pair, anchors=torch.tensor([2, 7])), per_anchor[[2, 7]].mean())
    torch.testing.assert_close(info_nce(z, pair, reduction="sum"), per_anchor.sum())


def test_perfectly_aligned_pairs_give_a_low_loss():
    pair, _ = view_index(4, False)
    base = F.normalize(torch.eye(4, 16, dtype=torch.float64), dim=1)
    aligned = info_nce(torch.cat([base, base]), pair)
    shuffled = info_nce(torch.cat([base, base.roll(1, 0)]), pair)
    assert aligned < 0.01 < shuffled


def test_module_equals_function_and_works_in_half_precision():
    pair, _ = view_index(2, True)
    z = F.normalize(_z(8).detach(), dim=1)
    torch.testing.assert_close(InfoNCELoss(tau=0.1)(z, pair), info_nce(z, pair, tau=0.1))
    half = InfoNCELoss()(z.to(torch.bfloat16), pair)
    assert half.dtype == torch.float32
    torch.testing.assert_close(half.double(), info_nce(z, pair), rtol=0.05, atol=0.05)


def test_arguments_are_validated():
    pair, _ = view_index(2, True)
    z = F.normalize(_z(8).detach(), dim=1)
    with pytest.raises(ValueError, match="L2-normalised"):
        info_nce(z * 2, pair)
    with pytest.raises(ValueError, match="exactly one"):
        info_nce(z, torch.zeros(8, dtype=torch.long))
    with pytest.raises(ValueError, match="pair"):
        info_nce(z, pair[:4])
    with pytest.raises(ValueError, match="tau"):
        info_nce(z, pair, tau=0.0)
    with pytest.raises(ValueError, match="anchors"):
        info_nce(z, pair, anchors=torch.tensor([8]))
    with pytest.raises(ValueError, match="reduction"):
        info_nce(z, pair, reduction="max")
    with pytest.raises(ValueError, match="tau"):
        InfoNCELoss(tau=-1)
