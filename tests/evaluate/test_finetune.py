import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fercl_cli.evaluate.finetune import (
    PAPER_AFFECTNET_TRAIN_COUNTS,
    FinetuneConfig,
    balanced_softmax_loss,
    finetune,
    paper_head,
)
from fercl_cli.train.model import build_backbone


def test_the_head_is_the_released_mlp():
    head = paper_head(2048, 8)
    linears = [m for m in head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2048, 1024), (1024, 512), (512, 8)]
    assert [type(m).__name__ for m in head] == [
        "Dropout",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
        "Dropout",
        "Linear",
    ]
    assert all(m.p == 0.5 for m in head if isinstance(m, torch.nn.Dropout))
    assert paper_head(512, 7)[1].in_features == 512


def test_balanced_softmax_adds_the_log_prior_before_cross_entropy():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    targets = torch.tensor([0, 2])
    prior = torch.log(torch.tensor([0.7, 0.2, 0.1]))
    shifted = logits + prior
    by_hand = (
        -(shifted[0, 0] - torch.logsumexp(shifted[0], 0) + shifted[1, 2] - torch.logsumexp(shifted[1], 0)) / 2
    )
    assert balanced_softmax_loss(logits, targets, prior).item() == pytest.approx(by_hand.item(), rel=1e-6)
    uniform = torch.log(torch.full((3,), 1 / 3))
    assert balanced_softmax_loss(logits, targets, uniform).item() == pytest.approx(
        F.cross_entropy(logits, targets).item(), rel=1e-6
    )


def test_paper_counts_are_the_full_training_csv():
    assert sum(PAPER_AFFECTNET_TRAIN_COUNTS) == 287651 and len(PAPER_AFFECTNET_TRAIN_COUNTS) == 8


def test_config_is_checked():
    assert FinetuneConfig().to_dict()["lr"] == 1e-4
    with pytest.raises(ValueError, match="held_out"):
        FinetuneConfig(held_out=1.5)


def test_fine_tuning_selects_an_epoch_on_held_out_rows_and_leaves_the_backbone_alone():
    torch.manual_seed(0)
    backbone, dim = build_backbone("resnet18")
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 20, 20, 3), dtype=np.uint8)
    labels = np.repeat([0, 1, 2], 10)
    train, test = np.arange(0, 30, 3).tolist() + np.arange(1, 30, 3).tolist(), np.arange(2, 30, 3)
    config = FinetuneConfig(epochs=2, batch_size=8)
    calls = []
    result = finetune(
        backbone,
        dim,
        images,
        labels,
        train_rows=np.array(train),
        test_rows=test,
        classes=[0, 1, 2],
        prior_counts=[7, 7, 6],
        input_size=16,
        config=config,
        seed=1,
        progress=lambda *a: calls.append(a),
    )
    assert set(result.selection_scores) == {1, 2} and result.best_epoch in (1, 2)
    assert result.selection.startswith("held-out 10% of train (stratified, seed 1, n=3)")
    assert sorted(labels[result.held_out].tolist()) == [0, 1, 2]
    assert result.predictions.shape == (10,) and set(result.predictions) <= {0, 1, 2}
    assert result.metrics.support.tolist() == np.bincount(labels[test]).tolist()
    assert len(result.train_loss) == 2 and all(np.isfinite(result.train_loss))
    assert calls[-1][1] == calls[-1][2] == 2 * 2  # 17 fitting rows: batches of 8 and 8, a single row dropped
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())


def test_a_selection_split_replaces_the_held_out_part():
    torch.manual_seed(0)
    backbone, dim = build_backbone("resnet18")
    images = np.random.default_rng(2).integers(0, 256, size=(12, 18, 18, 3), dtype=np.uint8)
    labels = np.array([0, 1] * 6)
    result = finetune(
        backbone,
        dim,
        images,
        labels,
        train_rows=np.arange(8),
        select_rows=np.array([8, 9]),
        test_rows=np.array([11, 10]),
        classes=[0, 1],
        prior_counts=[4, 4],
        input_size=16,
        config=FinetuneConfig(epochs=1, batch_size=4),
    )
    assert result.selection == "selection split (n=2)" and result.held_out is None
    assert result.metrics.support.tolist() == [1, 1]
