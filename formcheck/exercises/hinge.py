"""Checks shared by the top-down hip hinges (Romanian deadlift, good morning, swing).

Each exercise keeps its own plug-in file (depth, rule, thresholds, cues);
this module holds the measurements they have in common. All are relative to
the lifter's own standing frames, so a landmark that sits off the joint for
this lifter (clothes, camera angle) cancels.
"""

from __future__ import annotations

import numpy as np

from formcheck.exercises.base import (
    SIDE,
    SIDE_OR_OBLIQUE,
    Exercise,
    baseline,
    finite,
    hinge_depth,
    hold_frames,
    legs_seen,
    make_tempo_check,
    phase_frames,
    sustained_max,
)
from formcheck.faults.core import Check, Fault, FaultCheck, RepContext, Threshold
from formcheck.faults.spine import LUMBAR_FLEXION
from formcheck.reps import RepRule

#: A position must be held this long to count (seconds).
HOLD_S = 0.15


def bottom_frames(ctx: RepContext, share: float = 0.5) -> np.ndarray:
    """Frames of the deeper part of the rep: hip angle within ``share`` of the
    rep's range from its deepest value."""
    hip = np.asarray(ctx.signals["hip_flexion"], np.float64)
    frames = finite(hip, phase_frames(ctx, "descent", "bottom", "ascent"))
    if len(frames) == 0:
        return frames
    deepest, shallowest = float(np.max(hip[frames])), float(np.min(hip[frames]))
    return frames[hip[frames] >= deepest - share * (deepest - shallowest)]


def knee_bend(ctx: RepContext) -> tuple[float, int]:
    """Largest knee flexion at the bottom beyond standing (deg) and where it starts."""
    knee = np.asarray(ctx.signals["knee_flexion"], np.float64)
    ref = baseline(ctx, "knee_flexion")
    if not np.isfinite(ref):
        return float("nan"), -1
    return sustained_max(knee - ref, legs_seen(ctx, bottom_frames(ctx)), hold_frames(ctx.time_s, HOLD_S))


def hinge_angle(ctx: RepContext) -> tuple[float, int]:
    """Largest hip flexion reached beyond standing (deg) and where it starts."""
    hip = np.asarray(ctx.signals["hip_flexion"], np.float64)
    ref = baseline(ctx, "hip_flexion", default=0.0)
    return sustained_max(hip - ref, bottom_frames(ctx), hold_frames(ctx.time_s, HOLD_S))


def hip_drop(ctx: RepContext) -> tuple[float, int]:
    """Largest drop of the hips below standing height (% of leg length) and where."""
    height = np.asarray(ctx.signals["hip_height"], np.float64)
    ref = baseline(ctx, "hip_height")
    if not np.isfinite(ref):
        return float("nan"), -1
    return sustained_max(100.0 * (ref - height), bottom_frames(ctx), hold_frames(ctx.time_s, HOLD_S))


def _held_measure_check(code: str, measure, message: str, cue: str) -> FaultCheck:
    """A check grading ``measure(ctx) -> (value, frame)`` over the hold after that frame;
    ``message`` is formatted with the value."""

    def check(ctx: RepContext) -> Fault | None:
        value, at = measure(ctx)
        if at < 0 or not np.isfinite(value):
            return None
        return ctx.make_fault(
            code, value, (at, at + hold_frames(ctx.time_s, HOLD_S)), cue=cue, message=message.format(value), unit="deg"
        )

    return check


def make_knees_too_bent_check(cue: str) -> FaultCheck:
    """``knees_too_bent``: the knees bend so far the hinge turns into a squat."""
    return _held_measure_check(
        "knees_too_bent", knee_bend, "the knees bent {:.0f}° more than standing at the bottom: it became a squat", cue
    )


def make_insufficient_hinge_check(cue: str) -> FaultCheck:
    """``insufficient_hinge``: the hips did not fold far enough (hip angle beyond standing)."""
    return _held_measure_check("insufficient_hinge", hinge_angle, "the hips folded only {:.0f}° at the bottom", cue)


def hinge_metrics(ctx: RepContext) -> dict[str, float]:
    """Per-rep numbers every hinge reports."""
    bend, _ = knee_bend(ctx)
    hinge, _ = hinge_angle(ctx)
    drop, _ = hip_drop(ctx)
    trunk = np.asarray(ctx.signals["trunk_inclination"], np.float64)
    frames = finite(trunk, bottom_frames(ctx))
    return {
        "hinge_deg": hinge,
        "knee_bend_deg": bend,
        "hip_drop_pct_leg": drop,
        "trunk_inclination_bottom_deg": float(np.max(trunk[frames])) if len(frames) else float("nan"),
    }


def hinge_position(m) -> tuple[str, str] | None:
    """The rep table's bottom: the back's angle, and how far the hips hinged."""
    trunk, hinge = m.get("trunk_inclination_bottom_deg"), m.get("hinge_deg")
    if trunk is None or not np.isfinite(trunk):
        return None
    return f"back {trunk:.0f}° from vertical", (f"hips hinged {hinge:.0f}°" if hinge is not None and np.isfinite(hinge) else "")


def top_down_hinge(
    name: str,
    title: str,
    knees_cue: str,
    hinge_cue: str,
    knees_too_bent: Threshold,
    variants: tuple[str, ...],
    top_hip_flexion_deg: float = 10.0,
    bottom_hip_flexion_deg: float = 70.0,
    **names,
):
    """The plug-in of a top → bottom → top hip hinge (RDL, good morning): they share
    the depth signal, rep rule, checks and tempo, and differ in cues, how much
    knee bend turns the hinge into a squat, and their names and recognition
    (``**names``: the :class:`~formcheck.exercises.base.Exercise` fields
    ``aliases``, ``recognise``, … passed through).

    Depth signal: the landmark hip angle (hip flexion), 0 at
    ``top_hip_flexion_deg`` (standing) to 1 at ``bottom_hip_flexion_deg``.

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
    def depth(signals):
        return hinge_depth(signals, top_hip_flexion_deg, bottom_hip_flexion_deg)

    return Exercise(
        name=name,
        title=title,
        rule=RepRule(style="up_down_up", enter=0.55, exit=0.25, min_rep_s=0.8),
        depth=depth,
        checks=(  # priority order for the one cue per rep: the spine first
            LUMBAR_FLEXION,
            Check("knees_too_bent", make_knees_too_bent_check(knees_cue), knees_too_bent, views=SIDE),
            Check("insufficient_hinge", make_insufficient_hinge_check(hinge_cue),
                  Threshold(caution=72.0, fault=60.0, higher_is_worse=False), views=SIDE_OR_OBLIQUE),
            Check("tempo", make_tempo_check(
                depth, "up_down_up", cue="Lower slowly: take about two seconds on the way down.", what="the lowering"),
                Threshold(caution=0.6, fault=0.4, higher_is_worse=False)),
        ),
        metrics=hinge_metrics,
        position=hinge_position,
        variants=variants,
        **names,
    )
