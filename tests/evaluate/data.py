"""Tiny evaluation datasets in the official formats, and a tiny fercl checkpoint, written by the tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fercl_cli.faces.template import MEAN_SHAPE
from fercl_cli.train import checkpoint
from fercl_cli.train.model import build_model

AFFECTNET_HEADER = (
    "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"
)
INPUT_SIZE = 32  # tests evaluate at --size 32 (crops cached at 37 px) to stay fast


def face_image(rng: np.random.Generator, tint: int) -> np.ndarray:
    """A 96×96 RGB picture: noise over a class-dependent colour, so that classes differ a little."""
    base = np.array([40 + 25 * tint, 200 - 20 * tint, 120], dtype=np.int64) % 256
    noise = rng.integers(-30, 30, size=(96, 96, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def landmark_text() -> str:
    """68 landmarks of a frontal face centred in the 96×96 picture (eyes 24 px apart)."""
    points = MEAN_SHAPE * 24.0 + (48.0, 40.0)
    return ";".join(f"{v:.2f}" for v in points.reshape(-1))


def make_affectnet(root: Path, train_per_class: int = 5, test_per_class: int = 2, seed: int = 0) -> Path:
    """AffectNet in the official layout with 8 classes, plus one row of code 9 (dropped) and one row whose
    image is absent (class 0, counted and skipped)."""
    rng = np.random.default_rng(seed)
    images = root / "Manually_Annotated_Images"
    (images / "1").mkdir(parents=True, exist_ok=True)
    landmarks = landmark_text()
    lists = {"training.csv": [AFFECTNET_HEADER], "validation.csv": [AFFECTNET_HEADER]}
    for file, per_class in (("training.csv", train_per_class), ("validation.csv", test_per_class)):
        for code in range(8):
            for k in range(per_class):
                name = f"1/{file[:5]}_{code}_{k}.png"
                cv2.imwrite(str(images / name), face_image(rng, code))
                valence, arousal = rng.uniform(-1, 1, 2).round(3)
                if k == 0 and code == 3:
                    valence = -2.0  # missing valence
                lists[file].append(f"{name},20,16,56,56,{landmarks},{code},{valence},{arousal}")
    lists["training.csv"].append(f"1/train_0_0.png,20,16,56,56,{landmarks},9,-2,-2")
    lists["training.csv"].append(f"1/absent.png,20,16,56,56,{landmarks},0,0.1,0.1")
    for file, lines in lists.items():
        (root / file).write_text("\n".join(lines) + "\n")
    return root


def make_affectnet_npy(root: Path, train_per_class: int = 5, test_per_class: int = 2, seed: int = 0) -> Path:
    """AffectNet's .npy release (``train_set/``, ``val_set/``) with 8 classes; expressions stored as numpy
    strings like the release, plus one training annotation of code 10 (dropped) and one whose image is
    absent (counted and skipped)."""
    rng = np.random.default_rng(seed)
    landmarks = MEAN_SHAPE * 24.0 + (48.0, 40.0)
    number = 0
    for name, per_class in (("train_set", train_per_class), ("val_set", test_per_class)):
        images, annotations = root / name / "images", root / name / "annotations"
        images.mkdir(parents=True, exist_ok=True)
        annotations.mkdir(parents=True, exist_ok=True)
        for code in [*range(8), 10] if name == "train_set" else range(8):
            for _ in range(per_class if code < 8 else 1):
                cv2.imwrite(str(images / f"{number}.jpg"), face_image(rng, code))
                np.save(annotations / f"{number}_exp.npy", np.array(str(code)))
                np.save(annotations / f"{number}_val.npy", np.array(f"{rng.uniform(-1, 1):.3f}"))
                np.save(annotations / f"{number}_aro.npy", np.array(f"{rng.uniform(-1, 1):.3f}"))
                np.save(annotations / f"{number}_lnd.npy", landmarks.reshape(-1).astype(str))
                number += 1
    np.save(root / "train_set" / "annotations" / f"{number}_exp.npy", np.array("1"))  # image absent
    return root


def make_fer2013_csv(path: Path, per_split: tuple[int, int, int] = (3, 2, 2), seed: int = 0) -> Path:
    """``fer2013.csv`` with every class in Training, PrivateTest and PublicTest."""
    rng = np.random.default_rng(seed)
    lines = ["emotion,pixels,Usage"]
    for usage, count in zip(("Training", "PrivateTest", "PublicTest"), per_split, strict=True):
        for code in range(7):
            for _ in range(count):
                grey = np.clip(rng.normal(60 + 25 * code, 20, 48 * 48), 0, 255).astype(int)
                lines.append(f"{code},{' '.join(map(str, grey))},{usage}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def make_rafdb(root: Path, train_per_class: int = 5, test_per_class: int = 2, seed: int = 0) -> Path:
    """RAF-DB basic in the official layout (label file, 100×100 ``Image/aligned`` faces) with the 7 classes,
    plus one listed training image that is absent (counted and skipped)."""
    rng = np.random.default_rng(seed)
    aligned = root / "Image" / "aligned"
    aligned.mkdir(parents=True, exist_ok=True)
    lines, numbers = [], {"train": 0, "test": 0}
    for split, per_class, digits in (("train", train_per_class, 5), ("test", test_per_class, 4)):
        for code in range(1, 8):
            for _ in range(per_class):
                numbers[split] += 1
                stem = f"{split}_{numbers[split]:0{digits}d}"
                face = cv2.resize(face_image(rng, code), (100, 100), interpolation=cv2.INTER_CUBIC)
                cv2.imwrite(str(aligned / f"{stem}_aligned.jpg"), face)
                lines.append(f"{stem}.jpg {code}")
    lines.append(f"train_{numbers['train'] + 1:05d}.jpg 4")
    (root / "EmoLabel").mkdir(exist_ok=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    return root


def make_ferplus_csv(fer_csv: Path, seed: int = 0) -> Path:
    """``fer2013new.csv`` next to ``fer_csv``: 10 votes per row, a clear majority for FER+ class
    ``row % 8``, except every 9th row, whose votes tie between neutral and happiness (dropped)."""
    from fercl_cli.sources.ferplus import CSV_COLUMNS

    rng = np.random.default_rng(seed)
    usages = [line.rsplit(",", 1)[1] for line in fer_csv.read_text().splitlines()[1:]]
    lines = [",".join(CSV_COLUMNS)]
    for row, usage in enumerate(usages):
        votes = np.zeros(10, dtype=int)
        if row % 9 == 8:
            votes[:2] = 5
        else:
            votes[row % 8] = 7
            votes[rng.choice([c for c in range(10) if c != row % 8], 3)] += 1
        lines.append(f"{usage},fer{row:07d}.png,{','.join(map(str, votes))}")
    path = fer_csv.with_name("fer2013new.csv")
    path.write_text("\n".join(lines) + "\n")
    return path


def make_checkpoint(run_dir: Path, arch: str = "resnet18", seed: int = 0) -> Path:
    """A fercl run directory holding ``last.pt`` of a freshly initialised model."""
    import torch

    torch.manual_seed(seed)
    model = build_model(arch)
    checkpoint.save(run_dir / "last.pt", {"model": model.state_dict(), "config": {"arch": arch, "epochs": 1}})
    return run_dir
