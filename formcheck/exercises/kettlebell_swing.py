"""Kettlebell swing plug-in (two-handed Russian and American swings).

Depth signal: the landmark hip angle (hip flexion), 0 at 10° (standing tall)
to 1 at 70° (the hike between the legs). A rep is top → bottom → top, about a
second or two long; the bell floats up in front at the top, which is what
tells it from a deadlift.

Faults (cue priority; all relative to the lifter's standing frames)
------
``lumbar_flexion``  from the spine estimate (side view): the lower back rounds
    at the bottom of the swing (held only ``HOLD_S``: the bottom is brief).
``lumbar_hyperextension``  side view: the lifter leans back at the top
    instead of standing tall (degrees behind the quiet standing before the
    set, held ``HOLD_S``).
``squatting_the_swing``  side view: the swing is driven by the knees: knee
    flexion at the bottom beyond standing (degrees). In oblique views the
    knee angle from the world landmarks reads 50–70° on coaches' correct
    swings, so the verdict is withheld there.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from formcheck.exercises.base import (
    SIDE,
    Exercise,
    Posture,
    baseline,
    finite,
    hinge_depth,
    hold_frames,
    phase_frames,
    quiet_standing_frames,
    sustained_max,
)
from formcheck.exercises.hinge import bottom_frames, hinge_metrics, hinge_position, knee_bend
from formcheck.faults.core import Check, Fault, RepContext, Threshold
from formcheck.faults.spine import LUMBAR_FLEXION
from formcheck.reps import RepRule
from formcheck.spine import LOADED_LEAN_DEG

TOP_HIP_FLEXION_DEG = 10.0
BOTTOM_HIP_FLEXION_DEG = 70.0
#: The top of a swing is brief: a lean back must last this long (seconds).
HOLD_S = 0.1


def depth(signals):
    return hinge_depth(signals, TOP_HIP_FLEXION_DEG, BOTTOM_HIP_FLEXION_DEG)


def check_squatting_the_swing(ctx: RepContext) -> Fault | None:
    value, at = knee_bend(ctx)
    if at < 0 or not np.isfinite(value):
        return None
    return ctx.make_fault(
        "squatting_the_swing",
        value,
        (at, at + hold_frames(ctx.time_s, HOLD_S)),
        cue="Hinge, don't squat: push your hips back with shins vertical, then snap them forward.",
        message=f"the knees bent {value:.0f}° more than standing at the bottom: the swing became a squat",
        unit="deg",
    )


def check_lumbar_flexion_at_bottom(ctx: RepContext) -> Fault | None:
    """``lumbar_flexion`` of the swing: the lower back rounds at the bottom.

    Like :func:`formcheck.faults.spine.check_lumbar_flexion`, but a swing's bottom
    lasts a fraction of a second, so the peak only has to be held ``HOLD_S``.
    """
    spine = ctx.spine
    if spine is None or spine.reason:
        return None
    frames = bottom_frames(ctx)
    frames = frames[frames < len(spine)]
    frames = frames[spine.assessable[frames]]
    lean = np.asarray(ctx.signals["trunk_inclination"], np.float64)
    frames = frames[lean[frames] >= LOADED_LEAN_DEG]
    if len(frames) == 0:
        return None
    hold = hold_frames(ctx.time_s, HOLD_S)
    peak, at = sustained_max(spine.lumbar_flexion_deg, frames, hold)
    if at < 0 or not np.isfinite(peak):
        return None
    ctx = dataclasses.replace(ctx, quality=min(ctx.quality, float(np.median(spine.confidence[frames]))))
    return ctx.make_fault(
        "lumbar_flexion",
        peak,
        (at, at + hold),
        cue="Keep your back flat at the bottom: hike the bell high between your legs, hips back.",
        message=f"the lower back rounded about {peak:.0f}° beyond neutral at the bottom of the swing",
        unit="deg",
    )



#: The top of the swing: hips open past this hip flexion (deg); at most this long (s).
TOP_OPEN_DEG = 25.0
TOP_MAX_S = 1.5


def top_frames(ctx: RepContext) -> np.ndarray:
    """Frames of the float at the top of this swing: from the moment the hips
    open on the way up until they fold again (or ``TOP_MAX_S``). The float may
    run past the rep's own lockout phase into the next swing's start."""
    hip = np.asarray(ctx.signals["hip_flexion"], np.float64)
    ascent = phase_frames(ctx, "ascent", "lockout")
    with np.errstate(invalid="ignore"):
        opened = ascent[hip[ascent] < TOP_OPEN_DEG] if len(ascent) else ascent
    if len(opened) == 0:
        return opened
    first = int(opened[0])
    stop = min(len(hip), first + hold_frames(ctx.time_s, TOP_MAX_S))
    with np.errstate(invalid="ignore"):
        folded = np.flatnonzero(hip[first:stop] >= TOP_OPEN_DEG)
    last = first + int(folded[0]) if len(folded) else stop
    return finite(hip, np.arange(first, last))


def check_lean_back_at_top(ctx: RepContext) -> Fault | None:
    """``lumbar_hyperextension`` of the swing: leaning back at the top.

    The lean behind the lifter's quiet standing before the set (between
    swings the lifter never stands still, and the top of the previous swing
    is no neutral reference), held ``HOLD_S`` while the hips are open;
    without quiet standing, behind vertical.
    """
    trunk = np.asarray(ctx.signals["trunk_inclination"], np.float64)
    ref = baseline(ctx, "trunk_inclination", quiet_standing_frames(ctx), default=0.0)
    frames = top_frames(ctx)
    hold = hold_frames(ctx.time_s, HOLD_S)
    value, at = sustained_max(ref - trunk, frames, hold)
    if at < 0 or not np.isfinite(value):
        return None
    return ctx.make_fault(
        "lumbar_hyperextension",
        value,
        (at, at + hold),
        cue="Finish standing tall: squeeze your glutes, ribs down, don't lean back.",
        message=f"at the top you leaned back {value:.0f}° further than you stand",
        unit="deg",
    )


#: Recognition: after the bottom the hands float up to at least this far below
#: the shoulders (leg lengths; hanging arms are ≈ 0.6 below, a bell at chest
#: height ≈ 0), with the lifter standing (shoulders at least this high).
SWING_HANDS_BELOW_SHOULDERS = 0.15
STANDING_SHOULDERS_MIN = 1.2


def recognise(p: Posture) -> bool:
    floated = bool(np.isfinite(p.wrist_top)) and p.shoulder_top >= STANDING_SHOULDERS_MIN and (
        p.wrist_top >= p.shoulder_top - SWING_HANDS_BELOW_SHOULDERS
    )
    return p.hinged and p.hands_below_hips and floated


EXERCISE = Exercise(
    name="kettlebell_swing",
    title="Kettlebell swing",
    rule=RepRule(style="up_down_up", enter=0.5, exit=0.25, min_rep_s=0.5, hold_s=0.05),
    depth=depth,
    checks=(  # priority order for the one cue per rep: the spine first
        Check("lumbar_flexion", check_lumbar_flexion_at_bottom, LUMBAR_FLEXION.threshold, needs=("spine",)),
        Check("lumbar_hyperextension", check_lean_back_at_top, Threshold(caution=5.0, fault=10.0), views=SIDE),
        Check("squatting_the_swing", check_squatting_the_swing, Threshold(caution=30.0, fault=45.0), views=SIDE),
    ),
    metrics=hinge_metrics,
    variants=("Russian swing", "American swing"),
    aliases=("swing", "kb_swing"),
    label_words=("swing",),
    recognise=recognise,
    recognise_order=10,
    preference=3,
    position=hinge_position,
)
