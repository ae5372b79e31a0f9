"""What ``fercl evaluate`` is asked to do: the tasks, their protocols and the request, checked with no
heavy import (so a bad option is refused before torch loads). :mod:`fercl_cli.evaluate.tasks` runs it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

from fercl_cli.choices import DEVICES, TASK_NAMES, Device, Task, choice_error
from fercl_cli.errors import FerclError
from fercl_cli.train.archs import ARCH_NAMES, arch_error

FER2013_SPLITS = ("public", "private")
RAFDB_IMAGES = ("auto", "aligned", "original")


@dataclass(frozen=True)
class TaskInfo:
    """A task: its title, the dataset it reads, what it scores, its protocols (default first)."""

    title: str
    dataset: str
    kind: str
    protocols: tuple[str, ...]


TASKS: dict[Task, TaskInfo] = {
    "affectnet": TaskInfo("AffectNet expression", "affectnet", "classification", ("linear", "knn", "paper")),
    "affectnet-va": TaskInfo("AffectNet valence/arousal", "affectnet", "regression", ("linear",)),
    "fer2013": TaskInfo("FER2013 expression", "fer2013", "classification", ("linear", "knn", "paper")),
    "rafdb": TaskInfo("RAF-DB basic expression", "rafdb", "classification", ("linear", "knn", "paper")),
    "lfw": TaskInfo("LFW identity (leakage)", "lfw", "identity", ("nn1",)),
}


@dataclass(frozen=True)
class EvaluateRequest:
    """What ``fercl evaluate`` was asked to do (see the command's help for each option)."""

    task: Task
    checkpoint: str
    data: Path | None
    protocol: str | None = None
    classes: int = 8
    seeds: tuple[int, ...] = (0,)
    cache_dir: Path | None = None
    device: Device = "auto"
    arch: str | None = None
    input_size: int | None = None
    batch_size: int = 256
    epochs: int = 20
    lr: float | None = None
    min_faces: int = 200
    images: Path | None = None
    split: str | None = None
    ferplus: Path | None = None
    rafdb_images: str = "auto"
    save_head: Path | None = None

    def to_json(self) -> dict[str, Any]:
        """The request as a results file records it: JSON values, paths as strings, tuples as lists."""
        plain = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        return json.loads(json.dumps(plain))

    def matches(self, recorded: Mapping[str, Any]) -> bool:
        """Whether a results file's recorded request is this one. An option the file predates counts as its
        default: results written before the option existed were computed with it."""
        defaults = {f.name: f.default for f in fields(EvaluateRequest) if f.default is not MISSING}
        current = self.to_json()
        return set(recorded) <= set(current) and all(
            recorded.get(k, defaults.get(k)) == v for k, v in current.items()
        )

    def protocol_name(self) -> str:
        """The protocol asked for, or the task's default."""
        return self.protocol or TASKS[self.task].protocols[0]

    def check(self) -> None:
        """Reject impossible combinations with a message naming the option."""
        if self.task not in TASKS:
            raise FerclError(choice_error("--task", TASK_NAMES, self.task))
        info = TASKS[self.task]
        protocol = self.protocol_name()
        if protocol not in info.protocols:
            raise FerclError(
                f"--protocol {protocol} is not available for --task {self.task}; choose one of "
                f"{', '.join(info.protocols)}"
            )
        if self.classes not in (7, 8):
            raise FerclError(f"--classes must be 8, or 7 to drop Contempt, got {self.classes}")
        if self.classes == 7 and info.dataset != "affectnet":
            raise FerclError(f"--classes 7 applies to AffectNet only, not --task {self.task}")
        if self.split is not None and self.split not in FER2013_SPLITS:
            raise FerclError(f"--split must be one of {', '.join(FER2013_SPLITS)}, got {self.split!r}")
        for given, option in ((self.split, "--split"), (self.ferplus, "--ferplus")):
            if given is not None and info.dataset != "fer2013":
                raise FerclError(f"{option} applies to --task fer2013 only, not --task {self.task}")
        if self.rafdb_images not in RAFDB_IMAGES:
            raise FerclError(
                f"--rafdb-images must be one of {', '.join(RAFDB_IMAGES)}, got {self.rafdb_images!r}"
            )
        if self.rafdb_images != "auto" and info.dataset != "rafdb":
            raise FerclError(f"--rafdb-images applies to --task rafdb only, not --task {self.task}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise FerclError(f"--seeds must list distinct integers, got {list(self.seeds)}")
        if self.input_size is not None and self.input_size < 16:
            raise FerclError(f"--size must be at least 16 px, got {self.input_size}")
        if self.device not in DEVICES:
            raise FerclError(choice_error("--device", DEVICES, self.device))
        if self.arch is not None and self.arch not in ARCH_NAMES:
            raise FerclError(arch_error("--arch", self.arch))
        if self.batch_size < 1 or self.epochs < 1:
            raise FerclError("--batch-size and --epochs must be positive")
        if self.lr is not None and (protocol != "paper" or not self.lr > 0):
            raise FerclError(
                f"--lr is the positive fine-tuning rate of --protocol paper, got {self.lr} with {protocol}"
            )
        if self.save_head is not None and (protocol != "linear" or info.kind == "identity"):
            raise FerclError(
                f"--save-head saves the linear probe; --task {self.task} --protocol {protocol} fits none "
                "(use --protocol linear with affectnet, affectnet-va or fer2013)"
            )
        if self.save_head is not None and self.checkpoint == "random":
            raise FerclError(
                "--save-head: a head on --checkpoint random fits features whose BatchNorm statistics were "
                "calibrated on this dataset, which fercl predict cannot reproduce; use --checkpoint random-raw"
            )
        if self.save_head is not None and self.save_head.suffix.lower() != ".npz":
            raise FerclError(
                f"--save-head {self.save_head}: the head is a NumPy archive; give a path ending in .npz"
            )
        if self.checkpoint in ("pixels", "landmarks") and protocol == "paper":
            raise FerclError(
                f"--checkpoint {self.checkpoint} has no network to fine-tune; use --protocol linear or knn with it"
            )
        if self.data is None and info.dataset != "lfw":
            raise FerclError(f"--task {self.task} needs --data (the dataset's folder or file)")


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"1,2,3"`` → ``(1, 2, 3)``; a clear error for anything else."""
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise FerclError(f"--seeds must be comma-separated integers such as 1,2,3, got {text!r}") from None
    if not seeds:
        raise FerclError("--seeds needs at least one integer")
    return seeds


assert tuple(TASKS) == TASK_NAMES, "every task has its TaskInfo, in the order --task lists them"
