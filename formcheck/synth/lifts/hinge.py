"""The RDL's and the good morning's joint-angle curves: a hip hinge from the top with soft knees.

Faults: ``insufficient_hinge`` reduces the pelvis range, ``knees_too_bent``
turns the hinge toward a squat, ``lumbar_flexion`` rounds the lower back at
the bottom, ``lockout_hyperextension`` leans back at the top and
``bar_drift`` (RDL) lets the bar swing forward of the legs.
"""

from __future__ import annotations

import numpy as np

from formcheck.synth.channels import standing
from formcheck.synth.lifts.base import Builder, bar_on_back, grip_anchor, hanging_arms
from formcheck.synth.timeline import window


class HingeBuilder(Builder):
    """RDL and good morning: hinge from the top with soft knees."""

    max_pelvis = 72.0
    knee_bottom = 18.0
    knee_top = 4.0

    def top(self, ctx, rep):
        lean_back = ctx.sev(rep, "lockout_hyperextension")
        top = standing()
        top.update(knee=self.knee_top, shank=0.3 * self.knee_top,
                   pelvis=-0.4 * lean_back, lumbar=-0.6 * lean_back)
        return top

    def bottom(self, ctx, rep):
        s = ctx.rep_scale[rep]
        bent = ctx.sev(rep, "knees_too_bent")
        pose = {
            "pelvis": self.max_pelvis * (1.0 - 0.6 * ctx.sev(rep, "insufficient_hinge")) * s - 0.35 * bent,
            "knee": self.knee_bottom + bent,
            "shank": 4.0 + 0.45 * bent,
            "lumbar": ctx.sev(rep, "lumbar_flexion"),
            "thoracic": 0.0, "neck": 0.0, "heel": 0.0,
        }
        return pose

    def progress(self, kind, u, ctx, rep):
        prog = super().progress(kind, u, ctx, rep)
        if kind == "descent":
            prog["knee"] = prog["shank"] = window(u, 0.0, 0.55)  # knees unlock first
        return prog

    def extra(self, ctx, seg, kind, u, idx, frames, values):
        drift = ctx.sev(seg.rep, "bar_drift") / 100.0
        q = np.clip(np.asarray(values["pelvis"]) / max(self.max_pelvis, 1e-6), 0, 1)
        frames.set("bar_forward", idx, drift * q)


class RDLBuilder(HingeBuilder):
    name = "rdl"

    def arms(self, ctx, ch, frames):
        fwd = np.nan_to_num(frames.values.get("bar_forward", 0.0))
        pose = hanging_arms(ctx, ch, fwd)
        ctx.cache["pose"] = pose
        return pose

    def implement(self, ctx, pose, frames):
        return grip_anchor(ctx, pose), np.ones(len(pose), bool)


class GoodMorningBuilder(HingeBuilder):
    name = "good_morning"
    max_pelvis = 80.0
    knee_bottom = 12.0

    def arms(self, ctx, ch, frames):
        if ctx.implement in ("barbell", "bar"):
            pose, bar = bar_on_back(ctx, ch)
            ctx.cache["bar"] = bar
            return pose
        # Bodyweight: hands resting on the front of the thighs (the sagittal
        # model cannot fold the arms across the chest).
        return hanging_arms(ctx, ch, 0.0, bend=25.0)

    def implement(self, ctx, pose, frames):
        n = len(pose)
        if ctx.implement not in ("barbell", "bar"):
            return np.full((n, 3), np.nan), np.zeros(n, bool)
        return np.concatenate([ctx.cache["bar"], np.zeros((n, 1))], axis=1), np.ones(n, bool)
