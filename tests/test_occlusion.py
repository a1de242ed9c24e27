"""Occlusion-aware checks (issue 16): a joint the plate hides is never graded as if seen."""

import dataclasses
import functools

import numpy as np
import pytest

from formcheck.exercises import deadlift as dl
from formcheck.faults.core import NotJudged
from formcheck.faults.spine import check_lockout_hyperextension
from formcheck.measure.occlusion import (
    BEHIND_PLATE,
    OUT_OF_FRAME,
    SEEN,
    hidden_reason,
    landmark_status,
    plate_covers,
    seen_signals,
)
from formcheck.measure.signals import landmark_signals
from formcheck.pose import landmarks as lm
from test_spine import analyse, context, synthetic_track


def with_plate_on_hips(track, radius=40.0):
    """The track with a followed plate centred on the hips in every frame."""
    hips = track.xy[:, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=1)
    plate = np.column_stack([hips, np.full(len(track), radius), np.full(len(track), 0.9)]).astype(np.float32)
    return dataclasses.replace(track, plate=plate)


def test_landmark_status_codes():
    xy = np.array([[[100.0, 100.0], [700.0, 100.0], [300.0, 300.0], [50.0, 50.0]]])
    vis = np.array([[0.9, 0.9, 0.9, 0.2]])
    status = landmark_status(xy, vis, (640, 480), np.array([[310.0, 290.0]]), np.array([40.0]))
    assert status.tolist() == [[SEEN, OUT_OF_FRAME, BEHIND_PLATE, 1]]


def test_seen_signals_follow_the_plate():
    track = with_plate_on_hips(synthetic_track(0.0))
    signals = seen_signals(track)
    assert (signals["hip_seen"] == BEHIND_PLATE).all()
    assert (signals["shoulder_seen"] == SEEN).all()
    assert np.allclose(signals["hip_from_plate"], 0.0, atol=0.1)
    assert plate_covers(signals, "hip", np.arange(len(track)))
    assert not plate_covers(signals, "knee", np.arange(len(track)))
    assert hidden_reason(signals, ("hip",), np.arange(10)) == "the hips were behind the plate"
    # Without a plate nothing is behind one, and nothing is covered.
    bare = seen_signals(synthetic_track(0.0))
    assert not plate_covers(bare, "hip", np.arange(len(track)))
    assert np.isnan(bare["hip_above_plate"]).all()


def _lockout(track, lean_shift=None):
    smoothed, kin, reps, spine = analyse(track)
    kin.signals.update(landmark_signals(smoothed))  # the seen codes and plate distances, as the analysis adds them
    if lean_shift is not None:  # a second estimate of the hidden hip that disagrees with the model's
        spine = dataclasses.replace(spine, lean_deg=np.asarray(kin.signals["trunk_inclination"]) + lean_shift)
    return [check_lockout_hyperextension(context(kin, rep, spine)) for rep in reps]


def test_a_lean_back_seen_with_the_hips_behind_the_plate_is_still_flagged():
    leaning = with_plate_on_hips(synthetic_track(0.0, lockout_lean_back=18.0))
    results = _lockout(leaning)
    assert any(r is not None and not isinstance(r, NotJudged) and r.severity in ("caution", "fault") for r in results)
    assert any("the plate hid the hip" in r.message for r in results if r is not None and not isinstance(r, NotJudged))


def test_a_hidden_hip_whose_estimates_disagree_is_not_judged():
    leaning = with_plate_on_hips(synthetic_track(0.0, lockout_lean_back=18.0))
    results = _lockout(leaning, lean_shift=20.0)
    judged = [r for r in results if r is not None]
    assert judged and all(isinstance(r, NotJudged) for r in judged)
    assert all("plate hid the hips" in r.reason for r in judged)
    # The same disagreement without a plate over the hips: the model's hip is seen and graded.
    results = _lockout(synthetic_track(0.0, lockout_lean_back=18.0), lean_shift=20.0)
    assert any(r is not None and not isinstance(r, NotJudged) for r in results)


def test_the_smaller_lean_back_of_two_agreeing_estimates_is_graded():
    upright = with_plate_on_hips(synthetic_track(0.0))
    results = _lockout(upright, lean_shift=-6.0)  # the placed hip says 6° further back: within agreement
    assert all(r is None or isinstance(r, NotJudged) or r.value < 12.0 for r in results)


def _start_context(hip_above_plate=None, knee_code=SEEN, thigh=10.0):
    _, kin, reps, spine = analyse(synthetic_track(0.0))
    ctx = context(kin, reps[0], spine)
    signals = dict(kin.signals)
    n = len(kin.time_s)
    signals["hip_above_plate"] = np.full(n, np.nan if hip_above_plate is None else hip_above_plate)
    signals["knee_seen"] = np.full(n, float(knee_code))
    signals["thigh_angle"] = np.full(n, thigh)
    signals["trunk_inclination"] = np.where(np.isfinite(signals["trunk_inclination"]), 35.0, np.nan)
    return dataclasses.replace(ctx, signals=signals)


@pytest.mark.parametrize(
    "hips, knee, thigh, expected",
    [
        (2.1, SEEN, 10.0, None),               # the plate shows the hips high: not squatted, whatever the thigh reads
        (1.2, BEHIND_PLATE, 40.0, "fault"),    # hips low over the plate, knees hidden: judged from the hips
        (None, BEHIND_PLATE, 10.0, "not judged"),  # no plate followed and the knees hidden: never a guess
        (None, SEEN, 10.0, "fault"),           # knees seen, thigh level: judged as before
        (None, SEEN, 40.0, None),              # knees seen, hips well above them
    ],
)
def test_squatted_start_judges_only_what_is_seen(hips, knee, thigh, expected):
    result = dl.check_squatted_start(_start_context(hips, knee, thigh))
    if expected is None:
        assert result is None
    elif expected == "not judged":
        assert isinstance(result, NotJudged) and "knees" in result.reason and "start of the pull" in result.reason
    else:
        assert result is not None and not isinstance(result, NotJudged)
        assert result.code == "squatted_start" and result.severity == expected


@functools.lru_cache(maxsize=None)
def _analysed(lockout_lean_back, plate_on_hips):
    """The analysis of a synthetic set, with the seen codes and plate distances (shared by the tests below)."""
    track = synthetic_track(0.0, lockout_lean_back=lockout_lean_back)
    smoothed, kin, reps, spine = analyse(with_plate_on_hips(track) if plate_on_hips else track)
    kin.signals.update(landmark_signals(smoothed))
    return kin, reps, spine


def _lockout_with(lockout_lean_back, plate_on_hips, edit_spine=None, edit_lean=None):
    """The lockout verdict per rep after hiding part of what the analysis saw."""
    kin, reps, spine = _analysed(lockout_lean_back, plate_on_hips)
    signals = dict(kin.signals)
    lean = np.asarray(signals["trunk_inclination"], np.float64)
    if edit_spine is not None:
        spine = edit_spine(spine, lean)
    if edit_lean is not None:
        signals["trunk_inclination"] = edit_lean(lean.copy(), reps)
    return [check_lockout_hyperextension(dataclasses.replace(context(kin, rep, spine), signals=signals))
            for rep in reps]


def _outline_unseen_near_upright(spine, lean):
    """The back's outline lost at the top of every rep, the trunk within 25° of vertical (the plate over the hips)."""
    return dataclasses.replace(spine, assessable=spine.assessable & ~(np.abs(lean) < 25.0))


def test_a_lean_back_whose_outline_was_never_seen_is_not_judged_rather_than_passed():
    results = _lockout_with(18.0, plate_on_hips=True, edit_spine=_outline_unseen_near_upright)
    withheld = [r for r in results if isinstance(r, NotJudged)]
    assert withheld and all(not hasattr(r, "severity") for r in results if r is not None)
    assert all("the plate hid the hips at lockout" in r.reason and "°" not in r.reason for r in withheld)
    # An upright lifter with the same outline hidden is judged fine: nothing leaned back where it was unseen.
    assert all(r is None for r in _lockout_with(0.0, plate_on_hips=True, edit_spine=_outline_unseen_near_upright))


def _lost_over(share):
    """Drop the trunk line over the first ``share`` of each rep's top, the trunk within 25° of
    vertical (the lifter lost)."""
    def edit(lean, reps):
        for rep in reps:
            top = rep.start + np.flatnonzero(lean[rep.start : rep.end] < 25.0)
            lean[top[: int(round(share * len(top)))]] = np.nan
        return lean
    return edit


def test_a_lifter_lost_at_lockout_is_not_judged():
    results = _lockout_with(18.0, plate_on_hips=False, edit_lean=_lost_over(0.8))
    assert results and all(isinstance(r, NotJudged) and "lost from view at lockout" in r.reason for r in results)
    # Lost for a few frames only: the lean back around them is still graded.
    results = _lockout_with(18.0, plate_on_hips=False, edit_lean=_lost_over(0.2))
    assert any(r is not None and not isinstance(r, NotJudged) and r.severity in ("caution", "fault") for r in results)
