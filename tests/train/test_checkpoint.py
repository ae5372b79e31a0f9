import random

import numpy as np
import pytest
import torch

from fercl_cli.errors import FerclError
from fercl_cli.train import checkpoint


def test_save_is_atomic_and_load_round_trips(tmp_path):
    path = checkpoint.save(tmp_path / "run" / "last.pt", {"model": {"w": torch.ones(2)}, "config": {"lr": 1}})
    assert not (tmp_path / "run" / "last.pt.tmp").exists()
    loaded = checkpoint.load(tmp_path / "run")
    assert torch.equal(loaded["model"]["w"], torch.ones(2)) and path.name == "last.pt"


def test_rng_state_round_trip():
    state = checkpoint.rng_state()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    checkpoint.set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_missing_or_foreign_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(FerclError, match="no checkpoint"):
        checkpoint.load(tmp_path)
    (tmp_path / "x.pt").write_bytes(b"garbage")
    with pytest.raises(FerclError, match="not a readable fercl checkpoint"):
        checkpoint.load(tmp_path / "x.pt")
    torch.save({"state_dict": {}}, tmp_path / "y.pt")
    with pytest.raises(FerclError, match="not a fercl pretraining checkpoint"):
        checkpoint.load(tmp_path / "y.pt")
