"""Where the dlib model files come from.

Resolution order for a model file: an explicit ``models_dir`` (command-line option), then the
``FERCL_MODELS`` environment variable, then the ``face_recognition_models`` package (CC0 dlib models
on PyPI). The package is located with ``importlib.util.find_spec`` and never imported: its
``__init__`` needs ``pkg_resources``, which new setuptools no longer ship.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from fercl_cli.errors import FerclError

ENV_VAR = "FERCL_MODELS"
INSTALL_HINT = "pip install face-recognition-models"

MODEL_FILES: dict[str, str] = {
    "landmarks68": "shape_predictor_68_face_landmarks.dat",
    "landmarks5": "shape_predictor_5_face_landmarks.dat",
    "cnn_detector": "mmod_human_face_detector.dat",
}


@dataclass(frozen=True)
class ModelLocation:
    """One candidate folder and where it came from (``option``, ``env`` or ``package``)."""

    origin: str
    folder: Path


def package_models_dir() -> Path | None:
    """The ``models`` folder of the installed ``face_recognition_models`` package, if any."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def candidate_dirs(models_dir: str | os.PathLike | None = None) -> list[ModelLocation]:
    """The folders searched for model files, in priority order."""
    found: list[ModelLocation] = []
    if models_dir:
        found.append(ModelLocation("option", Path(models_dir)))
    if os.environ.get(ENV_VAR):
        found.append(ModelLocation("env", Path(os.environ[ENV_VAR])))
    package = package_models_dir()
    if package is not None:
        found.append(ModelLocation("package", package))
    return found


def resolve_model(key: str, models_dir: str | os.PathLike | None = None) -> Path:
    """Path of the model file ``key`` (a key of :data:`MODEL_FILES`).

    Raises:
        FerclError: the file is in none of the candidate folders; the message names the file, the
            folders searched and how to install it.
    """
    if key not in MODEL_FILES:
        raise ValueError(f"unknown model {key!r}; known: {', '.join(MODEL_FILES)}")
    filename = MODEL_FILES[key]
    candidates = candidate_dirs(models_dir)
    for location in candidates:
        path = location.folder / filename
        if path.is_file():
            return path
    searched = ", ".join(str(c.folder) for c in candidates) or "nowhere (no folder configured)"
    raise FerclError(
        f"dlib model file {filename} not found (searched: {searched}); run '{INSTALL_HINT}', "
        f"or pass --models-dir / set {ENV_VAR} to a folder that contains it"
    )
