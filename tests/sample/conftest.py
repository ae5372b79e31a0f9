"""Fixtures for the sample-data tests: hide or fake the insightface wheel."""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from fercl_cli.sample import photos


@pytest.fixture(scope="session")
def backend():
    """One dlib backend (upsample 1, as ``fercl sample`` uses) shared by the sample tests."""
    from fercl_cli.faces.dlib_backend import DlibBackend

    return DlibBackend(upsample=1)


@pytest.fixture
def no_insightface(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No installed insightface and an empty wheel folder (returned): only scikit-image and matplotlib."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setattr(photos, "installed_insightface", lambda: None)
    monkeypatch.setattr(photos, "wheel_dirs", lambda: [wheels])
    return wheels


@pytest.fixture
def fake_wheel(no_insightface: Path) -> Path:
    """A stand-in insightface wheel (two small images at the real member paths) in the searched folder."""
    wheel = no_insightface / photos.WHEEL_NAME
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, ext in (("t1.jpg", ".jpg"), ("Tom_Hanks_54745.png", ".png")):
            ok, data = cv2.imencode(ext, rng.integers(0, 255, (20, 30, 3), dtype=np.uint8))
            assert ok
            archive.writestr(f"insightface/data/images/{member}", data.tobytes())
    return wheel
