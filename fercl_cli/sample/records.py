"""Ground-truth rows shared by every sample dataset writer, and the JPEG encoder they use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercl_cli.sample.identities import Identity
from fercl_cli.sample.motion import FrameState

JPEG_QUALITY = 92


def format_landmarks(points: np.ndarray) -> str:
    """68 points (float [68, 2]) as AffectNet writes them: ``"x1;y1;x2;y2;..."`` with two decimals."""
    return ";".join(f"{v:.2f}" for v in np.asarray(points, dtype=np.float64).reshape(-1))


def state_columns(identity: Identity, state: FrameState) -> dict[str, object]:
    """The ground-truth columns that describe who is shown and how (expression, pose, light)."""
    valence, arousal = state.valence_arousal
    return {
        "identity": identity.name,
        "identity_kind": identity.kind,
        "expression": state.expression,
        "intensity": round(state.intensity, 4),
        "valence": round(valence, 4),
        "arousal": round(arousal, 4),
        "speech": round(state.speech, 4),
        "yaw_deg": round(state.yaw, 3),
        "pitch_deg": round(state.pitch, 3),
        "roll_deg": round(state.roll, 3),
        "scale": round(state.scale, 4),
        "shift_x_iod": round(state.shift_x, 4),
        "shift_y_iod": round(state.shift_y, 4),
        "light_gain": round(state.light_gain, 4),
        "light_gradient": round(state.light_gradient, 4),
    }


def write_jpeg(path: Path, image: np.ndarray) -> None:
    """Write uint8 RGB [H, W, 3] or grey [H, W] ``image`` as a JPEG (quality :data:`JPEG_QUALITY`)."""
    import cv2

    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise OSError(f"JPEG encoding failed for {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.tobytes())
