"""Mouth-eye descriptors for MaskFN: one L2-normalised vector per frame, computed once and cached.

Kinds: ``geometry`` (no weights: Procrustes-normalised eye/mouth landmark shapes + HOG of the eye and
mouth patches) and ``resnet18`` (the paper's: a frozen ImageNet ResNet-18 on 64×64 eye and mouth crops,
from a local weights file). Frames without usable landmarks get ``valid = False`` and a zero vector;
consumers must never let them match (MaskFN gives them no candidates and takes them as none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercl_cli.choices import DESCRIPTOR_KINDS

KINDS = DESCRIPTOR_KINDS
"""The descriptor kinds (one source: :data:`fercl_cli.choices.DESCRIPTOR_KINDS`)."""


@dataclass(frozen=True)
class Descriptors:
    """Descriptors of N frames.

    Attributes:
        values: float32 [N, D], unit L2 norm where ``valid``, all zeros elsewhere.
        valid: bool [N], False for frames without usable landmarks (never to be matched).
    """

    values: np.ndarray
    valid: np.ndarray
