"""``squatted_start`` reads the set-up on the frames before the bar leaves the floor, where the
bar is followed, and withholds a squat-like trunk where the hips' (or thighs') height is
neither clearly low nor clearly high (issue 16).

Small synthetic signal arrays: one deadlift rep of 120 frames at 30 fps; the bar leaves the
floor at frame 46 and reaches lockout at frame 80.
"""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.exercises import EXERCISES
from formcheck.exercises.deadlift import check_squatted_start, lift_off, pull_start, set_up_frames
from formcheck.faults.core import NotJudged, RepContext
from formcheck.reps import Rep

N = 120
FPS = 30.0
SET, OFF, LOCKOUT, DOWN = 40, 46, 80, 100


def _piecewise(points: list[tuple[int, float]]) -> np.ndarray:
    """A signal eased between (frame, value) points, flat before the first and after the last."""
    out = np.full(N, points[0][1])
    for (a, va), (b, vb) in zip(points, points[1:]):
        out[a:b + 1] = va + (vb - va) * (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, b - a + 1)))
    out[points[-1][0]:] = points[-1][1]
    return out


BAR = _piecewise([(0, 0.225), (OFF - 2, 0.225), (OFF + 3, 0.3), (LOCKOUT, 0.75), (DOWN, 0.75), (N - 5, 0.225)])
#: The world-landmark hip height as the pose model read rendered lifters at the floor: falling
#: while the hips truly rise, so its lowest point comes after the bar has left the floor.
HIP_HEIGHT = _piecewise([(0, 0.5), (SET, 0.5), (SET + 12, 0.37), (LOCKOUT, 1.0), (DOWN, 1.0), (N - 5, 0.5)])


def _ctx(hips_at_bar: float, trunk_at_bar: float, bar: bool = True, thigh: float = 10.0) -> RepContext:
    """A rep set at the bar with the hips ``hips_at_bar`` plate radii above it and the trunk
    ``trunk_at_bar`` from vertical; both rise once the bar has left the floor."""
    rep = Rep(index=1, start=0, bottom=SET, end=N, phases={
        "setup": (0, SET), "bottom": (SET, SET + 1), "ascent": (SET + 1, LOCKOUT), "lockout": (LOCKOUT, DOWN),
        "descent": (DOWN, N)})
    hips = _piecewise([(0, hips_at_bar), (OFF, hips_at_bar), (OFF + 6, 2.6), (LOCKOUT, 4.0), (DOWN, 4.0)])
    trunk = _piecewise([(0, trunk_at_bar), (OFF, trunk_at_bar), (OFF + 6, 60.0), (LOCKOUT, 2.0), (DOWN, 2.0)])
    signals = {"trunk_inclination": trunk, "hip_height": HIP_HEIGHT, "thigh_angle": np.full(N, thigh),
               "knee_seen": np.zeros(N)}
    if bar:
        signals["bar_height"] = BAR
        signals["hip_above_plate"] = hips
    return RepContext(rep=rep, time_s=np.arange(N) / FPS, signals=signals, view="side",
                      thresholds=dict(EXERCISES["deadlift"].thresholds))


def test_the_set_up_is_read_just_before_the_bar_leaves_the_floor():
    ctx = _ctx(1.1, 35.0)
    off = lift_off(ctx)
    assert pull_start(ctx) > off  # the falling world hip height puts the hips' lowest point after the lift-off
    frames = set_up_frames(ctx)
    assert frames[-1] == off - 1 and len(frames) == 3
    fault = check_squatted_start(ctx)
    assert fault is not None and not isinstance(fault, NotJudged)
    assert fault.severity == "fault" and fault.value == pytest.approx(35.0)


@pytest.mark.parametrize(
    "hips, trunk, expected",
    [
        (2.2, 35.0, None),            # hips clearly high above the plate: not squatted, whatever the trunk
        (1.85, 60.0, None),           # hips unclear, trunk well inclined: a normal start
        (1.85, 35.0, "not judged"),   # hips unclear, trunk squat-like: withheld, not graded
        (1.1, 60.0, None),            # hips low but the back well inclined
        (1.1, 45.0, "caution"),
    ],
)
def test_squatted_start_from_the_hips_above_the_plate(hips, trunk, expected):
    result = check_squatted_start(_ctx(hips, trunk))
    if expected is None:
        assert result is None
    elif expected == "not judged":
        assert isinstance(result, NotJudged) and "plate radii" in result.reason and "1.9" in result.reason
    else:
        assert result is not None and not isinstance(result, NotJudged) and result.severity == expected


@pytest.mark.parametrize(
    "thigh, trunk, expected",
    [
        (10.0, 35.0, "fault"),        # no plate: a level thigh, seen, and an upright trunk
        (25.0, 35.0, "not judged"),   # thigh neither clearly level nor clearly sloping
        (25.0, 60.0, None),
        (40.0, 35.0, None),           # thigh clearly sloping: the hips are above the knees
    ],
)
def test_without_the_plate_the_thigh_decides(thigh, trunk, expected):
    ctx = _ctx(9.9, trunk, bar=False, thigh=thigh)
    ctx.signals["trunk_inclination"][:] = trunk  # read at the hips' lowest point (pull_start), after the lift-off
    result = check_squatted_start(ctx)
    if expected is None:
        assert result is None
    elif expected == "not judged":
        assert isinstance(result, NotJudged) and "thighs read 25°" in result.reason
    else:
        assert result is not None and not isinstance(result, NotJudged) and result.severity == expected
