"""The two-handed Russian kettlebell swing's joint-angle curves: hike, hip snap, float.

The arms swing at a lab angle that runs from between the legs (the hike) to
about shoulder height (the float); after the last rep the bell is parked.
Faults: ``squatting_the_swing`` (deep knee bend, upright trunk, a lower
float), ``insufficient_hinge``, ``lumbar_flexion`` and
``lockout_hyperextension``.
"""

from __future__ import annotations

import numpy as np

from formcheck.synth.channels import CHANNELS, standing
from formcheck.synth.lifts.base import Builder, arms_at_lab_angle, grip_anchor
from formcheck.synth.timeline import Segment, min_jerk, window


class SwingBuilder(Builder):
    """Two-handed Russian kettlebell swing: hike, hip snap, float."""

    name = "kettlebell_swing"
    alpha_top = 85.0
    alpha_bottom = -25.0

    def segments(self, ctx, reps, T, desc, pause_b, asc, pause_t, rep_time):
        segs = super().segments(ctx, reps, T, desc, pause_b, asc, pause_t, rep_time)
        segs[-1] = Segment("lockout", max(pause_t * T, 1e-3), "kettlebell_swing:lockout", reps - 1)
        segs.append(Segment("setup", 1.0 * T, "kettlebell_swing:park", reps - 1))
        segs.append(Segment("setup", 0.5, "kettlebell_swing:stand"))
        return segs

    def top(self, ctx, rep):
        lean_back = ctx.sev(rep, "lockout_hyperextension")
        top = standing()
        top.update(knee=2.0, pelvis=-0.4 * lean_back, lumbar=-0.6 * lean_back)
        return top

    def bottom(self, ctx, rep):
        sq = ctx.sev(rep, "squatting_the_swing")
        s = ctx.rep_scale[rep]
        pose = {
            "pelvis": (62.0 * (1.0 - 0.5 * ctx.sev(rep, "insufficient_hinge")) - 25.0 * sq) * s,
            "knee": 22.0 + 50.0 * sq, "shank": 6.0 + 22.0 * sq,
            "lumbar": ctx.sev(rep, "lumbar_flexion"), "thoracic": 0.0, "neck": 0.0, "heel": 0.0,
        }
        return pose

    def progress(self, kind, u, ctx, rep):
        if kind == "descent":
            hinge = window(u, 0.15, 1.0)
            knee = window(u, 0.3, 1.0)
        else:
            hinge = 1.0 - window(u, 0.0, 0.75)
            knee = 1.0 - window(u, 0.0, 0.6)
        return {"pelvis": hinge, "lumbar": hinge ** 1.5, "thoracic": hinge, "knee": knee, "shank": knee,
                "heel": 0.0 * u}

    def fill(self, ctx, seg, u, t, idx, frames):
        kind = seg.kind.split(":")[1]
        if kind == "park":
            values = standing()
            frames.set("sway", idx, 0.0)
            for k in CHANNELS:
                frames.set(k, idx, np.broadcast_to(values[k], idx.shape))
            frames.set("alpha", idx, self._alpha_top(ctx, seg.rep) * (1.0 - min_jerk(u)))
            return
        super().fill(ctx, seg, u, t, idx, frames)
        r = seg.rep
        if kind == "stand":
            alpha = 0.0 * u
        elif kind == "descent":
            start = 0.0 if r == 0 else self._alpha_top(ctx, r - 1)
            alpha = start + (self.alpha_bottom - start) * window(u, 0.0, 0.8)
        elif kind == "bottom":
            alpha = np.full(len(u), self.alpha_bottom)
        elif kind == "ascent":
            alpha = self.alpha_bottom + (self._alpha_top(ctx, r) - self.alpha_bottom) * window(u, 0.1, 1.0)
        else:  # lockout: the bell floats
            alpha = self._alpha_top(ctx, r) + 3.0 * np.sin(np.pi * u)
        frames.set("alpha", idx, alpha)

    def _alpha_top(self, ctx, rep):
        return self.alpha_top - 30.0 * ctx.sev(rep, "squatting_the_swing")

    def arms(self, ctx, ch, frames):
        pose = arms_at_lab_angle(ctx, ch, frames.values["alpha"], 0.0)
        ctx.cache["pose"] = pose
        return pose

    def implement(self, ctx, pose, frames):
        return grip_anchor(ctx, pose), np.ones(len(pose), bool)
