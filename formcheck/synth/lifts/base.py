"""What every lift builder shares: the set's context, the top-start scaffolding, arms and implements.

A builder turns a set's timed segments (:mod:`formcheck.synth.timeline`) into
joint-angle channels (:mod:`formcheck.synth.channels`): :meth:`Builder.segments`
lays out the set, :meth:`Builder.fill` writes the channels of one segment
(between the key poses :meth:`Builder.top` and :meth:`Builder.bottom`, with
per-channel progress from :meth:`Builder.progress`), :meth:`Builder.arms`
adds the arms and :meth:`Builder.implement` the bar or kettlebell path.
:class:`Builder` itself is a lift that starts at the top (descent → bottom →
ascent → lockout); the exercises subclass it in the modules beside this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formcheck.synth import body as bm
from formcheck.synth.channels import CHANNELS, lerp, pose_from_channels, standing
from formcheck.synth.timeline import Segment, min_jerk, window

#: Bar radius plus a little (m): how far the bar sits behind the upper-back skin on a back squat.
_BAR_ON_BACK_OFFSET_M = 0.02


@dataclass
class Context:
    """What the builders share while they fill one set.

    Attributes
    ----------
    dims : BodyDims
    exercise : str
    implement : str
        "none", "barbell", "bar" or "kettlebell".
    setup_s : float
        Quiet standing before the set (``MotionParams.setup_s``).
    depth : float
        Squat depth, 1 = thighs parallel (``MotionParams.depth``).
    rep_sev : list of dict
        Per rep, ``{fault code: severity}`` (0 for the reps that do not show the faults).
    rep_scale : ndarray (reps,)
        Per-rep amplitude variation (about 1).
    rng : numpy.random.Generator
    cache : dict
        Key poses and arrays a builder computes once and reuses (start
        positions, the bar path, the arm targets).
    finish : str
        How the set ends (``MotionParams.finish``; the deadlift reads it).
    """

    dims: bm.BodyDims
    exercise: str
    implement: str
    setup_s: float
    depth: float
    rep_sev: list[dict]
    rep_scale: np.ndarray
    rng: np.random.Generator
    cache: dict = field(default_factory=dict)
    finish: str = "stand_up"

    def sev(self, rep: int, code: str) -> float:
        """Severity of fault ``code`` in rep ``rep`` (0 outside the reps, e.g. during set-up)."""
        if rep < 0:
            return 0.0
        return float(self.rep_sev[rep].get(code, 0.0))


class Builder:
    """Common scaffolding: top-start lifts (descent → bottom → ascent → lockout)."""

    name = ""
    floor_start = False
    #: Whether spinal flexion is partly absorbed by tilting the pelvis back
    #: (``MotionParams.lean_compensation``); the deadlift solves its start instead.
    compensates = True

    def segments(self, ctx, reps, T, desc, pause_b, asc, pause_t, rep_time):
        segs = [Segment("setup", ctx.setup_s, f"{self.name}:stand")]
        for r in range(reps):
            segs += [
                Segment("descent", desc * T * rep_time[r, 0], f"{self.name}:descent", r),
                Segment("bottom", pause_b * T * rep_time[r, 1], f"{self.name}:bottom", r),
                Segment("ascent", asc * T * rep_time[r, 2], f"{self.name}:ascent", r),
                Segment("lockout", max(pause_t * T * rep_time[r, 3], 1e-3) if r < reps - 1 else 0.8,
                         f"{self.name}:lockout", r),
            ]
        return segs

    # Key poses -------------------------------------------------------
    def top(self, ctx, rep) -> dict:
        return standing()

    def bottom(self, ctx, rep) -> dict:
        raise NotImplementedError

    def progress(self, kind, u, ctx, rep) -> dict:
        """Per-channel progress top→bottom (0..1) at local time u of a movement segment."""
        if kind == "descent":
            knee = window(u, 0.0, 0.65)
            rest = min_jerk(u)
        else:  # ascent: progress still measured as "how far down"
            knee = 1.0 - window(u, 0.0, 0.8)
            rest = 1.0 - min_jerk(u)
        return {"shank": knee, "knee": knee, "pelvis": rest, "lumbar": rest ** 1.5, "thoracic": rest,
                "heel": knee}

    def fill(self, ctx, seg, u, t, idx, frames):
        kind = seg.kind.split(":")[1]
        r = seg.rep
        top = self.top(ctx, r) if r >= 0 else standing()
        if kind == "stand":
            values = standing()
            frames.set("sway", idx, 1.0)
        elif kind in ("descent", "ascent"):
            values = lerp(top, self.bottom(ctx, r), self.progress(kind, u, ctx, r), CHANNELS)
            if kind == "descent" and r == 0:  # from quiet standing into the first rep's top
                values = lerp(standing(), values, min_jerk(u / 0.3), CHANNELS)
            frames.set("sway", idx, 0.0)
        elif kind == "bottom":
            values = self.bottom(ctx, r)
            frames.set("sway", idx, 0.0)
        elif kind == "lockout":
            values = top
            nxt = self.top(ctx, r + 1) if r + 1 < len(ctx.rep_sev) else standing()
            values = lerp(top, nxt, window(u, 0.3, 1.0), CHANNELS)
            frames.set("sway", idx, 0.0)
        else:
            raise AssertionError(kind)
        values = dict(values)
        values["neck"] = -0.3 * (np.asarray(values["pelvis"]) + 0.7 * np.asarray(values["lumbar"]))
        for k in CHANNELS:
            frames.set(k, idx, np.broadcast_to(values[k], idx.shape))
        self.extra(ctx, seg, kind, u, idx, frames, values)

    def extra(self, ctx, seg, kind, u, idx, frames, values) -> None:
        pass

    # Arms and implement ------------------------------------------------
    def arms(self, ctx, ch, frames) -> bm.BodyPose:
        return pose_from_channels(ch)

    def implement(self, ctx, pose, frames):
        n = len(pose)
        return np.full((n, 3), np.nan), np.zeros(n, bool)


def hanging_arms(ctx, ch, forward_m: np.ndarray | float = 0.0, bend: float = 0.0) -> bm.BodyPose:
    """Straight arms hanging under the shoulders, the grip ``forward_m`` ahead of them."""
    pose = pose_from_channels(ch)
    skel = bm.forward_kinematics(ctx.dims, pose)
    sh = skel.points["shoulder_r"][:, :2]
    reach = ctx.dims.arm_reach * np.cos(np.radians(bend))
    dx = np.clip(np.broadcast_to(forward_m, (len(pose),)), -0.9 * reach, 0.9 * reach)
    target = np.stack([sh[:, 0] + dx, sh[:, 1] - np.sqrt(reach**2 - dx**2)], axis=-1)
    s, e = bm.arm_angles_to_reach(skel, target)
    return pose.replace(shoulder_flexion=s, elbow_flexion=e)


def arms_at_lab_angle(ctx, ch, alpha_deg: np.ndarray, elbow_deg: np.ndarray | float = 0.0) -> bm.BodyPose:
    """Arms whose upper arm points ``alpha_deg`` forward of hanging (lab)."""
    pose = pose_from_channels(ch)
    skel = bm.forward_kinematics(ctx.dims, pose)
    s = np.degrees(skel.angles["upper_thoracic"]) + np.asarray(alpha_deg)
    return pose.replace(shoulder_flexion=s, elbow_flexion=elbow_deg)


def bar_on_back(ctx, ch) -> tuple[bm.BodyPose, np.ndarray]:
    """Hands gripping a bar that rests on the upper back (high-bar position)."""
    pose = pose_from_channels(ch)
    skel = bm.forward_kinematics(ctx.dims, pose)
    H = ctx.dims.height
    t7, c7 = skel.points["T7"][:, :2], skel.points["C7"][:, :2]
    along = t7 + 0.8 * (c7 - t7)
    axis = (c7 - t7) / np.linalg.norm(c7 - t7, axis=-1, keepdims=True)
    back = np.stack([-axis[:, 1], axis[:, 0]], axis=-1)  # axis turned counter-clockwise: backward
    bar = along + back * (0.04 * H + _BAR_ON_BACK_OFFSET_M)
    s, e = bm.arm_angles_to_reach(skel, bar, elbow_bend="forward")  # elbows down under the bar
    return pose.replace(shoulder_flexion=s, elbow_flexion=e), bar


def grip_anchor(ctx, pose: bm.BodyPose) -> np.ndarray:
    skel = bm.forward_kinematics(ctx.dims, pose)
    g = skel.midpoint("grip")
    return np.concatenate([g[:, :2], np.zeros((len(g), 1))], axis=1)
