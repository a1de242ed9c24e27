"""Squat plug-in (back, front, goblet, bodyweight).

Depth signal: how far the hips have dropped below the highest hip position
seen so far, in leg lengths: a parallel squat drops the hips by about half a
leg length (0.45 → depth 1). Reps are top → bottom → top.

Faults
------
``butt_wink``, ``lumbar_hyperextension``  from the spine estimate
    (:mod:`formcheck.spine`): the lower back rounds at the bottom; the lower
    back over-arches.
``shallow_depth``  at the bottom the hip joint stays above the knee: measured
as the thigh angle above horizontal (0° = parallel, + hip above knee).
"""

from __future__ import annotations

import numpy as np

from formcheck.exercises.base import Exercise, running_max, value_at
from formcheck.faults import Fault, RepContext, Threshold
from formcheck.reps import RepRule
from formcheck.spine import SPINE_THRESHOLDS, check_butt_wink, check_lumbar_hyperextension

PARALLEL_DROP_LEG_LENGTHS = 0.45


def depth(signals) -> np.ndarray:
    hip = signals["hip_height"]
    return (running_max(hip) - hip) / PARALLEL_DROP_LEG_LENGTHS


def check_shallow_depth(ctx: RepContext) -> Fault | None:
    thigh = ctx.signals["thigh_angle"]
    bottom = ctx.phase("bottom")
    window = thigh[bottom]
    if not np.isfinite(window).any():
        return None
    # The deepest moment of the rep is when the thigh is lowest.
    deepest = float(np.nanmin(window))
    return ctx.make_fault(
        "shallow_depth",
        deepest,
        (bottom.start, bottom.stop),
        cue="Sit deeper: hips below the knees.",
        message=f"at the bottom the thigh was {deepest:.0f}° above parallel",
        unit="deg",
    )


def metrics(ctx: RepContext) -> dict[str, float]:
    s, rep = ctx.signals, ctx.rep
    bottom = ctx.phase("bottom")
    return {
        "depth_thigh_angle_deg": float(np.nanmin(s["thigh_angle"][bottom])) if np.isfinite(s["thigh_angle"][bottom]).any() else float("nan"),
        "knee_flexion_max_deg": float(np.nanmax(s["knee_flexion"][rep.start : rep.end])),
        "hip_flexion_max_deg": float(np.nanmax(s["hip_flexion"][rep.start : rep.end])),
        "trunk_inclination_bottom_deg": value_at(s["trunk_inclination"], rep.bottom),
        "shin_angle_bottom_deg": value_at(s["shin_angle"], rep.bottom),
    }


EXERCISE = Exercise(
    name="squat",
    title="Squat",
    rule=RepRule(style="up_down_up", enter=0.4, exit=0.15, min_rep_s=0.6),
    depth=depth,
    checks=(  # priority order for the one cue per rep: the spine first
        ("butt_wink", check_butt_wink),
        ("lumbar_hyperextension", check_lumbar_hyperextension),
        ("shallow_depth", check_shallow_depth),
    ),
    thresholds={
        "shallow_depth": Threshold(caution=0.0, fault=10.0),
        "butt_wink": SPINE_THRESHOLDS["butt_wink"],
        "lumbar_hyperextension": SPINE_THRESHOLDS["lumbar_hyperextension"],
    },
    metrics=metrics,
)
