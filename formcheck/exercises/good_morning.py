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

from formcheck.exercises.base import SIDE, SIDE_OR_OBLIQUE, Exercise, hinge_depth, make_tempo_check
from formcheck.exercises.hinge import hinge_metrics, make_insufficient_hinge_check, make_knees_too_bent_check
from formcheck.faults import Threshold
from formcheck.reps import RepRule
from formcheck.spine import SPINE_THRESHOLDS, check_lumbar_flexion

TOP_HIP_FLEXION_DEG = 10.0
BOTTOM_HIP_FLEXION_DEG = 70.0


def depth(signals):
    return hinge_depth(signals, TOP_HIP_FLEXION_DEG, BOTTOM_HIP_FLEXION_DEG)


EXERCISE = Exercise(
    name="good_morning",
    title="Good morning",
    rule=RepRule(style="up_down_up", enter=0.55, exit=0.25, min_rep_s=0.8),
    depth=depth,
    checks=(  # priority order for the one cue per rep: the spine first
        ("lumbar_flexion", check_lumbar_flexion),
        ("knees_too_bent", make_knees_too_bent_check(
            "Keep a soft, fixed knee bend and send your hips back: it's a bow, not a squat.")),
        ("insufficient_hinge", make_insufficient_hinge_check(
            "Bow further: hips back until your chest is near parallel to the floor, back flat.")),
        ("tempo", make_tempo_check(
            depth, "up_down_up", cue="Lower slowly: take about two seconds on the way down.", what="the lowering")),
    ),
    thresholds={
        "lumbar_flexion": SPINE_THRESHOLDS["lumbar_flexion"],
        "knees_too_bent": Threshold(caution=22.0, fault=35.0),
        "insufficient_hinge": Threshold(caution=72.0, fault=60.0, higher_is_worse=False),
        "tempo": Threshold(caution=0.6, fault=0.4, higher_is_worse=False),
    },
    metrics=hinge_metrics,
    views={"knees_too_bent": SIDE, "insufficient_hinge": SIDE_OR_OBLIQUE},
    variants=("barbell good morning", "kettlebell good morning", "bodyweight good morning"),
)
