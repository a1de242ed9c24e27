"""``hips_rise_early`` reads the trunk from the end of the still set-up, where the bar is
followed, and withholds where the trunk line was lost or jumped (issue 16).

Small synthetic signal arrays: one deadlift rep of 120 frames at 30 fps. The
lifter is set at the bar (trunk 70° from vertical) until frame 40; the bar
leaves the floor at frame 46 and reaches lockout at frame 80.
"""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.exercises import EXERCISES
from formcheck.exercises.deadlift import check_hips_rise_early, early_pull, lift_off, tipping_start
from formcheck.faults.core import Fault, NotJudged, RepContext
from formcheck.reps import Rep

N = 120
FPS = 30.0
SET, OFF, LOCKOUT, DOWN = 40, 46, 80, 100


def _ease(n: int) -> np.ndarray:
    """0 → 1 over ``n`` frames, smooth at both ends (a body's turn, no jumps)."""
    return 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))


def _piecewise(points: list[tuple[int, float]]) -> np.ndarray:
    """A signal eased between (frame, value) points, flat before the first and after the last."""
    out = np.full(N, points[0][1])
    for (a, va), (b, vb) in zip(points, points[1:]):
        out[a:b + 1] = va + (vb - va) * _ease(b - a + 1)
    out[points[-1][0]:] = points[-1][1]
    return out


BAR = _piecewise([(0, 0.225), (OFF - 2, 0.225), (OFF + 3, 0.3), (LOCKOUT, 0.75), (DOWN, 0.75), (N - 5, 0.225)])
#: The trunk turns 20° toward horizontal in 0.2 s while the bar is still on the floor (the hips shoot up).
HIPS_FIRST = _piecewise([(0, 70.0), (SET, 70.0), (SET + 6, 90.0), (SET + 12, 90.0), (LOCKOUT, 2.0), (DOWN, 2.0), (N - 5, 70.0)])
#: Chest and hips rise together: the trunk only rises toward vertical.
TOGETHER = _piecewise([(0, 70.0), (OFF, 70.0), (LOCKOUT, 2.0), (DOWN, 2.0), (N - 5, 70.0)])
#: Still hinging down to the bar when it leaves the floor (a dynamic start): never still.
DYNAMIC = _piecewise([(0, 10.0), (OFF + 1, 75.0), (LOCKOUT, 2.0), (DOWN, 2.0), (N - 5, 70.0)])


#: The hips' height from the pose model's world landmarks (leg lengths), as it read rendered
#: lifters whose hips shot up: falling while the knees straightened, so the hips' lowest point
#: came after the trunk had tipped.
HIP_HEIGHT = _piecewise([(0, 0.5), (SET, 0.5), (SET + 12, 0.37), (LOCKOUT, 1.0), (DOWN, 1.0), (N - 5, 0.5)])


def _ctx(trunk: np.ndarray, bar: np.ndarray | None = BAR) -> RepContext:
    rep = Rep(index=1, start=0, bottom=SET, end=N, phases={
        "setup": (0, SET), "bottom": (SET, SET + 1), "ascent": (SET + 1, LOCKOUT), "lockout": (LOCKOUT, DOWN),
        "descent": (DOWN, N)})
    signals = {"trunk_inclination": np.asarray(trunk, np.float64), "hip_height": HIP_HEIGHT}
    if bar is not None:
        signals["bar_height"] = bar
    return RepContext(rep=rep, time_s=np.arange(N) / FPS, signals=signals, view="side",
                      thresholds=dict(EXERCISES["deadlift"].thresholds))


def test_the_window_starts_where_the_trunk_began_to_tip_before_the_bar_left_the_floor():
    ctx = _ctx(HIPS_FIRST)
    off = lift_off(ctx)
    assert OFF - 1 <= off <= OFF + 2
    window = early_pull(ctx, 0.4)
    assert SET - 1 <= window.start <= SET + 1  # the still set-up ends, not where the bar leaves
    assert window.stop == off + round(0.4 * (LOCKOUT - off))


def test_hips_shooting_up_with_the_bar_on_the_floor_is_a_fault():
    fault = check_hips_rise_early(_ctx(HIPS_FIRST))
    assert isinstance(fault, Fault) and fault.severity == "fault"
    assert fault.value == pytest.approx(20.0, abs=1.0)


def test_chest_and_hips_rising_together_is_fine():
    assert check_hips_rise_early(_ctx(TOGETHER)) is None


def test_hinging_down_straight_into_the_pull_is_not_read_as_hips_rising():
    # The trunk tips 65° in the 1.2 s before the bar leaves, but it was never still at the bar:
    # only what it did after the bar left the floor counts (here: nothing).
    assert tipping_start(DYNAMIC, np.arange(N) / FPS, OFF, 0) == OFF
    assert check_hips_rise_early(_ctx(DYNAMIC)) is None


def test_a_trunk_line_that_jumps_is_not_judged():
    trunk = HIPS_FIRST.copy()
    trunk[SET + 8] -= 25.0  # the shoulders and hips swapped for a frame
    verdict = check_hips_rise_early(_ctx(trunk))
    assert isinstance(verdict, NotJudged) and "jumped" in verdict.reason


def test_a_lifter_lost_from_view_as_the_bar_leaves_is_not_judged():
    trunk = HIPS_FIRST.copy()
    trunk[SET + 3:LOCKOUT] = np.nan
    verdict = check_hips_rise_early(_ctx(trunk))
    assert isinstance(verdict, NotJudged) and "lost from view" in verdict.reason


def test_without_the_bar_the_hips_say_where_the_pull_starts():
    ctx = _ctx(HIPS_FIRST, bar=None)
    assert lift_off(ctx) == -1
    window = early_pull(ctx, 0.4)
    assert window.start >= SET + 12  # from the hips' lowest point (pull_start), not from the bar
    assert check_hips_rise_early(_ctx(TOGETHER, bar=None)) is None


def test_a_back_lost_while_it_still_tipped_forward_is_not_judged():
    # Seen over most of the early pull, but lost at 82° while still tipping: how far it went is unknown.
    trunk = _piecewise([(0, 70.0), (SET, 70.0), (SET + 16, 90.0), (SET + 20, 90.0), (LOCKOUT, 2.0), (DOWN, 2.0),
                        (N - 5, 70.0)])
    trunk[SET + 13:LOCKOUT] = np.nan
    verdict = check_hips_rise_early(_ctx(trunk))
    assert isinstance(verdict, NotJudged) and "tipped forward" in verdict.reason
    # Lost only after it had stopped tipping: judged from what was seen.
    trunk = HIPS_FIRST.copy()
    trunk[SET + 14:LOCKOUT] = np.nan
    assert isinstance(check_hips_rise_early(_ctx(trunk)), Fault)
