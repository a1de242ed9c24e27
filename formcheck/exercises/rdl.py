"""Romanian deadlift plug-in (barbell, dumbbells, kettlebell).

Depth signal: the landmark hip angle (hip flexion), 0 at 10° (standing) to 1
at 70°. A rep starts standing with the weight in the hands: top → bottom →
top, the weight never resting on the floor (that would be a deadlift).

Faults: those of every top-down hinge, ``lumbar_flexion``, ``knees_too_bent``,
``insufficient_hinge`` and ``tempo`` (see
:func:`formcheck.exercises.hinge.top_down_hinge`); this file sets the cues
and how much knee bend turns the hinge into a squat.
"""

from __future__ import annotations

from formcheck.exercises.base import Posture
from formcheck.exercises.hinge import top_down_hinge
from formcheck.faults.core import Threshold

#: Recognition: a hinge with the hands below the hips, the knees at most this bent
#: at the bottom (deg), the hips at least this high and the hands at least this
#: high (leg lengths): the weight stays off the floor.
RDL_KNEE_MAX_DEG = 35.0
RDL_HIP_MIN = 0.8
RDL_WRIST_MIN = 0.36


def recognise(p: Posture) -> bool:
    if p.bar_from_floor:  # a followed bar back on the floor at the bottom: a deadlift
        return False
    return (p.hinged and p.hands_below_hips and p.wrist >= RDL_WRIST_MIN and p.knee_flexion <= RDL_KNEE_MAX_DEG
            and p.hip >= RDL_HIP_MIN)


EXERCISE = top_down_hinge(
    name="rdl",
    title="Romanian deadlift",
    knees_cue="Soft knees only: push your hips back, not down, and keep your shins nearly vertical.",
    hinge_cue="Push your hips further back until you feel the stretch in your hamstrings.",
    knees_too_bent=Threshold(caution=27.0, fault=40.0),
    variants=("barbell RDL", "dumbbell RDL", "kettlebell RDL"),
    aliases=("romanian_deadlift", "romanian", "stiff_leg_deadlift"),
    short_title="RDL",
    label_words=("romanian", "rdl"),
    recognise=recognise,
    recognise_order=20,
    preference=4,
)
