"""Automatic exercise detection.

Every registered plug-in segments the clip into its own reps; the posture at
the bottom of those reps (and where the hands go right after) is then put to
the plug-ins in their ``recognise_order``, and the first that recognises it
gets the vote. A plug-in whose own reps vote for itself *agrees*; of those,
the one with more reps wins, and on a tie the lowest ``preference`` (the
common lifts first: when in doubt, the common lift). The postures each
built-in plug-in recognises:

* kettlebell swing: hands between the legs at the bottom, then floating up in
  front, well above the hips, as the hips open;
* Romanian deadlift: hands low, but the knees nearly straight, the hips
  staying high and the weight stopping short of the floor;
* deadlift: hands low at the bottom (wrists below about knee height);
* good morning: the load high (on the back or at the chest) while the hips
  fold and stay high, knees only softly bent;
* squat: the load high (or the arms forward) and the knees deeply bent;
* anything else (rows, walking, a clip without a hinge or squat) is
  ``"unknown"``.
"""

from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np

from formcheck.exercises.base import HINGE_MIN_DEG, Posture
from formcheck.exercises.registry import EXERCISES, by_recognise_order
from formcheck.reps import Rep, segment_reps

#: Looking ahead from a bottom for the top of the rep: standing again below this
#: hip flexion (deg), within this many frames, then a few frames more for the float.
TOP_HIP_FLEXION_DEG = 25.0
TOP_LOOKAHEAD_FRAMES = 90
FLOAT_FRAMES = 10


def _top_after(signals: Mapping[str, np.ndarray], bottom: int) -> tuple[float, float]:
    """Highest wrist and the shoulder height once the lifter stands after
    ``bottom`` (NaN if the lifter does not stand up within the look-ahead)."""
    hip_flexion = signals["hip_flexion"]
    stop = min(len(hip_flexion), bottom + TOP_LOOKAHEAD_FRAMES)
    with np.errstate(invalid="ignore"):
        upright = np.flatnonzero(hip_flexion[bottom:stop] < TOP_HIP_FLEXION_DEG)
    if len(upright) == 0:
        return float("nan"), float("nan")
    top = bottom + int(upright[0])
    window = slice(bottom, min(len(hip_flexion), top + FLOAT_FRAMES))
    wrist, shoulder = signals["wrist_height"][window], signals["shoulder_height"][window]
    if not (np.isfinite(wrist).any() and np.isfinite(shoulder).any()):
        return float("nan"), float("nan")
    return float(np.nanmax(wrist)), float(np.nanmax(shoulder))


def posture_at(signals: Mapping[str, np.ndarray], frames: list[int]) -> Posture | None:
    """The median posture at these bottom frames (None when not measurable)."""
    if not frames:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN medians
        wrist, hip, knee, hip_flexion = (
            float(np.nanmedian(signals[k][frames])) for k in ("wrist_height", "hip_height", "knee_flexion", "hip_flexion")
        )
        tops = np.array([_top_after(signals, f) for f in frames])
        wrist_top, shoulder_top = (float(np.nanmedian(tops[:, i])) for i in range(2))
        bar_rise, bar_low = _bar_at(signals.get("bar_height"), frames)
    if not np.isfinite([wrist, hip, knee, hip_flexion]).all():
        return None
    return Posture(wrist, hip, knee, hip_flexion, wrist_top, shoulder_top, bar_rise, bar_low)


#: The bar is "at its lowest" within this of the lowest it goes (m).
BAR_LOW_M = 0.03


def _bar_at(height: np.ndarray | None, frames: list[int]) -> tuple[float, float]:
    """The followed bar's height at these frames above the lowest it goes (m), and the
    share of frames it spends at that level (NaN, NaN without a bar)."""
    if height is None or not np.isfinite(height).any():
        return float("nan"), float("nan")
    lowest = float(np.nanmin(height))
    with np.errstate(invalid="ignore"):
        low_share = float(np.mean(height <= lowest + BAR_LOW_M))
    return float(np.nanmedian(height[frames]) - lowest), low_share


def posture_vote(signals: Mapping[str, np.ndarray], frames: list[int]) -> str:
    """Which exercise the posture at these bottom frames (and just after) looks like."""
    posture = posture_at(signals, frames)
    if posture is None:
        return "unknown"
    for exercise in by_recognise_order():
        if exercise.recognise is not None and exercise.recognise(posture):
            return exercise.name
    return "unknown"


def detect_exercise(time_s: np.ndarray, signals: Mapping[str, np.ndarray]) -> tuple[str, dict[str, list[Rep]]]:
    """Pick the exercise whose reps and bottom posture fit the clip.

    Returns
    -------
    name : str
        An exercise name or ``"unknown"``.
    reps_by_exercise : dict
        The reps each plug-in found (reused by the caller).
    """
    reps_by_exercise = {
        name: segment_reps(time_s, exercise.depth(signals), exercise.rule) for name, exercise in EXERCISES.items()
    }
    votes = {name: posture_vote(signals, [r.bottom for r in reps]) for name, reps in reps_by_exercise.items()}
    agreeing = [name for name, vote in votes.items() if vote == name and reps_by_exercise[name]]
    if agreeing:
        best = max(agreeing, key=lambda name: (len(reps_by_exercise[name]), -EXERCISES[name].preference))
        return best, reps_by_exercise
    # No plug-in found a rep it recognises: judge the deepest posture in the clip.
    hip_flexion = signals["hip_flexion"]
    if np.isfinite(hip_flexion).any() and np.nanmax(hip_flexion) >= HINGE_MIN_DEG:
        deepest = int(np.nanargmax(hip_flexion))
        return posture_vote(signals, [deepest]), reps_by_exercise
    return "unknown", reps_by_exercise
