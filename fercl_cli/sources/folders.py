"""Any tree of talking-face videos or image sequences.

Identity = the first-level folder under ROOT. A clip is a video file anywhere below it, or a folder
that directly holds images (one image per frame, numbered). ``video`` is the clip's parent path
relative to the identity folder (``.`` when the clip sits directly in it).
"""

from __future__ import annotations

from pathlib import Path

from fercl_cli.errors import FerclError
from fercl_cli.sources.clips import IMAGE_SUFFIXES, VIDEO_SUFFIXES, ClipSource
from fercl_cli.sources.voxceleb import Discovery


def _relative_video(identity_dir: Path, clip_path: Path) -> str:
    rel = clip_path.parent.relative_to(identity_dir)
    return rel.as_posix() if rel.parts else "."


def discover_folder(root: str | Path) -> Discovery:
    """Every clip under ``root`` (videos and image folders), sorted by (identity, video, clip)."""
    root = Path(root)
    if not root.is_dir():
        raise FerclError(f"{root} is not a readable folder; pass a folder with one sub-folder per identity")
    clips: list[ClipSource] = []
    seen: set[Path] = set()
    repeats = 0
    top = root.resolve()
    for identity_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if identity_dir.is_symlink() and top.is_relative_to(identity_dir.resolve()):
            repeats += 1  # a link back up the tree (a loop): what it reaches is already here
            continue
        for path in identity_dir.rglob("*"):
            real = path.resolve()
            if real in seen:  # reached again through a symbolic link
                repeats += 1
                continue
            seen.add(real)
            if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
                clips.append(
                    ClipSource(
                        identity_dir.name, _relative_video(identity_dir, path), path.stem, path, "video"
                    )
                )
            elif path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
                clips.append(
                    ClipSource(
                        identity_dir.name, _relative_video(identity_dir, path), path.name, path, "frames"
                    )
                )
    if not clips:
        raise FerclError(
            f"no clips found under {root}: expected <identity>/.../<clip>.mp4 or <identity>/.../<clip>/<frame>.jpg"
        )
    notes = [f"found {len(clips)} clips under {root}"]
    if repeats:
        notes.append(
            f"skipped {repeats} path(s) reached a second time through symbolic links (or a link loop)"
        )
    return Discovery("folder", root, sorted(clips, key=lambda c: c.key), notes)
