import numpy as np

from fercl_cli.sample.expressions import EXPRESSIONS
from fercl_cli.sample.motion import plan_clip, smoothstep, still_state


def _plan(seed: int, n: int = 150):
    return plan_clip(np.random.default_rng(seed), n, 25.0)


def test_plan_has_one_valid_state_per_frame():
    states = _plan(0)
    assert len(states) == 150
    for s in states:
        assert s.expression in EXPRESSIONS
        assert 0.0 <= s.intensity <= 1.0
        assert (s.expression == "neutral") == (s.intensity == 0.0)
        v, a = s.valence_arousal
        assert -1 <= v <= 1 and -1 <= a <= 1
        assert s.speech >= 0


def test_plan_shows_several_expressions_with_smooth_onsets():
    states = _plan(1, n=250)
    shown = {s.expression for s in states} - {"neutral"}
    assert len(shown) >= 3
    intensity = np.array([s.intensity for s in states])
    # No jumps: an onset of >= 0.3 s from 0 to <= 1 changes at most ~0.2 per frame at 25 fps.
    assert np.abs(np.diff(intensity)).max() < 0.2
    assert intensity.max() >= 0.65


def test_head_motion_and_light_drift_smoothly_within_bounds():
    states = _plan(2)
    yaw = np.array([s.yaw for s in states])
    gain = np.array([s.light_gain for s in states])
    assert np.abs(yaw).max() <= 14 and np.abs(np.diff(yaw)).max() < 2
    assert yaw.std() > 0.1 and gain.std() > 0.001
    assert all(0.95 <= t <= 1.05 for s in states for t in s.tint)


def test_plan_is_deterministic_per_seed():
    assert _plan(3) == _plan(3)
    assert _plan(3) != _plan(4)


def test_still_state_and_smoothstep():
    s = still_state(np.random.default_rng(0), "fear", 0.8)
    assert s.expression == "fear" and s.intensity == 0.8 and s.speech == 0.0
    np.testing.assert_allclose(smoothstep(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])), [0, 0, 0.5, 1, 1])
