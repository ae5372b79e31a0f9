"""VoxCeleb1/2 on disk: the video release and the ``unzippedIntervalFaces`` frame release.

Layouts:
- ``videos``: ``ROOT/<idXXXXX>/<video id>/<clip>.mp4``.
- ``frames``: ``ROOT/unzippedIntervalFaces/data/<VGGFace1 name>/1.6/<video id>/<clip>/<frame>.jpg``
  (ROOT may also be the ``unzippedIntervalFaces`` or ``data`` folder itself). Names are mapped to
  ``idXXXXX`` through ``vox1_meta.csv`` (tab-separated: VoxCeleb1 ID, VGGFace1 ID, Gender,
  Nationality, Set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fercl_cli.errors import FerclError
from fercl_cli.sources.clips import IMAGE_SUFFIXES, VIDEO_SUFFIXES, ClipSource

LAYOUTS = ("auto", "videos", "frames")
META_NAME = "vox1_meta.csv"


@dataclass
class Discovery:
    """What was found under a root: the layout, the clips (sorted by key) and notes for the user."""

    layout: str
    root: Path
    clips: list[ClipSource]
    notes: list[str] = field(default_factory=list)


def read_meta(path: str | Path) -> dict[str, str]:
    """VGGFace1 name → VoxCeleb1 ID from ``vox1_meta.csv``."""
    import pandas as pd

    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", dtype=str)
    except (OSError, ValueError) as exc:
        raise FerclError(f"cannot read VoxCeleb meta file {path}: {exc}") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = {"VoxCeleb1 ID", "VGGFace1 ID"} - set(table.columns)
    if missing:
        raise FerclError(
            f"{path} lacks column(s) {', '.join(sorted(missing))}; expected a tab-separated vox1_meta.csv "
            "with 'VoxCeleb1 ID' and 'VGGFace1 ID'"
        )
    return {
        str(n).strip(): str(i).strip()
        for n, i in zip(table["VGGFace1 ID"], table["VoxCeleb1 ID"], strict=True)
    }


def _frames_base(root: Path) -> Path | None:
    for base in (root / "unzippedIntervalFaces" / "data", root / "data", root):
        if base.is_dir() and any(base.glob("*/1.6/*/*")):
            return base
    return None


def _videos_base(root: Path) -> Path | None:
    for base in (root / "videos", root):
        if base.is_dir() and any(p.suffix.lower() in VIDEO_SUFFIXES for p in base.glob("*/*/*")):
            return base
    return None


def _find_meta(root: Path, meta: str | Path | None) -> Path | None:
    if meta is not None:
        if not Path(meta).is_file():
            raise FerclError(f"meta file {meta} does not exist; pass the path of vox1_meta.csv with --meta")
        return Path(meta)
    for folder in (root, *root.parents[:3]):
        if (folder / META_NAME).is_file():
            return folder / META_NAME
    return None


def _video_clips(base: Path) -> list[ClipSource]:
    return [
        ClipSource(p.parent.parent.name, p.parent.name, p.stem, p, "video")
        for p in base.glob("*/*/*")
        if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()
    ]


def _clip_name(name: str) -> str:
    """Frame-release clip folders are numbered 1, 2, ...; the video release names them 00001.mp4, ...:
    numeric names are zero-padded to five digits so both layouts give the same clip keys."""
    return f"{int(name):05d}" if name.isdigit() else name


def _frame_clips(base: Path, names: dict[str, str], notes: list[str]) -> list[ClipSource]:
    clips, unmapped = [], set()
    for folder in base.glob("*/1.6/*/*"):
        if not folder.is_dir() or not any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
            continue
        person = folder.parent.parent.parent.name
        identity = names.get(person)
        if identity is None:
            unmapped.add(person)
            identity = person
        clips.append(ClipSource(identity, folder.parent.name, _clip_name(folder.name), folder, "frames"))
    if unmapped:
        notes.append(
            f"{len(unmapped)} name(s) not in the meta file kept their name as identity: {', '.join(sorted(unmapped)[:5])}"
        )
    return clips


def discover_voxceleb(root: str | Path, layout: str = "auto", meta: str | Path | None = None) -> Discovery:
    """Find every clip under ``root`` in the given (or recognised) layout, sorted by (identity, video, clip).

    Raises:
        FerclError: ``root`` is unreadable, the layout is unknown, or no clip is found.
    """
    root = Path(root)
    if layout not in LAYOUTS:
        raise FerclError(f"unknown --layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if not root.is_dir():
        raise FerclError(
            f"{root} is not a readable folder; pass the VoxCeleb root (videos or unzippedIntervalFaces)"
        )
    notes: list[str] = []
    videos, frames = _videos_base(root), _frames_base(root)
    if layout == "auto":
        if videos is None and frames is None:
            raise FerclError(
                f"no VoxCeleb layout found under {root}: expected <id>/<video>/<clip>.mp4 or "
                "unzippedIntervalFaces/data/<Name>/1.6/<video>/<clip>/<frame>.jpg"
            )
        layout = "videos" if videos is not None else "frames"
        found = f"recognised the '{layout}' layout under {videos if layout == 'videos' else frames}"
        if videos is not None and frames is not None:
            found += " (a 'frames' layout is there too: pass --layout frames to use it)"
        notes.append(found)
    if layout == "videos":
        if videos is None:
            raise FerclError(
                f"no videos found as {root}/<id>/<video>/<clip>.mp4; check ROOT or pass --layout frames"
            )
        clips = _video_clips(videos)
        base = videos
    else:
        if frames is None:
            raise FerclError(
                f"no frame folders found as {root}/unzippedIntervalFaces/data/<Name>/1.6/<video>/<clip>/; "
                "check ROOT or pass --layout videos"
            )
        meta_path = _find_meta(root, meta)
        if meta_path is None:
            notes.append(f"no {META_NAME} found: identities are the VGGFace1 names")
        names = read_meta(meta_path) if meta_path else {}
        clips = _frame_clips(frames, names, notes)
        base = frames
    if not clips:
        raise FerclError(f"no clips found under {base}")
    return Discovery(layout, base, sorted(clips, key=lambda c: c.key), notes)
