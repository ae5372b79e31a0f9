"""Environment checks a user wants before a long run (``fercl doctor``)."""

from __future__ import annotations

import importlib
import importlib.util
import platform
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

from fercl_cli.faces.models import INSTALL_HINT, MODEL_FILES, candidate_dirs, resolve_model

MIN_FREE_GIB = 1.0


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table.

    Attributes:
        name: what was checked.
        ok: whether it is usable.
        required: whether fercl's default pipeline needs it (a failed required check → exit code 1).
        detail: version, path and size, or what is wrong.
        fix: the command or action that fixes a failed check ("" when ok).
    """

    name: str
    ok: bool
    required: bool
    detail: str
    fix: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _version_check(module: str, name: str, required: bool, fix: str, extra: Callable | None = None) -> Check:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # any import failure is a finding, reported with its reason
        return Check(name, False, required, f"cannot import {module}: {exc}".splitlines()[0], fix)
    detail = str(getattr(mod, "__version__", "installed"))
    if extra is not None:
        detail += extra(mod)
    return Check(name, True, required, detail)


def _torch_extra(torch: ModuleType) -> str:
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return f"; CUDA {torch.version.cuda}: {names}"
    return "; CUDA not available (CPU only)"


def _opencv_check() -> Check:
    try:
        import cv2
        from cv2 import videoio_registry
    except Exception as exc:  # reported, not raised
        return Check(
            "OpenCV video", False, True, f"cannot import cv2: {exc}", "pip install opencv-python-headless"
        )
    ffmpeg = videoio_registry.hasBackend(cv2.CAP_FFMPEG)
    backends = ", ".join(
        dict.fromkeys(videoio_registry.getBackendName(b) for b in videoio_registry.getBackends())
    )
    return Check(
        "OpenCV video",
        ffmpeg,
        True,
        f"{cv2.__version__}; backends: {backends}",
        "" if ffmpeg else "install an OpenCV build with FFMPEG (pip install opencv-python-headless)",
    )


MODEL_LABELS = {
    "landmarks68": "dlib 68-point landmarks",
    "landmarks5": "dlib 5-point landmarks",
    "cnn_detector": "dlib CNN face detector",
}


def _model_checks(models_dir: str | None) -> list[Check]:
    checks = []
    for key, filename in MODEL_FILES.items():
        label = MODEL_LABELS[key]
        required = key == "landmarks68"
        try:
            path = resolve_model(key, models_dir)
        except Exception:  # FerclError: the missing file is the finding
            searched = ", ".join(str(c.folder) for c in candidate_dirs(models_dir)) or "no folder"
            checks.append(
                Check(label, False, required, f"{filename} missing (searched {searched})", INSTALL_HINT)
            )
            continue
        size_mb = path.stat().st_size / 2**20
        checks.append(Check(label, True, required, f"{path} ({size_mb:.1f} MiB)"))
    return checks


def _insightface_check() -> Check:
    found = importlib.util.find_spec("insightface") is not None
    detail = "installed (needs a local model pack: --models-dir)" if found else "not installed (optional)"
    return Check("insightface", found, False, detail, "" if found else "pip install 'fercl[insightface]'")


def _disk_check(out: Path) -> Check:
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free_gib = shutil.disk_usage(probe).free / 2**30
    ok = free_gib >= MIN_FREE_GIB
    return Check(
        f"free disk at {out}",
        ok,
        True,
        f"{free_gib:.1f} GiB free",
        "" if ok else f"free space or choose another output folder (need at least {MIN_FREE_GIB} GiB)",
    )


def run_checks(out: str | Path = ".", models_dir: str | None = None) -> list[Check]:
    """All checks, in display order."""
    py_ok = sys.version_info >= (3, 10)
    checks = [
        Check(
            "Python",
            py_ok,
            True,
            f"{platform.python_version()} ({sys.executable})",
            "" if py_ok else "use Python >= 3.10",
        ),
        _version_check("torch", "PyTorch", True, "pip install 'torch>=2.14.1,<2.15'", _torch_extra),
        _version_check("torchvision", "torchvision", True, "pip install 'torchvision>=0.29.1,<0.30'"),
        _version_check("dlib", "dlib", True, "pip install dlib-bin"),
        *_model_checks(models_dir),
        _opencv_check(),
        _version_check(
            "h5py", "h5py / HDF5", True, "pip install h5py", lambda m: f" (HDF5 {m.version.hdf5_version})"
        ),
        _insightface_check(),
        _disk_check(Path(out).resolve()),
    ]
    return checks


def healthy(checks: list[Check]) -> bool:
    """True when every required check passed."""
    return all(c.ok for c in checks if c.required)
