"""Exercise plug-ins and automatic exercise detection.

Each plug-in is one module with an ``EXERCISE`` object (see
:class:`formcheck.exercises.base.Exercise`): its depth signal, rep rule,
fault checks and default thresholds. Auto-detection runs every plug-in's rep
segmentation and looks at the posture at the bottom of the reps it finds
(and at where the hands go right after):

* kettlebell swing: hands between the legs at the bottom, then floating up in
  front, well above the hips, as the hips open;
* deadlift: hands low at the bottom (wrists below about knee height);
* Romanian deadlift: hands low, but the knees nearly straight, the hips
  staying high and the weight stopping short of the floor;
* good morning: the load high (on the back or at the chest) while the hips
  fold and stay high, knees only softly bent;
* squat: the load high (or the arms forward) and the knees deeply bent;
* anything else (rows, walking, a clip without a hinge or squat) is
  ``"unknown"``.

When several plug-ins recognise their own reps, the one with more reps wins;
on a tie the conventional lifts (deadlift, squat) come first: when in doubt,
the common lift.
"""

from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np

from formcheck.exercises import deadlift, good_morning, kettlebell_swing, rdl, squat
from formcheck.exercises.base import Exercise
from formcheck.reps.counter import Rep, segment_reps

EXERCISES: dict[str, Exercise] = {
    e.name: e for e in (squat.EXERCISE, deadlift.EXERCISE, rdl.EXERCISE, good_morning.EXERCISE, kettlebell_swing.EXERCISE)
}

#: Accepted spellings on the command line and in labels.
ALIASES = {
    "romanian_deadlift": "rdl", "romanian": "rdl", "stiff_leg_deadlift": "rdl",
    "goodmorning": "good_morning", "swing": "kettlebell_swing", "kb_swing": "kettlebell_swing",
    "kettlebell_deadlift": "deadlift", "conventional_deadlift": "deadlift",
    "back_squat": "squat", "front_squat": "squat", "goblet_squat": "squat", "bodyweight_squat": "squat",
}

#: Wrist height (leg lengths above the ankles) below which hands count as "low".
HANDS_LOW = 0.45
#: Least hip flexion at the bottom of a hinge (deg).
HINGE_MIN_DEG = 50.0
#: Romanian deadlift: knees at most this bent at the bottom (deg), hips at least
#: this high (leg lengths), hands at least this high (the weight stays off the floor).
RDL_KNEE_MAX_DEG = 35.0
RDL_HIP_MIN = 0.8
RDL_WRIST_MIN = 0.36
#: Swing: after the bottom the hands float up to at least this far below the
#: shoulders (leg lengths; hanging arms are ≈ 0.6 below, a bell at chest height ≈ 0).
SWING_HANDS_BELOW_SHOULDERS = 0.15
#: Standing shoulders are at least this high (leg lengths): a sanity check of the top.
STANDING_SHOULDERS_MIN = 1.2
#: Good morning: hips stay at least this high (leg lengths), knees bend less than this.
GOOD_MORNING_HIP_MIN = 0.68
GOOD_MORNING_KNEE_MAX_DEG = 75.0
#: Squat: knees bent at least this much at the bottom (deg).
SQUAT_KNEE_MIN_DEG = 60.0
#: Looking ahead from a bottom for the top of the rep: standing again below this
#: hip flexion (deg), within this many frames, then a few frames more for the float.
TOP_HIP_FLEXION_DEG = 25.0
TOP_LOOKAHEAD_FRAMES = 90
FLOAT_FRAMES = 10

#: Order of preference on a tie.
_PREFERENCE = ("deadlift", "squat", "kettlebell_swing", "rdl", "good_morning")


def get_exercise(name: str) -> Exercise:
    """The plug-in called ``name`` (or one of its :data:`ALIASES`)."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    try:
        return EXERCISES[key]
    except KeyError:
        raise ValueError(f"unknown exercise {name!r}; choose from {', '.join(EXERCISES)} or auto") from None


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


def posture_vote(signals: Mapping[str, np.ndarray], frames: list[int]) -> str:
    """Which exercise the posture at these bottom frames (and just after) looks like."""
    if not frames:
        return "unknown"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN medians
        wrist, hip, knee, hip_flexion = (
            float(np.nanmedian(signals[k][frames])) for k in ("wrist_height", "hip_height", "knee_flexion", "hip_flexion")
        )
        tops = np.array([_top_after(signals, f) for f in frames])
        wrist_top, shoulder_top = (float(np.nanmedian(tops[:, i])) for i in range(2))
    if not np.isfinite([wrist, hip, knee, hip_flexion]).all():
        return "unknown"
    hinged = hip_flexion >= HINGE_MIN_DEG
    floated = np.isfinite(wrist_top) and shoulder_top >= STANDING_SHOULDERS_MIN and (
        wrist_top >= shoulder_top - SWING_HANDS_BELOW_SHOULDERS
    )
    if hinged and wrist < hip:  # hands below the hips: a swing, an RDL or a deadlift
        if floated:
            return "kettlebell_swing"
        if wrist >= RDL_WRIST_MIN and knee <= RDL_KNEE_MAX_DEG and hip >= RDL_HIP_MIN:
            return "rdl"
        if wrist < HANDS_LOW:
            return "deadlift"
    if wrist >= hip and hip_flexion >= 60 and hip >= GOOD_MORNING_HIP_MIN and knee < GOOD_MORNING_KNEE_MAX_DEG:
        return "good_morning"
    if wrist >= hip and knee >= SQUAT_KNEE_MIN_DEG:
        return "squat"
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
        best = max(agreeing, key=lambda name: (len(reps_by_exercise[name]), -_PREFERENCE.index(name)))
        return best, reps_by_exercise
    # No plug-in found a rep it recognises: judge the deepest posture in the clip.
    hip_flexion = signals["hip_flexion"]
    if np.isfinite(hip_flexion).any() and np.nanmax(hip_flexion) >= HINGE_MIN_DEG:
        deepest = int(np.nanargmax(hip_flexion))
        return posture_vote(signals, [deepest]), reps_by_exercise
    return "unknown", reps_by_exercise
