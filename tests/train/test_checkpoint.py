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


def test_a_full_disk_while_saving_keeps_the_last_checkpoint_and_leaves_no_tmp(tmp_path, monkeypatch):
    last = checkpoint.save(tmp_path / "last.pt", {"model": {"w": torch.ones(2)}, "config": {}})

    def full(payload, handle):
        handle.write(b"partial")
        raise RuntimeError(
            "[enforce fail at inline_container.cc:664] . PytorchStreamWriter failed writing file "
            "data/0: file write failed (errno = 28, No space left on device)"
        )

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(FerclError, match=r"last\.pt: the disk is full"):
        checkpoint.save(last, {"model": {"w": torch.zeros(2)}, "config": {}})
    assert not (tmp_path / "last.pt.tmp").exists()
    monkeypatch.undo()
    assert torch.equal(checkpoint.load(last)["model"]["w"], torch.ones(2))


def test_saving_refuses_before_writing_when_the_payload_cannot_fit(tmp_path, monkeypatch):
    monkeypatch.setattr("fercl_cli.space.free_bytes", lambda path: 10)
    with pytest.raises(FerclError, match="needs about 4.0 KiB but only 10 B is free"):
        checkpoint.save(tmp_path / "last.pt", {"model": {"w": torch.ones(1024)}, "config": {}})
    assert list(tmp_path.iterdir()) == []
