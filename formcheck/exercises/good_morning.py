"""Good morning plug-in (barbell on the back, kettlebell or plate at the chest, bodyweight).

Depth signal: the landmark hip angle (hip flexion), 0 at 10° (standing) to 1
at 70°. A rep is top → bottom → top with the load held high (on the back or
at the chest), which is what tells it from a Romanian deadlift.

Faults (cue priority; all relative to the lifter's standing frames)
------
``lumbar_flexion``  from the spine estimate (side view): the lower back rounds
    while the trunk is inclined.
``knees_too_bent``  side view: the knees bend well beyond standing at the
    bottom, so the hinge became a squat (degrees of extra knee flexion).
``insufficient_hinge``  the hips fold too little: hip flexion reached beyond
    standing (degrees; lower is worse).
``tempo``  the lowering took less than the threshold (seconds).
"""

from __future__ import annotations

from formcheck.exercises.hinge import top_down_hinge
from formcheck.faults import Threshold

EXERCISE = top_down_hinge(
    name="good_morning",
    title="Good morning",
    knees_cue="Keep a soft, fixed knee bend and send your hips back: it's a bow, not a squat.",
    hinge_cue="Bow further: hips back until your chest is near parallel to the floor, back flat.",
    knees_too_bent=Threshold(caution=22.0, fault=35.0),
    variants=("barbell good morning", "kettlebell good morning", "bodyweight good morning"),
)
