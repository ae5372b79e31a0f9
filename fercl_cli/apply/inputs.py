"""What ``fercl embed``/``predict`` read: image files, video files, and folders of them (walked
recursively, in path order)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fercl_cli.errors import FerclError
from fercl_cli.sources.clips import IMAGE_SUFFIXES, VIDEO_SUFFIXES


@dataclass(frozen=True)
class InputFile:
    """One file to analyse: ``kind`` is ``"image"`` or ``"video"``."""

    path: Path
    kind: str


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    return None


def expand_inputs(inputs: Sequence[str | Path]) -> list[InputFile]:
    """Every image and video named by ``inputs``, in the order given (a folder's files in path order).

    Raises:
        FerclError: a path does not exist, a file is neither an image nor a video, or nothing is left.
    """
    kinds = ", ".join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)
    files: list[InputFile] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.is_file() and _kind(p) is not None)
            files.extend(InputFile(p, _kind(p)) for p in found)
        elif item.is_file():
            kind = _kind(item)
            if kind is None:
                raise FerclError(f"{item}: not an image or video file ({kinds}); rename it or leave it out")
            files.append(InputFile(item, kind))
        else:
            raise FerclError(f"{item}: no such file or folder; pass image files, videos or folders of them")
    if not files:
        raise FerclError(f"no image or video files ({kinds}) in {', '.join(map(str, inputs))}")
    return files
