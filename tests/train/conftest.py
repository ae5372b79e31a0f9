"""A tiny synthetic face store for training tests (see :func:`tests.factories.stores.write_tiny_store`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories.stores import write_tiny_store


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 clips × 40 frames of 32 px over 3 identities (read-only by convention: copy what a test modifies)."""
    return write_tiny_store(tmp_path_factory.mktemp("store") / "faces.h5")
