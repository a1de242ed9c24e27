"""The squat's joint-angle curves: the time course of a real squat, scaled to the set's depth and faults.

Each channel follows its own normalised shape from a real OpenCap squat
(:mod:`formcheck.synth.reference_cycle`), so the pelvis tilts early and the
knees and ankles late. Faults: ``shallow_depth``, ``excessive_forward_lean``
and ``heel_rise`` change the bottom pose; ``butt_wink`` adds lumbar flexion
near the bottom only, ``lumbar_hyperextension`` an arch all the way down.
"""

from __future__ import annotations

import numpy as np

from formcheck.synth.lifts.base import Builder, arms_at_lab_angle, bar_on_back
from formcheck.synth.reference_cycle import normalised_shape


class SquatBuilder(Builder):
    name = "squat"

    def bottom(self, ctx, rep):
        cached = ctx.cache.get(("bottom", rep))
        if cached is not None:
            return cached
        d = ctx.depth * (1.0 - 0.7 * ctx.sev(rep, "shallow_depth")) * ctx.rep_scale[rep]
        lean = ctx.sev(rep, "excessive_forward_lean")
        heel = ctx.sev(rep, "heel_rise")
        pose = {
            "knee": 35.0 + 90.0 * d,
            "shank": 10.0 + 25.0 * d - 0.25 * lean + 0.6 * heel,
            "pelvis": 8.0 + 27.0 * d + lean,
            "lumbar": ctx.sev(rep, "butt_wink") - ctx.sev(rep, "lumbar_hyperextension"),
            "thoracic": 0.0, "neck": 0.0, "heel": heel,
        }
        ctx.cache[("bottom", rep)] = pose
        return pose

    def progress(self, kind, u, ctx, rep):
        phase = 0.5 * u if kind == "descent" else 0.5 + 0.5 * u
        knee = normalised_shape("knee_flexion", phase)
        prog = {
            "knee": knee,
            "shank": normalised_shape("ankle_dorsiflexion", phase),
            "pelvis": normalised_shape("pelvis_tilt", phase),
            "thoracic": knee, "heel": np.clip(knee, 0, 1) ** 2,
        }
        # Butt wink shows up only near the bottom; over-arching is there all the way down.
        wink, arch = ctx.sev(rep, "butt_wink"), ctx.sev(rep, "lumbar_hyperextension")
        total = wink - arch
        lumbar = wink * np.clip(knee, 0, 1) ** 4 - arch * np.clip(knee, 0, 1) ** 0.6
        prog["lumbar"] = lumbar / total if total != 0 else knee
        return prog

    def extra(self, ctx, seg, kind, u, idx, frames, values):
        if kind in ("descent", "ascent"):
            phase = 0.5 * u if kind == "descent" else 0.5 + 0.5 * u
            q = np.clip(normalised_shape("knee_flexion", phase), 0, 1)
        else:
            q = np.full(len(idx), 1.0 if kind == "bottom" else 0.0)
        frames.set("depth", idx, q)

    def arms(self, ctx, ch, frames):
        q = np.nan_to_num(frames.values.get("depth", np.zeros(len(ch["knee"]))))
        if ctx.implement in ("barbell", "bar"):
            pose, bar = bar_on_back(ctx, ch)
            ctx.cache["bar"] = bar
            return pose
        # Bodyweight squat: arms rise forward as a counterweight.
        return arms_at_lab_angle(ctx, ch, 20.0 + 70.0 * q, 8.0)

    def implement(self, ctx, pose, frames):
        n = len(pose)
        if ctx.implement not in ("barbell", "bar"):
            return np.full((n, 3), np.nan), np.zeros(n, bool)
        bar = ctx.cache["bar"]
        return np.concatenate([bar, np.zeros((n, 1))], axis=1), np.ones(n, bool)
