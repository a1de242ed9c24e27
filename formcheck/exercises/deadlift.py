"""Conventional deadlift plug-in (barbell, kettlebell).

Depth signal: the landmark hip angle (hip flexion): about 0–15° at lockout,
90–140° at the floor. A rep is a pull from the floor to lockout; the lowering
after it belongs to the same rep.

Faults
------
``lumbar_flexion``, ``lockout_hyperextension``  from the spine estimate
    (:mod:`formcheck.spine`): the lower back rounds during the pull or the
    lowering; the lifter leans back / over-arches at the top.
``hips_rise_early``  the hips shoot up before the shoulders as the bar leaves
    the floor: the trunk tips toward horizontal during the first part of the
    pull. Measured as the largest increase of trunk inclination (degrees) over
    the first 40 % of the pull, relative to the set-up.
``squatted_start``  the lifter starts the pull with the hips too low, like a
    squat: hips at or below knee height with the trunk nearly upright. Measured
    as the trunk inclination at the start of the pull (degrees from vertical),
    judged only when the hips are not clearly above the knees (thigh within
    ``SQUATTED_THIGH_MAX_DEG`` of horizontal). Knee flexion is not used: at the
    floor the plates hide the knees and the model's knee angle there is off by
    20–40° (measured on rendered lifters with known angles).
"""

from __future__ import annotations

import numpy as np

from formcheck.exercises.base import Exercise, value_at
from formcheck.faults import Fault, RepContext, Threshold
from formcheck.reps import RepRule
from formcheck.spine import SPINE_THRESHOLDS, check_lockout_hyperextension, check_lumbar_flexion

LOCKOUT_HIP_FLEXION_DEG = 15.0
SQUATTED_THIGH_MAX_DEG = 20.0
FLOOR_HIP_FLEXION_DEG = 105.0


def depth(signals) -> np.ndarray:
    return (signals["hip_flexion"] - LOCKOUT_HIP_FLEXION_DEG) / (FLOOR_HIP_FLEXION_DEG - LOCKOUT_HIP_FLEXION_DEG)


def pull_start(ctx: RepContext) -> int:
    """Frame where the pull begins: the hips' lowest point before lockout.

    Not the deepest hip angle: when the hips shoot up first the hip angle
    stays closed while the hips rise, and the pull has already begun.
    """
    hip = ctx.signals["hip_height"]
    lockout = ctx.phase("lockout").start
    window = hip[ctx.rep.start : max(lockout, ctx.rep.start + 1)]
    if not np.isfinite(window).any():
        return ctx.rep.bottom
    return ctx.rep.start + int(np.nanargmin(window))


def _pull_window(ctx: RepContext, fraction: float) -> slice:
    start = pull_start(ctx)
    lockout = max(ctx.phase("lockout").start, start + 2)
    stop = start + max(2, int(round((lockout - start) * fraction)))
    return slice(start, min(stop, lockout))


def check_hips_rise_early(ctx: RepContext) -> Fault | None:
    trunk = ctx.signals["trunk_inclination"]
    window = _pull_window(ctx, 0.4)
    start_value = trunk[window.start]
    if not np.isfinite(start_value) or not np.isfinite(trunk[window]).any():
        return None
    rise = float(np.nanmax(trunk[window]) - start_value)
    return ctx.make_fault(
        "hips_rise_early",
        rise,
        (window.start, window.stop),
        cue="Push the floor away: chest and hips rise together.",
        message=f"the back tipped {rise:.0f}° toward horizontal as the bar left the floor",
        unit="deg",
    )


def check_squatted_start(ctx: RepContext) -> Fault | None:
    start = pull_start(ctx)
    thigh = value_at(ctx.signals["thigh_angle"], start)
    trunk = value_at(ctx.signals["trunk_inclination"], start)
    if not np.isfinite(thigh) or thigh > SQUATTED_THIGH_MAX_DEG:
        return None
    return ctx.make_fault(
        "squatted_start",
        trunk,
        (ctx.phase("setup").start, start + 1),
        cue="Hips higher at the start: push them back and hinge, shins near vertical.",
        message=f"the pull started with the hips near knee height and the back only {trunk:.0f}° from upright",
        unit="deg",
    )


def metrics(ctx: RepContext) -> dict[str, float]:
    s = ctx.signals
    start = pull_start(ctx)
    lockout = ctx.phase("lockout")
    return {
        "start_hip_flexion_deg": value_at(s["hip_flexion"], start),
        "start_knee_flexion_deg": value_at(s["knee_flexion"], start),
        "start_trunk_inclination_deg": value_at(s["trunk_inclination"], start),
        "lockout_hip_flexion_deg": float(np.nanmin(s["hip_flexion"][lockout])) if np.isfinite(s["hip_flexion"][lockout]).any() else float("nan"),
    }


EXERCISE = Exercise(
    name="deadlift",
    title="Deadlift",
    rule=RepRule(style="down_up", enter=0.6, exit=0.35, min_rep_s=0.4),
    depth=depth,
    checks=(  # priority order for the one cue per rep: the spine first
        ("lumbar_flexion", check_lumbar_flexion),
        ("hips_rise_early", check_hips_rise_early),
        ("squatted_start", check_squatted_start),
        ("lockout_hyperextension", check_lockout_hyperextension),
    ),
    thresholds={
        "lumbar_flexion": SPINE_THRESHOLDS["lumbar_flexion"],
        "lockout_hyperextension": SPINE_THRESHOLDS["lockout_hyperextension"],
        "hips_rise_early": Threshold(caution=8.0, fault=15.0),
        "squatted_start": Threshold(caution=50.0, fault=45.0, higher_is_worse=False),
    },
    metrics=metrics,
)
