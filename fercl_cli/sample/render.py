"""Rendering one frame: a portrait animated to a :class:`FrameState` and framed by a :class:`View`.

One piecewise-affine warp maps the master portrait to the output: the landmarks go to the rest shape
plus the expression and speech displacements plus a depth-based yaw/pitch shift; a head ring and the
output border move rigidly with the in-plane pose (roll, scale, shift), so the background stays
undistorted. An opened mouth is painted as a dark cavity with upper teeth; then the light is applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercl_cli.faces import geometry
from fercl_cli.faces.landmarks import OUTER_MOUTH
from fercl_cli.sample.expressions import DEPTH, displacement, mouth_opening, speech_displacement
from fercl_cli.sample.motion import FrameState, smoothstep
from fercl_cli.sample.portrait import Portrait, forehead, mesh_triangles, ring, to_master
from fercl_cli.sample.warp import warp_piecewise_affine

_FOREHEAD_DEPTH = 0.8
_FOREHEAD_FOLLOW = 0.4


@dataclass(frozen=True)
class View:
    """Where the face frame lands in an output image at the rest pose.

    Attributes:
        width, height: output size in pixels.
        iod: one face unit (the inter-ocular distance of a frontal face) in output pixels.
        eye_x, eye_y: output position of the eye midpoint.
    """

    width: int
    height: int
    iod: float
    eye_x: float
    eye_y: float

    def matrix(self, state: FrameState) -> np.ndarray:
        """Face frame → output pixels (float64 [2, 3]) under the state's roll, scale and shift."""
        angle = np.radians(state.roll)
        s = self.iod * state.scale
        rot = s * np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
        offset = np.array([self.eye_x + state.shift_x * self.iod, self.eye_y + state.shift_y * self.iod])
        return np.concatenate([rot, offset[:, None]], axis=1)


@dataclass(frozen=True)
class Rendered:
    """A rendered frame: uint8 [H, W, 3] RGB ``image`` and its float32 [68, 2] ``landmarks`` (output px)."""

    image: np.ndarray
    landmarks: np.ndarray


def face_shape(portrait: Portrait, state: FrameState) -> np.ndarray:
    """The face-frame landmarks (float64 [68, 2]) that ``state`` gives ``portrait``, before the view."""
    shape = (
        portrait.landmarks
        + displacement(state.expression, state.intensity)
        + speech_displacement(state.speech)
    )
    turn = np.array([np.sin(np.radians(state.yaw)), -np.sin(np.radians(state.pitch))])
    return shape + DEPTH[:, None] * turn


def _border(view: View) -> np.ndarray:
    xs = np.linspace(0, view.width - 1, 5)
    ys = np.linspace(0, view.height - 1, 5)
    return np.concatenate(
        [
            np.stack([xs, np.zeros(5)], axis=1),
            np.stack([xs, np.full(5, view.height - 1.0)], axis=1),
            np.stack([np.zeros(3), ys[1:4]], axis=1),
            np.stack([np.full(3, view.width - 1.0), ys[1:4]], axis=1),
        ]
    )


def _paint_mouth(image: np.ndarray, landmarks: np.ndarray, opening: float, iod_px: float) -> np.ndarray:
    """Fill the inner-lip polygon with a dark cavity and upper teeth; ``opening`` in IOD units.

    Works on a box around the mouth only; returns a new image (or ``image`` when the mouth is closed).
    """
    import cv2

    strength = float(smoothstep((opening - 0.02) / 0.06))
    if strength <= 0.0:
        return image
    h, w = image.shape[:2]
    margin = 0.3 * iod_px
    lo = np.maximum(np.floor(landmarks[48:68].min(axis=0) - margin), 0).astype(int)
    hi = np.minimum(np.ceil(landmarks[48:68].max(axis=0) + margin), [w, h]).astype(int)
    if np.any(hi <= lo):
        return image
    pts = landmarks - lo
    roi = image[lo[1] : hi[1], lo[0] : hi[0]]
    rh, rw = roi.shape[:2]
    scale = 16
    mouth = np.zeros((rh, rw), dtype=np.uint8)
    cv2.fillPoly(mouth, [np.round(pts[60:68] * scale).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    teeth_depth = min(0.07, 0.4 * opening) * iod_px * np.array([0.2, 0.85, 1.0, 0.85, 0.2])
    upper = np.stack([(pts[60] + pts[61]) / 2, *pts[61:64], (pts[63] + pts[64]) / 2])
    lower = upper + np.stack([np.zeros(5), teeth_depth], axis=1)
    teeth = np.zeros((rh, rw), dtype=np.uint8)
    cv2.fillPoly(
        teeth,
        [np.round(np.concatenate([upper, lower[::-1]]) * scale).astype(np.int32)],
        255,
        cv2.LINE_AA,
        shift=4,
    )
    sigma = max(0.4, 0.012 * iod_px)
    a_mouth = cv2.GaussianBlur(mouth.astype(np.float32) / 255, (0, 0), sigma) * strength
    a_teeth = cv2.GaussianBlur(teeth.astype(np.float32) / 255, (0, 0), sigma) * a_mouth
    # Teeth show in the middle of the mouth, not in its narrow corners.
    across = (np.arange(rw, dtype=np.float32) - pts[60, 0]) / max(pts[64, 0] - pts[60, 0], 1.0)
    a_teeth *= (smoothstep((across - 0.12) / 0.2) * smoothstep((0.88 - across) / 0.2)).astype(np.float32)[
        None, :
    ]
    lips = np.clip(np.round(landmarks[OUTER_MOUTH]).astype(int), 0, [w - 1, h - 1])
    lip_colour = image[lips[:, 1], lips[:, 0]].astype(np.float32).mean(axis=0)
    light = float(np.clip(lip_colour.mean() / 140.0, 0.5, 1.3))
    depth = cv2.GaussianBlur(mouth.astype(np.float32) / 255, (0, 0), max(1.0, 0.06 * iod_px))
    cavity = lip_colour[None, None, :] * (0.32 - 0.18 * depth[..., None])
    enamel = np.array([200.0, 190.0, 172.0], dtype=np.float32) * light
    out = roi.astype(np.float32)
    out = out * (1 - a_mouth[..., None]) + cavity * a_mouth[..., None]
    out = out * (1 - a_teeth[..., None]) + enamel * a_teeth[..., None]
    painted = image.copy()
    painted[lo[1] : hi[1], lo[0] : hi[0]] = np.clip(out, 0, 255).astype(np.uint8)
    return painted


def _light(image: np.ndarray, state: FrameState, centre_x: float, iod_px: float) -> np.ndarray:
    w = image.shape[1]
    ramp = 1.0 + state.light_gradient * (np.arange(w, dtype=np.float32) - centre_x) / iod_px
    gain = np.clip(state.light_gain * ramp, 0.4, 1.6)[None, :, None] * np.asarray(state.tint, np.float32)
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def render(portrait: Portrait, state: FrameState, view: View) -> Rendered:
    """``portrait`` showing ``state`` in ``view``: the frame and its ground-truth landmarks."""
    shape = face_shape(portrait, state)
    expression_only = portrait.landmarks + displacement(state.expression, state.intensity)
    brow_follow = _FOREHEAD_FOLLOW * (forehead(expression_only) - forehead(portrait.landmarks))
    turn = np.array([np.sin(np.radians(state.yaw)), -np.sin(np.radians(state.pitch))])
    src_face = np.concatenate([portrait.landmarks, forehead(portrait.landmarks), ring()])
    dst_face = np.concatenate(
        [shape, forehead(portrait.landmarks) + brow_follow + _FOREHEAD_DEPTH * turn, ring()]
    )
    to_out = view.matrix(state)
    border = _border(view)
    src = np.concatenate([to_master(src_face), to_master(geometry.apply(geometry.invert(to_out), border))])
    dst = np.concatenate([geometry.apply(to_out, dst_face), border])
    image = warp_piecewise_affine(portrait.image, src, dst, mesh_triangles(src), (view.width, view.height))
    landmarks = dst[:68]
    iod_px = view.iod * state.scale
    image = _paint_mouth(image, landmarks, mouth_opening(shape), iod_px)
    image = _light(image, state, float(to_out[0, 2]), iod_px)
    return Rendered(image=image, landmarks=landmarks.astype(np.float32))
