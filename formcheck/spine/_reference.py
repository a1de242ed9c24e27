"""The lifter's own standing frames: the reference every spine value is measured against."""

from __future__ import annotations

import numpy as np

from formcheck.measure.kinematics import Kinematics
from formcheck.reps import Rep

#: Standing frames: trunk lean and landmark hip angle below these (degrees).
STANDING_LEAN_DEG = (-5.0, 15.0)

STANDING_HIP_FLEXION_DEG = 25.0

#: Fewest standing frames that make a personal reference.
MIN_STANDING_FRAMES = 5

#: Standing still: trunk lean changing slower than this (degrees per second).
STILL_DEG_PER_S = 40.0

#: Trunk lean from which the back counts as loaded in a hinge (degrees).
LOADED_LEAN_DEG = 25.0


def standing_frames(kin: Kinematics, reps: list[Rep] | None) -> np.ndarray:
    """Frames where the lifter stands still and upright (the personal reference)."""
    lean = np.asarray(kin["trunk_inclination"], np.float64)
    hip = np.asarray(kin["hip_flexion"], np.float64)
    t = np.asarray(kin.time_s, np.float64)
    with np.errstate(invalid="ignore"):
        speed = np.abs(np.gradient(lean, t)) if len(t) > 1 else np.zeros(len(t))
        upright = (lean > STANDING_LEAN_DEG[0]) & (lean < STANDING_LEAN_DEG[1]) & (hip < STANDING_HIP_FLEXION_DEG)
        still = speed < STILL_DEG_PER_S
    standing = upright & still
    if reps:
        # Prefer the reps' own standing moments (lockout, squat set-up) and walk-ins.
        allowed = np.ones(len(lean), bool)
        for rep in reps:
            allowed[rep.start : rep.end] = False
            for name in ("lockout", "setup"):
                if name in rep.phases:
                    a, b = rep.phases[name]
                    allowed[a:b] = True
        if (standing & allowed).sum() >= MIN_STANDING_FRAMES:
            standing = standing & allowed
    return standing
