import pytest
import torch
import torch.nn.functional as F

from fercl_cli.train.losses import MASKFN_MODES, MaskFNLoss, info_nce, maskfn_loss, maskfn_terms, view_index
from fercl_cli.train.losses.maskfn import false_negatives
from fercl_cli.train.losses.masks import contrast
from tests.train.losses.reference import maskfn_loop


def _batch(batch, hard_neg, seed=0, d=8, dd=6, invalid=0.2):
    g = torch.Generator().manual_seed(seed)
    pair, clip = view_index(batch, hard_neg)
    m = len(pair)
    raw = torch.randn(m, d, dtype=torch.float64, generator=g).requires_grad_()
    desc = torch.randn(m, dd, dtype=torch.float64, generator=g)
    valid = torch.rand(m, generator=g) >= invalid
    return raw, pair, clip, desc, valid


def _check_against_loop(raw, pair, clip, desc, valid, mode, **kwargs):
    loss = maskfn_loss(F.normalize(raw, dim=1), pair, clip, desc, valid, mode=mode, **kwargs)
    (grad,) = torch.autograd.grad(loss, raw)
    raw_ref = raw.detach().clone().requires_grad_()
    expected, _ = maskfn_loop(
        F.normalize(raw_ref, dim=1), pair.tolist(), clip.tolist(), desc, valid.tolist(), mode, **kwargs
    )
    (grad_ref,) = torch.autograd.grad(expected, raw_ref)
    torch.testing.assert_close(loss, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(grad, grad_ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("mode", MASKFN_MODES)
@pytest.mark.parametrize(("batch", "hard_neg"), [(1, False), (1, True), (3, True), (4, False)])
def test_matches_reference_loop_with_gradients(mode, batch, hard_neg):
    raw, pair, clip, desc, valid = _batch(batch, hard_neg, seed=batch)
    _check_against_loop(raw, pair, clip, desc, valid, mode, threshold=0.1)


@pytest.mark.parametrize("mode", ["top1", "top1-other-clip"])
def test_ties_go_to_the_lowest_row(mode):
    # TimeAug off: A_i and P_i come from one frame, so every other anchor sees tied descriptors.
    raw, pair, clip, desc, valid = _batch(4, True, seed=5, invalid=0.0)
    desc = torch.cat([desc[:8], desc[:8]])
    _check_against_loop(raw, pair, clip, desc, valid, mode, lam=0.5)


def test_false_negative_selection_matches_reference_and_shows_the_same_clip_trap():
    raw, pair, clip, desc, valid = _batch(3, True, seed=2, invalid=0.0)
    # Make each anchor's own-clip views the most similar: the paper's top-1 then picks its hard negative.
    desc = desc[clip] + 0.01 * desc
    z = F.normalize(raw.detach(), dim=1)
    anchors = torch.arange(len(pair))
    c = contrast(z, pair, anchors, 0.07)
    for mode in MASKFN_MODES:
        chosen = false_negatives(desc, valid, clip, c.is_self, c.is_positive, anchors, mode, threshold=0.9)
        _, expected = maskfn_loop(z, pair.tolist(), clip.tolist(), desc, valid.tolist(), mode, threshold=0.9)
        assert [set(torch.nonzero(row).flatten().tolist()) for row in chosen] == expected
        same_clip = (chosen & (clip[:, None] == clip[None, :])).any(dim=1)
        assert same_clip.all() if mode in ("top1", "threshold") else not same_clip.any()


def test_all_descriptors_invalid_reduces_to_info_nce():
    raw, pair, clip, desc, _ = _batch(3, True)
    z = F.normalize(raw.detach(), dim=1)
    valid = torch.zeros(len(pair), dtype=torch.bool)
    for mode in MASKFN_MODES:
        terms = maskfn_terms(z, pair, clip, desc, valid, mode=mode)
        assert not terms.matched.any() and (terms.l2 == 0).all()
        torch.testing.assert_close(maskfn_loss(z, pair, clip, desc, valid, mode=mode), info_nce(z, pair))


def test_threshold_removal_uses_minus_infinity_not_zero():
    # One candidate with logit far below 0: masking it as a logit of 0 would add e^0 to the denominator.
    z = F.normalize(
        torch.tensor([[1.0, 0.0], [1.0, 0.1], [-1.0, 0.0], [-1.0, 0.1]], dtype=torch.float64), dim=1
    )
    pair = torch.tensor([0, 0, 1, 1])
    desc = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    valid = torch.ones(4, dtype=torch.bool)
    terms = maskfn_terms(z, pair, pair, desc, valid, mode="threshold", threshold=0.5)
    assert terms.matched.all()
    s = z @ z.T / 0.07
    expected_anchor0 = torch.logaddexp(s[0, 1], s[0, 3]) - s[0, 1]  # candidate 2 removed entirely
    torch.testing.assert_close(terms.l1[0], expected_anchor0)


def test_module_equals_function_and_reports_components():
    raw, pair, clip, desc, valid = _batch(3, True, seed=4, invalid=0.0)
    z = F.normalize(raw.detach(), dim=1)
    out = MaskFNLoss(mode="top1", lam=0.8)(z, pair, clip, desc, valid)
    torch.testing.assert_close(out.loss, maskfn_loss(z, pair, clip, desc, valid, mode="top1", lam=0.8))
    torch.testing.assert_close(out.loss, out.l1 + 0.8 * out.l2)
    assert out.matched == 1.0
    out = MaskFNLoss(mode="threshold", threshold=0.99)(z, pair, clip, desc.float(), valid)
    assert out.l2 == 0 and out.matched == 0
    torch.testing.assert_close(out.loss, info_nce(z, pair))


def test_arguments_are_validated():
    raw, pair, clip, desc, valid = _batch(2, True)
    z = F.normalize(raw.detach(), dim=1)
    with pytest.raises(ValueError, match="mode"):
        MaskFNLoss(mode="top2")
    with pytest.raises(ValueError, match="threshold"):
        MaskFNLoss(mode="threshold", threshold=2.0)
    with pytest.raises(ValueError, match="lam"):
        MaskFNLoss(lam=-1)
    with pytest.raises(ValueError, match="descriptors"):
        maskfn_loss(z, pair, clip, desc[:3], valid)
    with pytest.raises(ValueError, match="valid"):
        maskfn_loss(z, pair, clip, desc, valid.long())
    with pytest.raises(ValueError, match="clip"):
        maskfn_loss(z, pair, clip[:2], desc, valid)
