"""The paper's mouth-eye descriptor (``resnet18``): a frozen ImageNet ResNet-18 on the 64×64 eye and
mouth crops, 512 + 512 pooled features concatenated and L2-normalised.

The weights come from a local file (torchvision's ``resnet18-f37072fd.pth`` or any state dict of a
torchvision ResNet-18); fercl never downloads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.descriptors import Descriptors
from fercl_cli.descriptors.crops import CROP_PX, EYE_MARGIN_PX, paper_crops
from fercl_cli.descriptors.inputs import check_batch, normalised
from fercl_cli.errors import FerclError
from fercl_cli.safe_load import load_tensors

if TYPE_CHECKING:
    import torch

FEATURE_DIM = 512
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_WHAT_TO_PASS = (
    "pass --weights with a local torchvision ResNet-18 ImageNet state dict (e.g. resnet18-f37072fd.pth "
    "from download.pytorch.org/models, fetched by you; fercl never downloads weights), or use --kind geometry"
)


def weights_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a weights file (recorded next to the descriptors)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_resnet18(weights: str | Path | None) -> torch.nn.Module:
    """A frozen ResNet-18 (eval mode, no gradients) whose output is the 512-d pooled feature.

    Raises:
        FerclError: no path given, the file is missing or unreadable, or it is not a ResNet-18 state
            dict (the classifier ``fc.*`` entries may be absent).
    """
    import torch
    from torchvision.models import resnet18

    if weights is None:
        raise FerclError(f"the resnet18 descriptor needs ImageNet weights: {_WHAT_TO_PASS}")
    path = Path(weights)
    if not path.is_file():
        raise FerclError(f"{path}: no such weights file; {_WHAT_TO_PASS}")
    state = load_tensors(path, "PyTorch weights file", _WHAT_TO_PASS)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise FerclError(f"{path}: not a state dict of tensors; {_WHAT_TO_PASS}")
    model = resnet18(weights=None)
    model.fc = torch.nn.Identity()
    backbone = {k: v for k, v in state.items() if not k.startswith("fc.")}
    problem = _mismatch(backbone, {k: tuple(v.shape) for k, v in model.state_dict().items()})
    if problem:
        raise FerclError(f"{path}: not a ResNet-18 state dict ({problem}); {_WHAT_TO_PASS}")
    model.load_state_dict(backbone, strict=True)
    model.eval()
    model.requires_grad_(False)
    return model.to(
        memory_format=torch.channels_last
    )  # the crops are channels-last too (faster convolutions)


def _mismatch(state: dict, expected: dict[str, tuple[int, ...]]) -> str:
    """'' when ``state`` has exactly the ``expected`` entries and shapes, else a short description."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != expected[k]]
    parts = []
    if missing:
        parts.append(f"{len(missing)} entries missing, e.g. {missing[0]}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected, e.g. {unexpected[0]}")
    if wrong:
        key = wrong[0]
        parts.append(
            f"{len(wrong)} of the wrong shape, e.g. {key} {tuple(state[key].shape)} instead of {expected[key]}"
        )
    return "; ".join(parts)


def check_device(device: str) -> None:
    """Raise :class:`FerclError` when ``device`` is not ``cpu`` or an available CUDA device."""
    import torch

    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise FerclError(f"--device {device}: use cpu or cuda (cuda:K for a given GPU)")
    if not torch.cuda.is_available():
        raise FerclError(f"--device {device}: no CUDA device is available on this machine; use --device cpu")


def _to_tensor(crops: np.ndarray, device: str) -> torch.Tensor:
    import torch

    x = torch.from_numpy(crops).to(device).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def resnet18_descriptors(
    images: np.ndarray,
    landmarks: np.ndarray,
    model: torch.nn.Module,
    valid: np.ndarray | None = None,
    batch: int = 256,
    device: str = "cpu",
    eye_margin_px: float = EYE_MARGIN_PX,
    progress: Callable[[int], None] | None = None,
) -> Descriptors:
    """ResNet-18 descriptors of N frames, batched under ``torch.no_grad()``.

    Args:
        images: uint8 [N, H, W, 3] RGB (aligned crops).
        landmarks: float [N, 68, 2] in image pixels.
        model: the network from :func:`load_resnet18` (moved to ``device`` here).
        valid: bool [N], False for rows without landmarks (None: all have them).
        batch: frames per forward pass (each frame gives two 64×64 crops).
        device: ``cpu`` or ``cuda`` (or ``cuda:K``).
        eye_margin_px: extra height above and below the eye box, image pixels (paper: 10).
        progress: called with the number of frames finished after each batch.

    Returns:
        :class:`Descriptors` with values float32 [N, 1024] (eyes 0–511, mouth 512–1023); rows without
        usable landmarks are zero and flagged invalid.
    """
    import torch

    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    images, landmarks, valid = check_batch(images, landmarks, valid)
    check_device(device)
    model = model.to(device)
    values = np.zeros((len(images), 2 * FEATURE_DIM), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(images), batch):
            rows = np.arange(start, min(start + batch, len(images)))
            keep = rows[valid[rows]]
            if len(keep):
                eyes, mouths = paper_crops(
                    images[keep], landmarks[keep], np.ones(len(keep), bool), eye_margin_px
                )
                features = model(_to_tensor(np.concatenate([eyes, mouths]), device)).float().cpu().numpy()
                values[keep] = np.concatenate([features[: len(keep)], features[len(keep) :]], axis=1)
            if progress is not None:
                progress(len(rows))
    return normalised(values, valid)


def config(weights: str | Path, eye_margin_px: float = EYE_MARGIN_PX) -> dict[str, object]:
    """The settings recorded next to stored resnet18 descriptors (including the weights file's hash)."""
    return {
        "kind": "resnet18",
        "weights_file": Path(weights).name,
        "weights_sha256": weights_sha256(weights),
        "crop_px": CROP_PX,
        "eye_margin_px": eye_margin_px,
        "normalisation": "imagenet",
        "dim": 2 * FEATURE_DIM,
    }
