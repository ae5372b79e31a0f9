"""Where the demo writes: the demo directory (marked by ``fercl-demo.json`` so the demo never writes into,
or deletes from, a folder of the user's) and one folder per profile. Layout under ``DIR/<profile>/``::

    sample/        the sample corpus (fercl sample)
    faces.h5       the face store, with descriptors/geometry (fercl preprocess, fercl describe)
    swaps.h5       the FaceSwap bank (fercl swap)
    runs/demo/     the demo's pretraining run (fercl pretrain)
    results/       one fercl evaluate results file per checkpoint and task
    eval-cache/    evaluation datasets and features converted once
    report.md      fercl report of the results, beside the paper's published rows
    summary.json   what the demo printed, as JSON
    ablation/      fercl demo --ablation's runs, results, table and plot
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from fercl_cli import __version__
from fercl_cli.demo.profiles import DemoProfile
from fercl_cli.errors import FerclError

MARKER = "fercl-demo.json"


@dataclass(frozen=True)
class Layout:
    """Where each output of one profile lives (see the module docstring); paths only, nothing is created."""

    root: Path

    @property
    def sample(self) -> Path:
        return self.root / "sample"

    @property
    def store(self) -> Path:
        return self.root / "faces.h5"

    @property
    def swaps(self) -> Path:
        return self.root / "swaps.h5"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def cache(self) -> Path:
        return self.root / "eval-cache"

    @property
    def report(self) -> Path:
        return self.root / "report.md"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def ablation(self) -> Path:
        return self.root / "ablation"

    def results_file(self, label: str, task: str) -> Path:
        """The results file of checkpoint ``label`` (a run name or ``random``) on ``task``."""
        return self.results / f"{label}-{task}.json"

    def derived(self) -> list[Path]:
        """Everything made from the sample corpus (removed when the corpus is regenerated)."""
        return [self.store, self.swaps, self.runs, self.results, self.cache, self.report, self.ablation]


def prepare_dir(directory: str | Path, profile: DemoProfile) -> Layout:
    """Check the demo directory and create the profile's folder; returns its :class:`Layout`.

    The directory must be new, empty, or an earlier demo's (it holds ``fercl-demo.json``), so that the
    demo never writes into, or deletes from, a folder of the user's.

    Raises:
        FerclError: the directory is a file, or a non-empty folder of something else.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise FerclError(f"--dir {directory} is a file; give a folder (new, empty, or an earlier demo's)")
    marker = directory / MARKER
    if directory.is_dir() and any(directory.iterdir()) and not marker.is_file():
        raise FerclError(
            f"--dir {directory} is not empty and holds no earlier demo ({MARKER}); give a new or empty folder"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not marker.is_file():
            created = datetime.now(timezone.utc).isoformat(timespec="seconds")
            marker.write_text(json.dumps({"fercl_version": __version__, "created": created}, indent=2) + "\n")
        (directory / profile.name).mkdir(exist_ok=True)
    except OSError as exc:
        raise FerclError(
            f"--dir {directory}: cannot write there ({exc.strerror}); choose another folder"
        ) from None
    return Layout(directory / profile.name)
