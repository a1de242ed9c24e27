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

from formcheck.exercises.hinge import top_down_hinge
from formcheck.faults.core import Threshold

EXERCISE = top_down_hinge(
    name="rdl",
    title="Romanian deadlift",
    knees_cue="Soft knees only: push your hips back, not down, and keep your shins nearly vertical.",
    hinge_cue="Push your hips further back until you feel the stretch in your hamstrings.",
    knees_too_bent=Threshold(caution=27.0, fault=40.0),
    variants=("barbell RDL", "dumbbell RDL", "kettlebell RDL"),
)
