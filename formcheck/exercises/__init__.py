"""Exercise plug-ins and automatic exercise detection.

Each plug-in is one module with an ``EXERCISE`` object (see
:class:`formcheck.exercises.base.Exercise`). Auto-detection tries each
plug-in's rep segmentation and looks at the posture at the bottom of the reps
it finds:

* deadlift: hands low at the bottom (wrists below about knee height);
* squat: hands at or above the hips at the bottom and knees clearly bent;
* anything else (rows, swings, walking, a clip without a hinge or squat) is
  ``"unknown"``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from formcheck.exercises import deadlift, squat
from formcheck.exercises.base import Exercise
from formcheck.reps import Rep, segment_reps

EXERCISES: dict[str, Exercise] = {e.name: e for e in (squat.EXERCISE, deadlift.EXERCISE)}

#: Wrist height (leg lengths above the ankles) below which hands count as "low".
HANDS_LOW = 0.45


def get_exercise(name: str) -> Exercise:
    try:
        return EXERCISES[name]
    except KeyError:
        raise ValueError(f"unknown exercise {name!r}; choose from {', '.join(EXERCISES)} or auto") from None


def posture_vote(signals: Mapping[str, np.ndarray], frames: list[int]) -> str:
    if not frames:
        return "unknown"
    wrist = np.nanmedian(signals["wrist_height"][frames])
    hip = np.nanmedian(signals["hip_height"][frames])
    knee = np.nanmedian(signals["knee_flexion"][frames])
    hip_flexion = np.nanmedian(signals["hip_flexion"][frames])
    if not np.isfinite([wrist, hip, knee, hip_flexion]).all():
        return "unknown"
    if wrist < HANDS_LOW and hip_flexion >= 50:
        return "deadlift"
    if wrist >= hip and knee >= 60:
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
    if len(agreeing) == 1:
        return agreeing[0], reps_by_exercise
    if len(agreeing) > 1:
        best = max(agreeing, key=lambda name: len(reps_by_exercise[name]))
        return best, reps_by_exercise
    # No plug-in found a rep it recognises: judge the deepest posture in the clip.
    hip_flexion = signals["hip_flexion"]
    if np.isfinite(hip_flexion).any() and np.nanmax(hip_flexion) >= 50:
        deepest = int(np.nanargmax(hip_flexion))
        return posture_vote(signals, [deepest]), reps_by_exercise
    return "unknown", reps_by_exercise
