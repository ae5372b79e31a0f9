"""Generating the whole sample corpus: options, checks, the five datasets, identities and a manifest.

Layout under the output folder::

    sample.json          options, source photos (with licences and SHA-256), counts, notes
    identities.csv       name, group, kind, gender, nationality, source, VoxCeleb1 ID
    voxceleb/            videos/, unzippedIntervalFaces/, vox1_meta.csv, ground_truth.csv, contact_sheet.jpg
    affectnet/           Manually_Annotated_Images/, training.csv, validation.csv, ground_truth.csv
    fer2013/             fer2013.csv, ground_truth.csv
    rafdb/               EmoLabel/list_patition_label.txt, Image/original/, Image/aligned/, ground_truth.csv
    lfw/                 lfw_home/ (lfw_funneled/, pairs*.txt), ground_truth.csv
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.faces.types import FaceBackend
from fercl_cli.space import is_disk_full, no_space_error

if TYPE_CHECKING:
    from fercl_cli.sample.identities import Identity
    from fercl_cli.sample.photos import PhotoSearch

MANIFEST = "sample.json"
_OUTPUTS = ("voxceleb", "affectnet", "fer2013", "rafdb", "lfw", "identities.csv", MANIFEST)
N_AFFECTNET_CLASSES = 8
N_FER_CLASSES = 7
N_RAFDB_CLASSES = 7


def at_least(option: str, value: int, least: int, why: str = "") -> tuple[bool, str]:
    """An options problem: whether ``--<option>`` is below ``least``, and the message saying so (``why``
    follows the minimum)."""
    return value < least, f"--{option} must be at least {least}{why}, got {value}"


def raise_first(problems: list[tuple[bool, str]]) -> None:
    """Raise :class:`FerclError` with the message of the first ``(bad, message)`` that is bad."""
    for bad, message in problems:
        if bad:
            raise FerclError(message)


@dataclass(frozen=True)
class SampleOptions:
    """What to generate.

    Attributes:
        identities: people in the pretraining clips (VoxCeleb layout).
        clips_per_identity: clips per person (two clips per video id).
        seconds: clip length in seconds (25 fps).
        seed: the random seed; the same seed gives the same corpus.
        eval_identities: people in AffectNet, FER2013, RAF-DB and LFW (at least two, for LFW's pairs).
        images_per_class: AffectNet, FER2013 and RAF-DB photos per person and class.
        lfw_images: LFW photos per person (at least two).
    """

    identities: int = 8
    clips_per_identity: int = 3
    seconds: float = 6.0
    seed: int = 0
    eval_identities: int = 4
    images_per_class: int = 4
    lfw_images: int = 10

    def check(self) -> None:
        """Raise :class:`FerclError` naming the option at fault."""
        raise_first(
            [
                at_least("identities", self.identities, 1),
                at_least("clips-per-identity", self.clips_per_identity, 1),
                (
                    not math.isfinite(self.seconds) or self.seconds < 0.5,
                    f"--seconds must be at least 0.5 (one clip needs frames), got {self.seconds}",
                ),
                (self.seed < 0, f"--seed must be >= 0, got {self.seed}"),
                at_least("eval-identities", self.eval_identities, 2, " (LFW pairs)"),
                at_least("images-per-class", self.images_per_class, 1),
                at_least("lfw-images", self.lfw_images, 2, " (LFW pairs)"),
            ]
        )


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`generate_sample` wrote (JSON-ready via :meth:`to_dict`)."""

    root: str
    options: dict[str, object]
    real_identities: int
    derived_identities: int
    pretraining_identities: list[str]
    evaluation_identities: list[str]
    counts: dict[str, dict[str, int]]
    paths: dict[str, str]
    sources: list[dict[str, str]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON output."""
        return asdict(self)


def check_output(root: str | Path) -> None:
    """Raise :class:`FerclError` if ``root`` is a file, or a non-empty folder without an earlier sample corpus."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise FerclError(f"{root} is a file; give a folder (new or empty) for the sample corpus")
    if root.is_dir() and any(root.iterdir()) and not (root / MANIFEST).is_file():
        raise FerclError(
            f"{root} is not empty and holds no earlier sample corpus ({MANIFEST}); give a new or empty folder"
        )


def prepare_output(root: Path) -> None:
    """Check ``root`` (:func:`check_output`), remove an earlier sample corpus's outputs there, create it."""
    check_output(root)
    _remove_outputs(root)
    root.mkdir(parents=True, exist_ok=True)


def _remove_outputs(root: Path) -> None:
    """Delete what a sample corpus writes under ``root`` (nothing else)."""
    for name in _OUTPUTS:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def total_work(options: SampleOptions) -> int:
    """Frames and photos to render, for a progress bar."""
    from fercl_cli.sample.voxceleb import frames_per_clip

    clips = options.identities * options.clips_per_identity * frames_per_clip(options.seconds)
    classes = N_AFFECTNET_CLASSES + N_FER_CLASSES + N_RAFDB_CLASSES
    stills = options.eval_identities * options.images_per_class * classes
    return clips + stills + options.eval_identities * options.lfw_images


def _write_identities(path: Path, groups: dict[str, list], ids: dict[str, str]) -> None:
    import pandas as pd

    rows = [
        {
            "name": identity.name,
            "group": group,
            "kind": identity.kind,
            "gender": identity.gender,
            "nationality": identity.nationality,
            "source": identity.source,
            "voxceleb_id": ids.get(identity.name, ""),
        }
        for group, members in groups.items()
        for identity in members
    ]
    pd.DataFrame(rows).to_csv(path, index=False)


class Ticker:
    """Work done so far, reported as ``progress(stage, done, total)``; set ``stage`` as the steps change.
    Call it with the units just finished (0 to report without progress)."""

    def __init__(self, total: int, progress: Callable[[str, int, int], None] | None) -> None:
        self.total, self.progress, self.done, self.stage = total, progress, 0, "faces"

    def __call__(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.stage, self.done, self.total)


@dataclass(frozen=True)
class RealFaces:
    """The real faces every corpus is made from: the package photos found, their identities (one per photo
    with a usable face), notes on what was missing or unusable, and the backend that found them."""

    search: PhotoSearch
    identities: list[Identity]
    notes: list[str]
    backend: FaceBackend

    def sources(self) -> list[dict[str, str]]:
        """Each source photo's package, member, licence and SHA-256, for ``sample.json``."""
        return [
            {"key": p.key, "package": p.package, "member": p.member, "licence": p.licence, "sha256": p.sha256}
            for p in self.search.photos
        ]


def real_faces(backend: FaceBackend | None = None) -> RealFaces:
    """Find the package photos and their faces (default backend: dlib HOG with upsample 1).

    Raises:
        FerclError: no package photo was found.
    """
    from fercl_cli.faces.dlib_backend import DlibBackend
    from fercl_cli.sample.identities import real_identities
    from fercl_cli.sample.photos import find_source_photos

    search = find_source_photos()
    if not search.photos:
        raise FerclError("no package photos found: " + "; ".join(search.missing))
    backend = backend if backend is not None else DlibBackend(upsample=1)
    identities, notes = real_identities(search.photos, backend)
    return RealFaces(search=search, identities=identities, notes=[*search.missing, *notes], backend=backend)


def generate_sample(
    root: str | Path,
    options: SampleOptions,
    progress: Callable[[str, int, int], None] | None = None,
    backend: FaceBackend | None = None,
) -> SampleSummary:
    """Generate the sample corpus under ``root`` (see the module docstring); deterministic per ``options.seed``.

    ``progress(stage, done, total)`` is called as work advances (``done`` counts rendered frames and
    photos out of :func:`total_work`). ``backend`` finds the faces in the source photos and checks the
    blends (default: :class:`~fercl_cli.faces.dlib_backend.DlibBackend` with upsample 1).

    Raises:
        FerclError: bad options, ``root`` unusable, no package photos with faces found, or the disk
            filled up (what was written is removed).
    """
    options.check()
    root = Path(root)
    prepare_output(root)
    try:
        return _generate(root, options, progress, backend)
    except (OSError, RuntimeError) as exc:
        if not is_disk_full(exc):
            raise
        _remove_outputs(root)  # a half-written corpus (a torn video or JPEG) must not pass as a sample
        raise no_space_error(root, resumes=False) from None


def _generate(
    root: Path,
    options: SampleOptions,
    progress: Callable[[str, int, int], None] | None,
    backend: FaceBackend | None,
) -> SampleSummary:
    from fercl_cli.sample.affectnet import write_affectnet
    from fercl_cli.sample.contact_sheet import write_contact_sheet
    from fercl_cli.sample.fer2013 import write_fer2013
    from fercl_cli.sample.identities import REAL, cast
    from fercl_cli.sample.lfw import write_lfw
    from fercl_cli.sample.rafdb import write_rafdb
    from fercl_cli.sample.voxceleb import voxceleb_id, write_voxceleb

    tick = Ticker(total_work(options), progress)
    tick(0)
    faces = real_faces(backend)
    notes = list(faces.notes)
    people = cast(
        faces.identities,
        options.identities,
        options.eval_identities,
        np.random.default_rng([options.seed, 0]),
        faces.backend,
    )
    notes += people.notes
    tick.stage = "voxceleb"
    vox = write_voxceleb(
        root, people.pretraining, options.clips_per_identity, options.seconds, options.seed, tick
    )
    sheet = write_contact_sheet(root / "voxceleb", root / "voxceleb" / "contact_sheet.jpg")
    tick.stage = "affectnet"
    affectnet = write_affectnet(root, people.evaluation, options.images_per_class, options.seed, tick)
    tick.stage = "fer2013"
    fer = write_fer2013(root, people.evaluation, options.images_per_class, options.seed, tick)
    tick.stage = "rafdb"
    rafdb = write_rafdb(root, people.evaluation, options.images_per_class, options.seed, tick)
    tick.stage = "lfw"
    lfw = write_lfw(root, people.evaluation, options.lfw_images, options.seed, tick)
    ids = {identity.name: voxceleb_id(i) for i, identity in enumerate(people.pretraining)}
    _write_identities(
        root / "identities.csv", {"pretraining": people.pretraining, "evaluation": people.evaluation}, ids
    )
    everyone = people.pretraining + people.evaluation
    summary = SampleSummary(
        root=str(root),
        options=asdict(options),
        real_identities=sum(i.kind == REAL for i in everyone),
        derived_identities=sum(i.kind != REAL for i in everyone),
        pretraining_identities=[i.name for i in people.pretraining],
        evaluation_identities=[i.name for i in people.evaluation],
        counts={
            "voxceleb": asdict(vox),
            "affectnet": asdict(affectnet),
            "fer2013": asdict(fer),
            "rafdb": asdict(rafdb),
            "lfw": asdict(lfw),
        },
        paths={
            "voxceleb_videos": str(root / "voxceleb" / "videos"),
            "voxceleb_frames": str(root / "voxceleb" / "unzippedIntervalFaces" / "data"),
            "voxceleb_meta": str(root / "voxceleb" / "vox1_meta.csv"),
            "voxceleb_ground_truth": str(root / "voxceleb" / "ground_truth.csv"),
            "contact_sheet": str(sheet),
            "affectnet": str(root / "affectnet"),
            "fer2013": str(root / "fer2013" / "fer2013.csv"),
            "rafdb": str(root / "rafdb"),
            "lfw_data_home": str(root / "lfw"),
            "identities": str(root / "identities.csv"),
        },
        sources=faces.sources(),
        notes=notes,
    )
    manifest = summary.to_dict()
    del manifest["root"]
    manifest["paths"] = {key: str(Path(path).relative_to(root)) for key, path in summary.paths.items()}
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return summary
