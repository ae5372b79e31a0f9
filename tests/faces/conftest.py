"""Real face photographs that ship with installed packages (public domain), and a shared backend."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import portraits


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return portraits.astronaut()


@pytest.fixture(scope="session")
def grace_hopper() -> np.ndarray:
    return portraits.grace_hopper()


@pytest.fixture(scope="session")
def backend():
    from fercl_cli.faces.dlib_backend import DlibBackend

    return DlibBackend()
