"""``loop.build_loss``: InfoNCE and MaskFN behind one call, checked against the slow per-anchor loops."""

import pytest
import torch

from fercl_cli.train.config import PretrainConfig
from fercl_cli.train.loop import build_loss
from fercl_cli.train.losses import view_index
from tests.train.losses.reference import info_nce_loop, maskfn_loop


def _views(batch_clips: int, hard_neg: bool, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    index = view_index(batch_clips, hard_neg)
    z = torch.nn.functional.normalize(
        torch.randn(len(index.pair), 16, generator=generator, dtype=torch.float64), dim=1
    )
    desc = torch.randn(len(index.pair), 6, generator=generator)
    valid = torch.ones(len(index.pair), dtype=torch.bool)
    valid[1] = False
    return z, index, {"descriptors": desc, "descriptor_valid": valid}


def test_mask_fn_off_is_plain_info_nce_with_no_extras():
    config = PretrainConfig(temperature=0.2)
    assert config.maskfn is None
    z, index, batch = _views(4, hard_neg=True)
    loss, extra = build_loss(config, gather_distributed=False)(z, index, batch)
    assert extra == {}
    torch.testing.assert_close(loss, info_nce_loop(z, index.pair, tau=0.2))


@pytest.mark.parametrize("mode", ["top1", "top1-other-clip", "threshold", "threshold-other-clip"])
def test_each_mask_fn_mode_is_the_reference_loss_and_logs_its_terms(mode):
    config = PretrainConfig(mask_fn=mode, temperature=0.1, mask_lambda=0.5, mask_threshold=0.0)
    assert config.maskfn == mode
    z, index, batch = _views(4, hard_neg=True, seed=1)
    loss, extra = build_loss(config, gather_distributed=False)(z, index, batch)
    expected, chosen = maskfn_loop(
        z,
        index.pair,
        index.clip,
        batch["descriptors"],
        batch["descriptor_valid"],
        mode,
        tau=0.1,
        lam=0.5,
        threshold=0.0,
    )
    torch.testing.assert_close(loss, expected)
    assert set(extra) == {"l1", "l2", "matched"}
    assert extra["matched"] == pytest.approx(sum(bool(c) for c in chosen) / len(chosen))
