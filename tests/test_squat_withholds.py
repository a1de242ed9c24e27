"""Squat checks withhold where what they need was not seen, and still grade where it was (issue 16).

Small synthetic signal arrays: one rep of 60 frames at 30 fps, standing for the
first and last 15 frames, the bottom in frames 25–35.
"""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.exercises import EXERCISES
from formcheck.exercises.squat import (
    check_excessive_forward_lean,
    check_heel_rise,
    check_shallow_depth,
    check_tempo,
)
from formcheck.faults.core import Fault, NotJudged, RepContext
from formcheck.measure.occlusion import BEHIND_PLATE, OUT_OF_FRAME
from formcheck.reps import Rep

N = 60
BOTTOM = (25, 35)


def _profile(top: float, bottom: float) -> np.ndarray:
    """A signal at ``top`` standing, easing to ``bottom`` at the bottom of the rep."""
    ramp = np.clip(np.minimum(np.arange(N) - 15, 45 - np.arange(N)) / 10.0, 0.0, 1.0)
    return top + (bottom - top) * ramp


def _signals(**changes) -> dict[str, np.ndarray]:
    signals = {
        "hip_height": _profile(1.0, 0.5),
        "hip_flexion": _profile(5.0, 110.0),
        "trunk_inclination": _profile(2.0, 30.0),
        "shin_angle": _profile(2.0, 28.0),
        "thigh_drop": _profile(85.0, -2.0),  # a squat just below parallel
        "thigh_length": _profile(1.0, 0.92),
        "heel_lift": np.zeros(N),
        "heel_height": np.zeros(N),
        "feet_x": np.full(N, 0.4),
        **{f"{joint}_seen": np.zeros(N) for joint in ("hip", "knee", "heel", "foot_index", "ankle")},
    }
    signals.update(changes)
    return signals


def _ctx(**changes) -> RepContext:
    rep = Rep(index=1, start=0, bottom=30, end=N, phases={
        "setup": (0, 15), "descent": (15, BOTTOM[0]), "bottom": BOTTOM, "ascent": (BOTTOM[1], 45), "lockout": (45, N)})
    return RepContext(rep=rep, time_s=np.arange(N) / 30.0, signals=_signals(**changes), view="side",
                      thresholds=dict(EXERCISES["squat"].thresholds), extra={"leg_length_m": 0.85})


def _hidden(code: int, frames=BOTTOM) -> np.ndarray:
    seen = np.zeros(N)
    seen[frames[0]:frames[1]] = code
    return seen


def test_a_shallow_squat_with_hips_and_knees_seen_is_graded():
    fault = check_shallow_depth(_ctx(thigh_drop=_profile(85.0, 25.0)))
    assert isinstance(fault, Fault) and fault.severity == "fault" and fault.value == pytest.approx(25.0, abs=0.5)
    assert check_shallow_depth(_ctx()) is None  # below parallel: fine


def test_depth_withholds_when_the_knees_are_hidden_at_the_bottom():
    verdict = check_shallow_depth(_ctx(thigh_drop=_profile(85.0, 20.0), knee_seen=_hidden(BEHIND_PLATE)))
    assert isinstance(verdict, NotJudged)
    assert "knees were behind the plate" in verdict.reason


def test_depth_withholds_when_the_thigh_points_at_the_camera():
    verdict = check_shallow_depth(_ctx(thigh_drop=_profile(85.0, 20.0), thigh_length=_profile(1.0, 0.4)))
    assert isinstance(verdict, NotJudged) and "toward the camera" in verdict.reason
    # The same reading with the thigh seen at 0.9 of its length is graded.
    assert isinstance(check_shallow_depth(_ctx(thigh_drop=_profile(85.0, 20.0), thigh_length=_profile(1.0, 0.9))), Fault)


@pytest.mark.parametrize("check", [check_shallow_depth, check_heel_rise, check_excessive_forward_lean, check_tempo])
def test_every_position_check_withholds_when_the_followed_feet_walk(check):
    walked = np.linspace(0.2, 1.8, N)  # 1.6 leg lengths across the picture: a passer-by, not a squatter
    verdict = check(_ctx(feet_x=walked, thigh_drop=_profile(85.0, 20.0), heel_lift=_profile(0.0, 0.1),
                         heel_height=_profile(0.0, 0.1), trunk_inclination=_profile(2.0, 70.0)))
    assert isinstance(verdict, NotJudged) and "walked" in verdict.reason


def test_a_heel_that_rises_is_graded_and_a_drifting_toe_alone_is_not():
    rise = _profile(0.0, 0.1)  # 0.1 leg lengths = 8.5 cm
    fault = check_heel_rise(_ctx(heel_lift=rise, heel_height=rise))
    assert isinstance(fault, Fault) and fault.value == pytest.approx(8.5, abs=0.5)
    # The toe landmark drifts down (heel above the toes in the image) but the heel itself stays put.
    assert check_heel_rise(_ctx(heel_lift=rise, heel_height=np.zeros(N))) is None


def test_heel_rise_withholds_when_the_heels_are_outside_the_picture():
    verdict = check_heel_rise(_ctx(heel_lift=_profile(0.0, 0.1), heel_height=_profile(0.0, 0.1),
                                   heel_seen=_hidden(OUT_OF_FRAME, (15, 45))))
    assert isinstance(verdict, NotJudged) and "heels were outside the picture" in verdict.reason


# ---------------------------------------------------------------- forward lean (trunk vs shins at depth)
def test_a_trunk_far_ahead_of_the_shins_at_depth_is_graded():
    fault = check_excessive_forward_lean(_ctx(trunk_inclination=_profile(2.0, 60.0)))
    assert isinstance(fault, Fault) and fault.code == "excessive_forward_lean" and fault.severity == "fault"
    assert fault.value == pytest.approx(32.0, abs=1.0)  # 60 − 28 at the bottom, standing 2 − 2
    assert check_excessive_forward_lean(_ctx()) is None  # trunk and shins parallel: fine


def test_forward_lean_waits_for_depth():
    """Above parallel every squat is hip-dominant: the finding is the depth, not the lean."""
    verdict = check_excessive_forward_lean(_ctx(trunk_inclination=_profile(2.0, 60.0), thigh_drop=_profile(85.0, 20.0)))
    assert isinstance(verdict, NotJudged) and "above parallel" in verdict.reason


def test_forward_lean_withholds_when_the_shin_reading_jumps():
    shin = _profile(2.0, 28.0)
    shin[28:31] = -110.0  # the knee landmark lands below the ankle for three frames
    verdict = check_excessive_forward_lean(_ctx(trunk_inclination=_profile(2.0, 60.0), shin_angle=shin))
    assert isinstance(verdict, NotJudged) and "jumped" in verdict.reason


def test_upright_shins_alone_do_not_make_a_forward_lean():
    """A trunk 33° from standing with near-vertical shins is an ordinary (e.g. low-bar) squat."""
    upright_shins = _profile(2.0, 4.0)
    assert check_excessive_forward_lean(_ctx(trunk_inclination=_profile(2.0, 35.0), shin_angle=upright_shins)) is None
    # The same shins with the trunk leaned 58° past standing are graded.
    fault = check_excessive_forward_lean(_ctx(trunk_inclination=_profile(2.0, 60.0), shin_angle=upright_shins))
    assert isinstance(fault, Fault) and fault.severity == "fault"


# ---------------------------------------------------------------- tempo (the way down, timed from the hips)
def test_a_one_frame_drop_of_the_hips_is_not_timed():
    """0.4 leg lengths between two frames (about 10 m/s) is the pose jumping, not a descent,
    even when the rest of the way down is slow enough to be timed (0.17 s, a fault otherwise)."""
    stepped = np.interp(np.arange(N), [0, 20, 21, 26, 35, 45, N - 1], [1.0, 1.0, 0.6, 0.5, 0.5, 1.0, 1.0])
    verdict = check_tempo(_ctx(hip_height=stepped))
    assert isinstance(verdict, NotJudged) and "hips jumped" in verdict.reason


def test_a_fast_but_continuous_descent_is_timed():
    fast = np.interp(np.arange(N), [0, 19, 25, 35, 45, N - 1], [1.0, 1.0, 0.5, 0.5, 1.0, 1.0])  # 0.2 s down, 2.1 m/s
    fault = check_tempo(_ctx(hip_height=fast))
    assert isinstance(fault, Fault) and fault.code == "tempo" and fault.value < 0.3
