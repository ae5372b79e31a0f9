"""The real face photographs that the sample corpus is made from, located in installed packages.

Sources (never copied into the repository; read where they are installed):

- scikit-image ``skimage/data/astronaut.png`` (``skimage.data.astronaut()``): Eileen Collins; the package's
  docstring says "No known copyright restrictions, released into the public domain" (NASA).
- matplotlib ``mpl-data/sample_data/grace_hopper.jpg``: Grace Hopper, official US Navy portrait; matplotlib
  ships it as sample data without a licence note of its own.
- The insightface 2.1 wheel (``insightface-2.1-py3-none-any.whl``), read as a zip file without installing
  it: ``insightface/data/images/t1.jpg`` (a group photo with six faces) and ``Tom_Hanks_54745.png`` (a
  112×112 face crop). The wheel's metadata puts the library under the MIT licence and the pretrained models
  under non-commercial terms; it states nothing separately about these sample images.

The wheel is looked for in :func:`wheel_dirs` (and an installed ``insightface`` package is used as is);
:data:`FETCH_HINT` says how to put it there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHEEL_NAME = "insightface-2.1-py3-none-any.whl"
_INSIGHTFACE_IMAGES = "insightface/data/images"


@dataclass(frozen=True)
class Person:
    """Who a face in a photo is, as far as the package tells (``gender`` as VoxCeleb writes it: m/f)."""

    name: str
    gender: str
    nationality: str


@dataclass(frozen=True)
class SourcePhoto:
    """One package-shipped photograph.

    Attributes:
        key: short identifier, e.g. ``"scikit-image:astronaut.png"``.
        package: the distribution that ships the file.
        member: the file's path inside the package (or the wheel).
        licence: the licence or copyright note as the package states it.
        image: uint8 [H, W, 3] RGB pixels.
        people: the faces expected in the photo, left to right.
        sha256: hex digest of the file's bytes, recorded so a corpus names its exact inputs.
    """

    key: str
    package: str
    member: str
    licence: str
    image: np.ndarray
    people: tuple[Person, ...]
    sha256: str


@dataclass(frozen=True)
class PhotoSearch:
    """The photos found and, for each source that was not, why (a line that says what to install)."""

    photos: tuple[SourcePhoto, ...]
    missing: tuple[str, ...]


def wheel_dirs() -> list[Path]:
    """Folders searched for the insightface wheel: ``<prefix>/share/fercl/wheels`` of the running Python."""
    return [Path(sys.prefix) / "share" / "fercl" / "wheels"]


FETCH_HINT = (
    f"run '{Path(sys.executable).name} -m pip download --no-deps insightface==2.1 -d "
    f"{Path(sys.prefix) / 'share' / 'fercl' / 'wheels'}' for 7 more real faces (a fresh 'make install' does this)"
)

_T1_PEOPLE = (
    Person("T1_Person_1", "f", "Unknown"),
    Person("T1_Person_2", "f", "Unknown"),
    Person("T1_Person_3", "m", "Unknown"),
    Person("T1_Person_4", "m", "Unknown"),
    Person("T1_Person_5", "m", "Unknown"),
    Person("T1_Person_6", "f", "Unknown"),
)
_INSIGHTFACE_LICENCE = (
    "insightface 2.1 wheel sample image; the wheel states MIT for the library code and non-commercial "
    "terms for pretrained models, nothing separately for its sample images"
)


def _decode(data: bytes) -> np.ndarray:
    import cv2

    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("image bytes could not be decoded")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _photo(
    key: str, package: str, member: str, licence: str, data: bytes, people: tuple[Person, ...]
) -> SourcePhoto:
    return SourcePhoto(
        key=key,
        package=package,
        member=member,
        licence=licence,
        image=_decode(data),
        people=people,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _packaged_photo(
    module: str, package: str, relative: str, licence: str, person: Person
) -> SourcePhoto | str:
    """The photo at ``relative`` inside the installed package ``module`` (pip name ``package``) showing
    ``person``, or a message saying what to install when it is absent."""
    spec = importlib.util.find_spec(module)
    path = Path(next(iter(spec.submodule_search_locations))) / relative if spec else None
    name = Path(relative).name
    if path is None or not path.is_file():
        return f"{package}'s {name} not found: pip install {package} (the dev extra)"
    return _photo(f"{package}:{name}", package, f"{module}/{relative}", licence, path.read_bytes(), (person,))


# Photos shipped inside pip packages: (module, pip name, path inside the module's folder, licence, person).
_PACKAGED_PHOTOS = (
    (
        "skimage",
        "scikit-image",
        "data/astronaut.png",
        "No known copyright restrictions, released into the public domain (NASA; skimage.data.astronaut)",
        Person("Eileen_Collins", "f", "USA"),
    ),
    (
        "matplotlib",
        "matplotlib",
        "mpl-data/sample_data/grace_hopper.jpg",
        "official US Navy portrait shipped as matplotlib sample data; no licence note in the package",
        Person("Grace_Hopper", "f", "USA"),
    ),
)


def installed_insightface() -> Path | None:
    """The site-packages folder of an installed ``insightface`` with its sample images (found, not imported)."""
    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))).parent
    return root if (root / _INSIGHTFACE_IMAGES / "t1.jpg").is_file() else None


def _insightface_reader() -> tuple[str, Callable[[str], bytes]] | None:
    """``(where, read(member) -> bytes)`` for an installed insightface package or a located 2.1 wheel."""
    root = installed_insightface()
    if root is not None:
        return str(root / "insightface"), lambda member: (root / member).read_bytes()
    for folder in wheel_dirs():
        wheel = folder / WHEEL_NAME
        if wheel.is_file():

            def read(member: str, wheel: Path = wheel) -> bytes:
                with zipfile.ZipFile(wheel) as archive:
                    return archive.read(member)

            return str(wheel), read
    return None


def _insightface_photos() -> list[SourcePhoto] | str:
    reader = _insightface_reader()
    if reader is None:
        searched = ", ".join(str(d) for d in wheel_dirs())
        return f"insightface wheel {WHEEL_NAME} not found in {searched}: {FETCH_HINT}"
    where, read = reader
    try:
        t1 = read(f"{_INSIGHTFACE_IMAGES}/t1.jpg")
        hanks = read(f"{_INSIGHTFACE_IMAGES}/Tom_Hanks_54745.png")
    except (KeyError, OSError, zipfile.BadZipFile) as exc:
        return f"insightface images could not be read from {where} ({exc}): {FETCH_HINT}"
    return [
        _photo(
            "insightface:t1.jpg",
            "insightface",
            f"{_INSIGHTFACE_IMAGES}/t1.jpg",
            _INSIGHTFACE_LICENCE,
            t1,
            _T1_PEOPLE,
        ),
        _photo(
            "insightface:Tom_Hanks_54745.png",
            "insightface",
            f"{_INSIGHTFACE_IMAGES}/Tom_Hanks_54745.png",
            _INSIGHTFACE_LICENCE,
            hanks,
            (Person("Tom_Hanks", "m", "USA"),),
        ),
    ]


def find_source_photos() -> PhotoSearch:
    """All package-shipped source photos that are installed, in a fixed order, and notes on the missing ones."""
    photos: list[SourcePhoto] = []
    missing: list[str] = []
    for found in (_packaged_photo(*packaged) for packaged in _PACKAGED_PHOTOS):
        if isinstance(found, str):
            missing.append(found)
        else:
            photos.append(found)
    extra = _insightface_photos()
    if isinstance(extra, str):
        missing.append(extra)
    else:
        photos.extend(extra)
    return PhotoSearch(photos=tuple(photos), missing=tuple(missing))
