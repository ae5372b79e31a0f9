"""The paper's ablation in miniature: its pretraining configurations (the paper's names), the references
shown beside them, and the paper's published AffectNet numbers per configuration.

Configurations: SimCLR (no TimeAug, no HardNeg), TimeAug, TimeAug+HardNeg, TimeAug+HardNeg+FaceSwap,
TimeAug+HardNeg+MaskFN (``top1-other-clip``) and all four. References: the demo's ``random`` checkpoint
(the random-init floor, BatchNorm calibrated; one initialisation), the raw-pixel and landmark-geometry
floors (``pixels``, ``landmarks``) and a supervised ceiling (the same network trained from random init
with the training labels: ``fercl evaluate --protocol paper --checkpoint random``, on the tasks that have
that protocol).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PIXELS_FLOOR, LANDMARKS_FLOOR, SUPERVISED = "pixels", "landmarks", "supervised"
REFERENCE_NAMES: dict[str, tuple[str, str]] = {
    PIXELS_FLOOR: ("raw pixels 16×16×3 (floor)", "pixels"),
    LANDMARKS_FLOOR: ("landmark geometry, dlib 68 points (floor)", "landmarks"),
    SUPERVISED: ("supervised, same network from random init (ceiling)", "superv."),
}


@dataclass(frozen=True)
class AblationConfig:
    """One pretraining configuration: folder key, the paper's row name, a short plot label, its options."""

    key: str
    name: str
    short: str
    paper_row: str
    strategies: dict[str, Any]


def _strategies(time_aug: bool, hard_neg: bool, face_swap: bool, mask_fn: str) -> dict[str, Any]:
    return {"time_aug": time_aug, "hard_neg": hard_neg, "face_swap": face_swap, "mask_fn": mask_fn}


MASK = "top1-other-clip"
CONFIGS: tuple[AblationConfig, ...] = (
    AblationConfig("simclr", "SimCLR", "SimCLR", "SimCLR (Vox1)", _strategies(False, False, False, "off")),
    AblationConfig("timeaug", "TimeAug", "TA", "TimeAug", _strategies(True, False, False, "off")),
    AblationConfig(
        "timeaug-hardneg",
        "TimeAug+HardNeg",
        "TA+HN",
        "TimeAug+HardNeg",
        _strategies(True, True, False, "off"),
    ),
    AblationConfig(
        "timeaug-hardneg-faceswap",
        "TimeAug+HardNeg+FaceSwap",
        "+FS",
        "TimeAug+HardNeg+FaceSwap",
        _strategies(True, True, True, "off"),
    ),
    AblationConfig(
        "timeaug-hardneg-maskfn",
        "TimeAug+HardNeg+MaskFN",
        "+MaskFN",
        "TimeAug+HardNeg+MaskFN",
        _strategies(True, True, False, MASK),
    ),
    AblationConfig("all-four", "All four", "All 4", "All four", _strategies(True, True, True, MASK)),
)
BASELINE, TIMEAUG_HARDNEG, FULL = CONFIGS[0].key, CONFIGS[2].key, CONFIGS[-1].key


def paper_values() -> dict[str, dict[str, float]]:
    """The paper's published AffectNet numbers per configuration key, as fractions / CCCs keyed like the
    table's columns (:class:`~fercl_cli.evaluate.results.Measure` keys (``affectnet/macro_f1``, ``affectnet/accuracy``, ``affectnet-va/valence_ccc``,
    ``affectnet-va/arousal_ccc``)."""
    from fercl_cli.evaluate.compare import PAPER_AFFECTNET_ROWS

    rows = {row[0]: row[1:] for row in PAPER_AFFECTNET_ROWS}
    out = {}
    for config in CONFIGS:
        f1, acc, v_ccc, _, a_ccc, _ = rows[config.paper_row]
        out[config.key] = {
            "affectnet/macro_f1": f1 / 100,
            "affectnet/accuracy": acc / 100,
            "affectnet-va/valence_ccc": v_ccc,
            "affectnet-va/arousal_ccc": a_ccc,
        }
    return out
