"""The conventional deadlift's joint-angle curves: from the floor, with the start pose solved for the bar.

The set starts standing, gets down to the bar and sets; each rep is pull →
lockout → lower → reset on the floor. After the last rep the lifter lets go
of the bar and stands up (``finish="stand_up"``, not a rep) or stays set at
the bar (``"stay_down"``). The start pose puts straight arms on a
bar resting on the plates (:func:`_solve_pelvis_for_reach`), and the hands
follow the bar line over the mid-foot. Faults: ``lumbar_flexion``,
``squatted_start`` (hips too low at the start), ``hips_rise_early`` (knees
straighten first and the trunk tips over), ``bar_drift`` and
``lockout_hyperextension``.
"""

from __future__ import annotations

import numpy as np

from formcheck.synth import body as bm
from formcheck.synth.channels import CHANNELS, lerp, pose_from_channels, standing
from formcheck.synth.lifts.base import Builder
from formcheck.synth.timeline import Segment, min_jerk, window

#: Radius of a standard plate (m): the bar's height when it rests on the floor.
PLATE_RADIUS_M = 0.225
#: How far the bar has risen when hips that shot up start to extend (m).
_EARLY_BAR_RISE_M = 0.05
#: Most the trunk tips over (beyond its start angle) when the hips rise first (deg).
_MAX_EXTRA_TILT_DEG = 20.0


class DeadliftBuilder(Builder):
    """Conventional deadlift from the floor: set-up, then pull / lockout / lower / reset."""

    name = "deadlift"
    floor_start = True
    compensates = False

    def segments(self, ctx, reps, T, desc, pause_b, asc, pause_t, rep_time):
        segs = [Segment("setup", ctx.setup_s, "deadlift:stand"),
                Segment("setup", 1.5 * T, "deadlift:get_down", 0),
                Segment("setup", 0.6, "deadlift:set", 0)]
        for r in range(reps):
            segs += [
                Segment("ascent", asc * T * rep_time[r, 2], "deadlift:ascent", r),
                Segment("lockout", max(pause_t * T * rep_time[r, 3], 1e-3), "deadlift:lockout", r),
                Segment("descent", desc * T * rep_time[r, 0], "deadlift:descent", r),
                Segment("bottom", max(pause_b * T * rep_time[r, 1], 1e-3), "deadlift:bottom", r),
            ]
        if ctx.finish == "stay_down":  # stays set at the bar, hands on it
            segs.append(Segment("setup", 1.9, "deadlift:set", reps - 1))
        else:  # lets go of the bar on the floor and stands up: not a rep
            segs += [Segment("setup", 1.3 * T, "deadlift:stand_up", reps - 1),
                     Segment("setup", 0.6, "deadlift:rest")]
        return segs

    def top(self, ctx, rep):
        lean_back = ctx.sev(rep, "lockout_hyperextension")
        top = standing()
        top.update(pelvis=-0.4 * lean_back, lumbar=-0.6 * lean_back)
        return top

    def bottom(self, ctx, rep):
        """Start position: knees and shins set, pelvis solved so straight arms reach the bar."""
        key = ("start", rep)
        if key in ctx.cache:
            return ctx.cache[key]
        squat = ctx.sev(rep, "squatted_start")
        s = ctx.rep_scale[rep]
        pose = {"knee": (80.0 + squat) * s, "shank": (20.0 + 0.35 * squat) * s,
                "lumbar": ctx.sev(rep, "lumbar_flexion"), "thoracic": 0.0, "heel": 0.0}
        pose["pelvis"] = _solve_pelvis_for_reach(ctx.dims, pose, np.array([0.0, PLATE_RADIUS_M]))
        pose["neck"] = 0.0
        ctx.cache[key] = pose
        return pose

    def fill(self, ctx, seg, u, t, idx, frames):
        kind = seg.kind.split(":")[1]
        r = max(seg.rep, 0)
        stand = standing()
        start = self.bottom(ctx, r)
        top = self.top(ctx, r)
        hre = ctx.sev(r, "hips_rise_early") if seg.rep >= 0 else 0.0
        drift = ctx.sev(r, "bar_drift") / 100.0 if seg.rep >= 0 else 0.0
        reach_w, attached, bar_fwd = np.ones(len(u)), np.ones(len(u), bool), np.zeros(len(u))
        frames.set("sway", idx, 0.0)
        if kind in ("stand", "rest"):
            values = stand
            reach_w[:] = 0.0
            attached[:] = False
            frames.set("sway", idx, 1.0)
        elif kind == "get_down":
            prog = {"pelvis": window(u, 0.0, 0.75), "knee": window(u, 0.25, 1.0)}
            prog.update(shank=prog["knee"], lumbar=min_jerk(u), thoracic=min_jerk(u), heel=0.0 * u)
            values = lerp(stand, start, prog, CHANNELS)
            reach_w = min_jerk(u)
            attached = u >= 1.0 - 1e-9
        elif kind == "set":
            values = start
        elif kind == "bottom":  # the reset on the floor: into the next rep's start position
            values = start
            if 0 <= seg.rep < len(ctx.rep_sev) - 1:
                values = lerp(start, self.bottom(ctx, seg.rep + 1), min_jerk(u), CHANNELS)
        elif kind == "ascent":
            knee_end = 0.7 - 0.35 * hre
            hip_start = 0.12 + 0.35 * hre
            prog = {"knee": window(u, 0.0, knee_end), "pelvis": window(u, hip_start, 1.0)}
            prog.update(shank=prog["knee"], lumbar=prog["pelvis"], thoracic=prog["pelvis"], heel=0.0 * u)
            values = lerp(start, top, prog, CHANNELS)
            if hre > 0:
                values["pelvis"] = self._hips_first(ctx, start, top, values, u, hip_start, knee_end, hre)
            bar_fwd = drift * np.sin(np.pi * u)
        elif kind == "lockout":
            values = top
        elif kind == "descent":
            prog = {"pelvis": window(u, 0.0, 0.7), "knee": window(u, 0.3, 1.0)}
            prog.update(shank=prog["knee"], lumbar=prog["pelvis"], thoracic=prog["pelvis"], heel=0.0 * u)
            values = lerp(top, start, prog, CHANNELS)
            bar_fwd = drift * np.sin(np.pi * u)
        elif kind == "stand_up":
            prog = min_jerk(u)
            values = lerp(start, stand, prog, CHANNELS)
            reach_w = 1.0 - min_jerk(u / 0.5)
            attached[:] = False
        else:
            raise AssertionError(kind)
        values = dict(values)
        values["neck"] = -0.25 * np.asarray(values["pelvis"])
        for k in CHANNELS:
            frames.set(k, idx, np.broadcast_to(values[k], idx.shape))
        frames.set("reach_w", idx, reach_w)
        frames.set("attached", idx, attached.astype(float))
        frames.set("bar_forward", idx, bar_fwd)

    def _hips_first(self, ctx, start, top, values, u, hip_start, knee_end, hre) -> np.ndarray:
        """Pelvis tilt when the hips shoot up: while the knees straighten the
        trunk tips over so the bar barely leaves the floor (it rises only
        ``_EARLY_BAR_RISE_M`` by the time the hips start to extend)."""
        nominal = np.asarray(values["pelvis"], float)

        def tilt_for(j_values: dict, bar_y: float) -> float:
            return _solve_pelvis_for_reach(ctx.dims, j_values, np.array([0.0, bar_y]))

        def channels_at(uu: float) -> dict:
            kp = float(window(np.array(uu), 0.0, knee_end))
            out = {k: start[k] + (top[k] - start[k]) * kp for k in ("knee", "shank")}
            out.update(lumbar=float(start["lumbar"]), thoracic=0.0, heel=0.0)
            return out

        # Tipping over is limited: the trunk turns at most ~20° past its start angle.
        max_tilt = start["pelvis"] + _MAX_EXTRA_TILT_DEG * hre
        held = min(tilt_for(channels_at(hip_start), PLATE_RADIUS_M + _EARLY_BAR_RISE_M), max_tilt)
        solved = np.empty_like(nominal)
        for j, uj in enumerate(u):
            if uj < hip_start:
                ch = {k: float(np.asarray(values[k]).reshape(-1)[j]) if np.ndim(values[k]) else float(values[k])
                      for k in ("knee", "shank", "lumbar", "thoracic")}
                ch["heel"] = 0.0
                rise = _EARLY_BAR_RISE_M * (uj / hip_start) ** 2
                solved[j] = np.clip(tilt_for(ch, PLATE_RADIUS_M + rise), start["pelvis"], max_tilt)
            else:
                solved[j] = held + (top["pelvis"] - held) * float(window(np.array(uj), hip_start, 1.0))
        return (1.0 - hre) * nominal + hre * solved

    def arms(self, ctx, ch, frames):
        pose = pose_from_channels(ch)
        skel = bm.forward_kinematics(ctx.dims, pose)
        sh = skel.points["shoulder_r"][:, :2]
        L = ctx.dims.arm_reach
        w = frames.values["reach_w"]
        attached = frames.values["attached"] > 0.5
        bar_x = frames.values["bar_forward"]  # bar line: mid-foot (x = 0) plus drift
        line_x = (1.0 - w) * sh[:, 0] + w * bar_x
        dx = np.clip(line_x - sh[:, 0], -0.95 * L, 0.95 * L)
        reach_y = sh[:, 1] - np.sqrt(L**2 - dx**2)
        # A bar on the floor can't go lower; a held bar can't go below the floor either.
        grip_y = np.where(attached | (w > 0.999), np.maximum(reach_y, PLATE_RADIUS_M), reach_y)
        target = np.stack([sh[:, 0] + dx, grip_y], axis=-1)
        s, e = bm.arm_angles_to_reach(skel, target)
        ctx.cache["grip"] = target
        return pose.replace(shoulder_flexion=s, elbow_flexion=e)

    def implement(self, ctx, pose, frames):
        attached = frames.values["attached"] > 0.5
        grip = ctx.cache["grip"]
        n = len(pose)
        anchor = np.zeros((n, 3))
        # The bar rests where it was last put down (initially over the mid-foot).
        last = np.array([0.0, PLATE_RADIUS_M])
        for i in range(n):
            if attached[i]:
                last = grip[i]
            anchor[i, :2] = last
        anchor[~attached, 1] = PLATE_RADIUS_M
        return anchor, attached


def _solve_pelvis_for_reach(dims: bm.BodyDims, pose: dict, grip_xy: np.ndarray) -> float:
    """Smallest pelvis tilt at which straight arms reach ``grip_xy`` (deg)."""
    tilts = np.linspace(-10.0, 110.0, 481)
    ch = {k: np.full(len(tilts), float(pose.get(k, 0.0))) for k in CHANNELS}
    ch["pelvis"] = tilts
    skel = bm.forward_kinematics(dims, pose_from_channels(ch))
    dist = np.linalg.norm(skel.points["shoulder_r"][:, :2] - grip_xy, axis=-1) - dims.arm_reach
    ok = np.nonzero(dist <= 0)[0]
    if len(ok) == 0:
        return float(tilts[np.argmin(dist)])
    i = ok[0]
    if i == 0:
        return float(tilts[0])
    # Linear interpolation of the crossing.
    f = dist[i - 1] / (dist[i - 1] - dist[i])
    return float(tilts[i - 1] + f * (tilts[i] - tilts[i - 1]))
