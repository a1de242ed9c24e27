"""Good morning plug-in (barbell on the back, kettlebell or plate at the chest, bodyweight).

Depth signal: the landmark hip angle (hip flexion), 0 at 10° (standing) to 1
at 70°. A rep is top → bottom → top with the load held high (on the back or
at the chest), which is what tells it from a Romanian deadlift.

Faults: those of every top-down hinge, ``lumbar_flexion``, ``knees_too_bent``,
``insufficient_hinge`` and ``tempo`` (see
:func:`formcheck.exercises.hinge.top_down_hinge`); this file sets the cues
and how much knee bend turns the hinge into a squat.
"""

from __future__ import annotations

from formcheck.exercises.base import Posture
from formcheck.exercises.hinge import top_down_hinge
from formcheck.faults.core import Threshold

#: Recognition: the load high (wrists at or above the hips) while the hips fold
#: at least 60° and stay at least this high (leg lengths), knees bent less than this (deg).
GOOD_MORNING_HIP_MIN = 0.68
GOOD_MORNING_KNEE_MAX_DEG = 75.0


def recognise(p: Posture) -> bool:
    return (p.wrist >= p.hip and p.hip_flexion >= 60 and p.hip >= GOOD_MORNING_HIP_MIN
            and p.knee_flexion < GOOD_MORNING_KNEE_MAX_DEG)


EXERCISE = top_down_hinge(
    name="good_morning",
    title="Good morning",
    knees_cue="Keep a soft, fixed knee bend and send your hips back: it's a bow, not a squat.",
    hinge_cue="Bow further: hips back until your chest is near parallel to the floor, back flat.",
    knees_too_bent=Threshold(caution=22.0, fault=35.0),
    variants=("barbell good morning", "kettlebell good morning", "bodyweight good morning"),
    aliases=("goodmorning",),
    label_words=("good morning",),
    recognise=recognise,
    recognise_order=40,
    preference=5,
)
