"""The landmark-geometry floor (``--checkpoint landmarks``): what a linear probe reads from the face's shape
alone, with no learned features.

Every evaluation crop is aligned like the pretraining crops (:data:`~fercl_cli.faces.template.DEFAULT_TEMPLATE`),
so the face sits in a known box: dlib's 68-point shape predictor is fitted in that box (no detector runs)
and the features are the 68 points' offsets from the template, in units of the template's inter-ocular
distance, float32 [B, 136] (x0, y0, x1, y1, ...). Crops that are not aligned (FER2013's 48 px photos) get
the same box, so their landmarks are only as good as their framing.
"""

from __future__ import annotations

import numpy as np
import torch

from fercl_cli.faces.template import DEFAULT_TEMPLATE
from fercl_cli.faces.types import FaceBackend

N_POINTS = 68
FEATURE_DIM = 2 * N_POINTS


def crop_template(input_size: int) -> np.ndarray:
    """Template points float64 [68, 2] in an ``input_size`` centre crop of the stored crop (pixels)."""
    from fercl_cli.evaluate.features import stored_size

    stored = stored_size(input_size)
    return DEFAULT_TEMPLATE.points(stored) - (stored - input_size) / 2.0


def template_box(points: np.ndarray) -> np.ndarray:
    """float [4] x0, y0, x1, y1: the box of the template points, where dlib's detector puts a face box
    (jaw to jaw, brows to chin)."""
    return np.array([points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()])


def geometry_features(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    """float32 [B, 136]: ``landmarks`` float [B, 68, 2] minus ``template`` [68, 2], divided by the template's
    inter-ocular distance (outer eye corners 36 and 45)."""
    iod = float(np.linalg.norm(template[45] - template[36]))
    return ((landmarks - template[None]) / iod).reshape(len(landmarks), FEATURE_DIM).astype(np.float32)


class LandmarkGeometry(torch.nn.Module):
    """ImageNet-normalised images float [B, 3, H, H] → :func:`geometry_features` float32 [B, 136]; dlib
    (``backend.refit``) runs per image on the CPU, in the :func:`template_box` of the crop."""

    def __init__(self, backend: FaceBackend) -> None:
        super().__init__()
        self.backend = backend

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        from fercl_cli.train.views import IMAGENET_MEAN, IMAGENET_STD

        if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
            raise ValueError(f"images must be float [B, 3, H, H], got {tuple(images.shape)}")
        template = crop_template(int(images.shape[-1]))
        box = template_box(template)
        mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=images.device).view(1, 3, 1, 1)
        pixels = ((images.float() * std + mean).clamp(0, 1) * 255).round().to(torch.uint8)
        rgb = pixels.permute(0, 2, 3, 1).cpu().numpy()
        landmarks = np.stack(
            [self.backend.refit(np.ascontiguousarray(image), box).landmarks for image in rgb]
        )
        return torch.from_numpy(geometry_features(landmarks, template)).to(images.device)
