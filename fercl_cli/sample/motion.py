"""What happens in a clip over time: expression events, speech, head motion and lighting drift.

Every quantity is a smooth function of time drawn from a seeded generator. Expression events ramp up
(onset), hold (apex) and ramp down (offset) with smoothstep curves between neutral gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercl_cli.sample.expressions import EXPRESSIONS, valence_arousal


@dataclass(frozen=True)
class FrameState:
    """Everything that sets one rendered face.

    Attributes:
        expression: the expression being shown (``"neutral"`` between events).
        intensity: in [0, 1]; 0 is the rest face.
        speech: mouth opening from talking, IOD units (>= 0).
        yaw, pitch: head turn in degrees (faked with landmark depths; positive yaw turns the face
            towards the image right, positive pitch tilts it up).
        roll: in-plane rotation in degrees (positive = counter-clockwise on screen).
        scale: face size relative to the view's nominal size.
        shift_x, shift_y: translation of the face in IOD units.
        light_gain: overall brightness factor.
        light_gradient: left-to-right brightness slope across the face (fraction per IOD).
        tint: float [3] per-channel (RGB) colour factors.
    """

    expression: str
    intensity: float
    speech: float
    yaw: float
    pitch: float
    roll: float
    scale: float
    shift_x: float
    shift_y: float
    light_gain: float
    light_gradient: float
    tint: tuple[float, float, float]

    @property
    def valence_arousal(self) -> tuple[float, float]:
        """``(valence, arousal)`` of the shown expression at its intensity."""
        return valence_arousal(self.expression, self.intensity)


NEUTRAL_STATE = FrameState("neutral", 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, (1.0, 1.0, 1.0))


def smoothstep(x: np.ndarray | float) -> np.ndarray:
    """Hermite ramp 3x² − 2x³ of ``x`` clipped to [0, 1] (0 below 0, 1 above 1), elementwise."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _drift(
    rng: np.random.Generator, t: np.ndarray, amplitude: float, period: tuple[float, float]
) -> np.ndarray:
    """A smooth zero-mean wobble: the sum of three sinusoids with random periods (s) and phases."""
    out = np.zeros_like(t)
    for weight in (0.6, 0.3, 0.1):
        p = rng.uniform(*period)
        out += weight * np.sin(2 * np.pi * t / p + rng.uniform(0, 2 * np.pi))
    return amplitude * out


def _events(
    rng: np.random.Generator, n_frames: int, fps: float, order: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame expression names and intensities for a sequence of onset-apex-offset events."""
    names = np.full(n_frames, "neutral", dtype=object)
    intensity = np.zeros(n_frames)
    t = rng.uniform(0.2, 0.6)
    duration = n_frames / fps
    k = 0
    while t < duration - 0.8:
        onset, apex, offset = rng.uniform(0.3, 0.6), rng.uniform(0.5, 1.4), rng.uniform(0.3, 0.6)
        peak = rng.uniform(0.65, 1.0)
        start, end = t, min(t + onset + apex + offset, duration)
        frames = np.arange(int(np.ceil(start * fps)), min(n_frames, int(np.ceil(end * fps))))
        ts = frames / fps
        rise = smoothstep((ts - start) / onset)
        fall = smoothstep((start + onset + apex + offset - ts) / offset)
        names[frames] = order[k % len(order)]
        intensity[frames] = peak * np.minimum(rise, fall)
        k += 1
        t = end + rng.uniform(0.2, 0.7)
    names[intensity <= 0.0] = "neutral"
    return names, intensity


def speech_track(rng: np.random.Generator, t: np.ndarray, opening: tuple[float, float]) -> np.ndarray:
    """Mouth opening from talking at times ``t`` (s), IOD units, float [n]: syllables at 3–5 Hz while
    talking comes and goes, peak opening drawn from ``opening`` (min, max)."""
    syllable = rng.uniform(3.0, 5.0)
    talking = smoothstep(0.5 + _drift(rng, t, 1.2, (1.5, 4.0)))  # speech comes and goes
    return (
        rng.uniform(*opening) * talking * np.clip(np.sin(2 * np.pi * syllable * t + rng.uniform(0, 6)), 0, 1)
    )


@dataclass(frozen=True)
class HeadMotion:
    """Per-frame head pose, float [n] each: ``yaw``, ``pitch``, ``roll`` in degrees, ``scale`` relative to
    the nominal size, ``shift_x``, ``shift_y`` in IOD units (see :class:`FrameState`)."""

    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    scale: np.ndarray
    shift_x: np.ndarray
    shift_y: np.ndarray


def head_motion(rng: np.random.Generator, t: np.ndarray, shift: tuple[float, float]) -> HeadMotion:
    """Smooth head drift at times ``t`` (s): yaw amplitude 6–14°, pitch 3–7°, roll 2–6°, scale ±0.04, and
    shift amplitudes ``shift`` (x, y) in IOD units."""
    return HeadMotion(
        yaw=_drift(rng, t, rng.uniform(6, 14), (2.0, 6.0)),
        pitch=_drift(rng, t, rng.uniform(3, 7), (2.0, 6.0)),
        roll=_drift(rng, t, rng.uniform(2, 6), (2.5, 7.0)),
        scale=1.0 + _drift(rng, t, 0.04, (3.0, 8.0)),
        shift_x=_drift(rng, t, shift[0], (2.5, 7.0)),
        shift_y=_drift(rng, t, shift[1], (2.5, 7.0)),
    )


def frame_states(
    names: np.ndarray,
    intensity: np.ndarray,
    speech: np.ndarray,
    head: HeadMotion,
    gain: np.ndarray,
    gradient: np.ndarray,
    tint: np.ndarray,
) -> list[FrameState]:
    """One :class:`FrameState` per frame from per-frame arrays [n] (``tint``: float [3], every frame)."""
    rgb = (float(tint[0]), float(tint[1]), float(tint[2]))
    return [
        FrameState(
            expression=str(names[i]),
            intensity=float(intensity[i]),
            speech=float(speech[i]),
            yaw=float(head.yaw[i]),
            pitch=float(head.pitch[i]),
            roll=float(head.roll[i]),
            scale=float(head.scale[i]),
            shift_x=float(head.shift_x[i]),
            shift_y=float(head.shift_y[i]),
            light_gain=float(gain[i]),
            light_gradient=float(gradient[i]),
            tint=rgb,
        )
        for i in range(len(names))
    ]


def plan_clip(rng: np.random.Generator, n_frames: int, fps: float) -> list[FrameState]:
    """The states of ``n_frames`` consecutive frames at ``fps`` (one clip), all drawn from ``rng``."""
    if n_frames < 1:
        raise ValueError(f"a clip needs at least one frame, got {n_frames}")
    t = np.arange(n_frames) / fps
    order = list(rng.permutation([e for e in EXPRESSIONS if e != "neutral"]))
    names, intensity = _events(rng, n_frames, fps, order)
    speech = speech_track(rng, t, (0.04, 0.08))
    head = head_motion(rng, t, (0.12, 0.08))
    gain = rng.uniform(0.9, 1.05) + _drift(rng, t, 0.1, (3.0, 9.0))
    gradient = _drift(rng, t, 0.15, (3.0, 9.0))
    return frame_states(names, intensity, speech, head, gain, gradient, rng.uniform(0.95, 1.05, size=3))


def still_state(rng: np.random.Generator, expression: str, intensity: float) -> FrameState:
    """One still photo's state: ``expression`` at ``intensity`` with a random pose and light."""
    return FrameState(
        expression=expression,
        intensity=float(intensity),
        speech=0.0,
        yaw=float(rng.uniform(-14, 14)),
        pitch=float(rng.uniform(-7, 7)),
        roll=float(rng.uniform(-7, 7)),
        scale=float(rng.uniform(0.94, 1.06)),
        shift_x=float(rng.uniform(-0.1, 0.1)),
        shift_y=float(rng.uniform(-0.08, 0.08)),
        light_gain=float(rng.uniform(0.85, 1.1)),
        light_gradient=float(rng.uniform(-0.2, 0.2)),
        tint=tuple(float(v) for v in rng.uniform(0.94, 1.06, size=3)),
    )
