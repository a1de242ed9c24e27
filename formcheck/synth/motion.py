"""Motion generators: per-frame joint angles of whole sets, with ground truth.

Each generator returns a :class:`Motion`: a :class:`~formcheck.synth.body.BodyPose`
with one value per frame, the phase of every frame, rep boundaries and the
faults each rep shows. Squats follow the time course of a real squat
(:mod:`formcheck.synth.reference_cycle`); the hinges use minimum-jerk
transitions with joint-specific timing (knees lead off the floor in a
deadlift, hips lead the lowering).

Every clip starts with a standing set-up period (quiet standing with sway and
breathing; for the deadlift also getting down to the bar). Faults are given
as ``{code: severity}`` (see :mod:`formcheck.synth.faults`) and applied to
the reps listed in ``fault_reps`` (default: all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from formcheck.synth import body as bm
from formcheck.synth.faults import FAULTS, canonical_exercise, validate_faults
from formcheck.synth.reference_cycle import normalised_shape

PHASES = ("setup", "descent", "bottom", "ascent", "lockout")
PHASE_CODE = {name: i for i, name in enumerate(PHASES)}
#: "bar" is a barbell drawn without plates (they hide the legs in a side view).
IMPLEMENTS = ("none", "barbell", "bar", "kettlebell")
DEFAULT_IMPLEMENT = {"squat": "none", "deadlift": "barbell", "rdl": "barbell",
                     "good_morning": "bar", "kettlebell_swing": "kettlebell"}
#: Radius of a standard plate (m): the bar's height when it rests on the floor.
PLATE_RADIUS_M = 0.225
#: How far the bar has risen when hips that shot up start to extend (m).
_EARLY_BAR_RISE_M = 0.05
#: Most the trunk tips over (beyond its start angle) when the hips rise first (deg).
_MAX_EXTRA_TILT_DEG = 20.0
#: Bar radius plus a little (m): how far the bar sits behind the upper-back skin on a back squat.
_BAR_ON_BACK_OFFSET_M = 0.02

_CHANNELS = ("shank", "knee", "pelvis", "lumbar", "thoracic", "neck", "heel")


@dataclass(frozen=True)
class Rep:
    """One repetition.

    For lifts that start at the top (squat, RDL, good morning, swing)
    ``start_s`` is the start of the descent, ``bottom_s`` the deepest moment,
    ``end_s`` the return to the top and ``lockout_s == end_s``. For the
    deadlift, which starts on the floor, ``start_s`` is lift-off,
    ``bottom_s == start_s``, ``lockout_s`` the middle of the lockout and
    ``end_s`` the moment the bar is back on the floor.
    """

    index: int
    start_s: float
    bottom_s: float
    lockout_s: float
    end_s: float
    faults: tuple[str, ...]
    severities: dict[str, float]


@dataclass(frozen=True, eq=False)
class Motion:
    """A generated set: joint angles per frame plus its truth.

    Attributes
    ----------
    exercise : str
    fps : float
    time_s : ndarray (n,)
    pose : BodyPose
        Angles per frame (arrays of shape (n,)).
    dims : BodyDims
    phase : ndarray (n,) int8
        Index into :data:`PHASES`.
    reps : tuple of Rep
    implement : str
        "none", "barbell", "bar" (no plates) or "kettlebell".
    implement_anchor : ndarray (n, 3)
        Lab position of the bar axis / kettlebell handle (NaN without implement).
    implement_attached : ndarray (n,) bool
        The hands hold the implement.
    severities : dict
        Fault severities requested for the set.
    """

    exercise: str
    fps: float
    time_s: np.ndarray
    pose: bm.BodyPose
    dims: bm.BodyDims
    phase: np.ndarray
    reps: tuple[Rep, ...]
    implement: str
    implement_anchor: np.ndarray
    implement_attached: np.ndarray
    severities: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time_s)

    def skeleton(self) -> bm.Skeleton:
        """Forward kinematics of every frame."""
        return bm.forward_kinematics(self.dims, self.pose)

    @classmethod
    def from_pose(cls, pose: bm.BodyPose, dims: bm.BodyDims | None = None, fps: float = 30.0) -> "Motion":
        """A bare motion (no reps, no implement) that just plays ``pose``, e.g. for rendering test poses."""
        n = len(pose)
        return cls(exercise="pose", fps=float(fps), time_s=np.arange(n) / fps, pose=pose,
                   dims=dims or bm.BodyDims.from_height(1.75), phase=np.zeros(n, np.int8), reps=(),
                   implement="none", implement_anchor=np.full((n, 3), np.nan),
                   implement_attached=np.zeros(n, bool))


# ---------------------------------------------------------------- small helpers
def min_jerk(x: np.ndarray) -> np.ndarray:
    """Minimum-jerk progress 0→1 (zero velocity and acceleration at both ends)."""
    x = np.clip(x, 0.0, 1.0)
    return x**3 * (10.0 - 15.0 * x + 6.0 * x * x)


def _window(u: np.ndarray, start: float, stop: float) -> np.ndarray:
    """Minimum-jerk progress of a movement that runs from ``start`` to ``stop`` (fractions of u)."""
    return min_jerk((u - start) / max(stop - start, 1e-6))


def _lerp(a: dict, b: dict, prog: dict | np.ndarray, keys: Iterable[str]) -> dict:
    out = {}
    for k in keys:
        p = prog.get(k, 0.0) if isinstance(prog, dict) else prog
        out[k] = a[k] + (b[k] - a[k]) * p
    return out


@dataclass
class _Segment:
    phase: str
    duration: float
    kind: str
    rep: int = -1


@dataclass
class _Frames:
    """Per-frame channel arrays being filled segment by segment."""

    n: int
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def set(self, name: str, index: np.ndarray, value) -> None:
        if name not in self.values:
            self.values[name] = np.full(self.n, np.nan)
        self.values[name][index] = value


def _timeline(segments: list[_Segment], fps: float):
    durations = np.array([s.duration for s in segments])
    starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    total = float(durations.sum())
    n = int(np.floor(total * fps + 1e-9)) + 1
    t = np.arange(n) / fps
    seg = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(segments) - 1)
    # Skip zero-length segments: a frame at their start belongs to the next one.
    while True:
        zero = durations[seg] <= 0
        if not zero.any():
            break
        seg[zero] = np.minimum(seg[zero] + 1, len(segments) - 1)
    u = np.clip((t - starts[seg]) / np.maximum(durations[seg], 1e-9), 0.0, 1.0)
    return t, seg, u, starts


def _sway(t: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Quiet-standing sway and breathing, a fraction of a degree."""
    ph = rng.uniform(0, 2 * np.pi, 3)
    return {
        "pelvis": 0.8 * np.sin(2 * np.pi * 0.23 * t + ph[0]),
        "shank": 0.5 * np.sin(2 * np.pi * 0.17 * t + ph[1]),
        "thoracic": 0.8 * np.sin(2 * np.pi * 0.25 * t + ph[2]),
    }


def _standing() -> dict[str, float]:
    return {k: 0.0 for k in _CHANNELS}


def lumbar_lean_gain(dims: bm.BodyDims, lumbar: np.ndarray, thoracic: np.ndarray | float = 0.0) -> np.ndarray:
    """Extra trunk inclination (deg) caused by spinal flexion with the pelvis held still."""
    lumbar = np.atleast_1d(np.asarray(lumbar, float))
    with_flex = bm.forward_kinematics(dims, bm.BodyPose(lumbar_flexion=lumbar, thoracic_flexion=thoracic))
    neutral = bm.forward_kinematics(dims, bm.BodyPose(lumbar_flexion=np.zeros_like(lumbar)))
    return bm.trunk_inclination_deg(with_flex) - bm.trunk_inclination_deg(neutral)


def _pose_from_channels(ch: dict[str, np.ndarray], mid_foot_x: float = 0.0, **arms) -> bm.BodyPose:
    # With feet flat, the thigh's orientation is shank lean − knee flexion, so
    # the hip flexion follows from the pelvis tilt.
    hip = ch["pelvis"] - (ch["shank"] - ch["knee"])
    return bm.BodyPose(
        pelvis_tilt=ch["pelvis"], hip_flexion=hip, knee_flexion=ch["knee"], heel_rise=ch["heel"],
        lumbar_flexion=ch["lumbar"], thoracic_flexion=ch["thoracic"], neck_flexion=ch["neck"],
        mid_foot_x=mid_foot_x, **arms,
    )


# ---------------------------------------------------------------- the generator
@dataclass(frozen=True)
class MotionParams:
    """Everything a motion generator needs (see :func:`generate`)."""

    exercise: str = "squat"
    reps: int = 3
    faults: dict = field(default_factory=dict)
    fault_reps: tuple[int, ...] | None = None
    depth: float = 1.0
    tempo: float = 1.0
    pause_bottom_s: float | None = None
    pause_top_s: float | None = None
    setup_s: float = 1.5
    fps: float = 30.0
    height_m: float = 1.75
    lean_compensation: float = 0.7
    implement: str | None = None
    variability: float = 1.0
    seed: int = 0


_TIMING = {  # seconds at tempo 1: descent, bottom pause, ascent, top pause
    "squat": (1.2, 0.3, 1.0, 0.8),
    "deadlift": (1.3, 0.6, 1.2, 0.8),
    "rdl": (1.5, 0.2, 1.2, 0.7),
    "good_morning": (1.5, 0.3, 1.3, 0.6),
    "kettlebell_swing": (0.5, 0.0, 0.45, 0.3),
}


def generate(params: MotionParams | None = None, **kwargs) -> Motion:
    """Generate a set of reps.

    Parameters
    ----------
    params : MotionParams, optional
        Or give its fields as keyword arguments.

    Returns
    -------
    Motion

    Raises
    ------
    ValueError
        Unknown exercise or fault, severity out of range, bad counts.
    """
    p = params if params is not None else MotionParams(**kwargs)
    if params is not None and kwargs:
        from dataclasses import replace

        p = replace(params, **kwargs)
    exercise = canonical_exercise(p.exercise)
    faults = validate_faults(exercise, p.faults)
    if not 1 <= int(p.reps) <= 50:
        raise ValueError(f"reps must be within 1–50, got {p.reps}")
    if p.fps <= 0 or p.fps > 240:
        raise ValueError(f"fps must be within (0, 240], got {p.fps}")
    if not 0.2 <= p.tempo <= 5.0:
        raise ValueError(f"tempo must be within 0.2–5, got {p.tempo}")
    if not 0.2 <= p.depth <= 1.3:
        raise ValueError(f"depth must be within 0.2–1.3, got {p.depth}")
    if p.setup_s < 0:
        raise ValueError("setup_s must be >= 0")
    implement = p.implement or DEFAULT_IMPLEMENT[exercise]
    if implement not in IMPLEMENTS:
        raise ValueError(f"unknown implement {implement!r} (choose from {', '.join(IMPLEMENTS)})")
    if exercise == "deadlift" and implement not in ("barbell", "bar"):
        raise ValueError("a conventional deadlift needs the barbell")
    if exercise == "kettlebell_swing" and implement != "kettlebell":
        raise ValueError("a kettlebell swing needs the kettlebell")
    if implement == "kettlebell" and exercise != "kettlebell_swing":
        raise ValueError("the kettlebell is only used for kettlebell_swing")

    rng = np.random.default_rng(p.seed)
    dims = bm.BodyDims.from_height(p.height_m)
    reps = int(p.reps)
    fault_reps = set(range(reps)) if p.fault_reps is None else {int(i) for i in p.fault_reps}
    var = float(p.variability)
    rep_sev = [{k: (v if i in fault_reps else 0.0) for k, v in faults.items()} for i in range(reps)]
    rep_scale = 1.0 + 0.03 * var * rng.standard_normal(reps)
    rep_time = np.clip(1.0 + 0.06 * var * rng.standard_normal((reps, 4)), 0.8, 1.2)

    desc, pause_b, asc, pause_t = _TIMING[exercise]
    pause_b = pause_b if p.pause_bottom_s is None else float(p.pause_bottom_s)
    pause_t = pause_t if p.pause_top_s is None else float(p.pause_top_s)
    T = float(p.tempo)

    builder = _BUILDERS[exercise]
    ctx = _Context(dims=dims, params=p, exercise=exercise, implement=implement, rep_sev=rep_sev,
                   rep_scale=rep_scale, rng=rng)
    segments = builder.segments(ctx, reps, T, desc, pause_b, asc, pause_t, rep_time)
    t, seg_idx, u, seg_start = _timeline(segments, p.fps)
    frames = _Frames(len(t))
    for i, seg in enumerate(segments):
        sel = np.nonzero(seg_idx == i)[0]
        if len(sel):
            builder.fill(ctx, seg, u[sel], t[sel], sel, frames)
    ch = {k: frames.values[k] for k in _CHANNELS}
    sway = _sway(t, rng)
    still = frames.values.get("sway", np.zeros(len(t)))
    for k, v in sway.items():
        ch[k] = ch[k] + still * v
    if builder.compensates and p.lean_compensation:
        # A lifter who rounds keeps the trunk lean roughly where it was by
        # tucking the pelvis: absorb that share of the flexion-induced lean.
        flexion = np.maximum(ch["lumbar"], 0.0)
        ch["pelvis"] = ch["pelvis"] - p.lean_compensation * lumbar_lean_gain(dims, flexion, 0.0)
    pose = builder.arms(ctx, ch, frames)

    phase = np.array([PHASE_CODE[segments[i].phase] for i in seg_idx], np.int8)
    anchor, attached = builder.implement(ctx, pose, frames)
    rep_list = _reps(exercise, segments, seg_start, builder.floor_start, rep_sev, dims, pose, p.fps)
    return Motion(exercise=exercise, fps=float(p.fps), time_s=t, pose=pose, dims=dims, phase=phase,
                  reps=rep_list, implement=implement, implement_anchor=anchor,
                  implement_attached=attached, severities=faults)


def _reps(exercise, segments, seg_start, floor_start, rep_sev, dims, pose, fps) -> tuple[Rep, ...]:
    skel = bm.forward_kinematics(dims, pose)
    reps = []
    for r in range(len(rep_sev)):
        times = {}
        for i, s in enumerate(segments):
            if s.rep == r:
                times.setdefault(s.phase, (seg_start[i], seg_start[i] + s.duration))
        if floor_start:
            start = times["ascent"][0]
            bottom = start
            lock = 0.5 * sum(times["lockout"])
            end = times["descent"][1]
        else:
            start = times["descent"][0]
            b0, b1 = times.get("bottom", (times["descent"][1],) * 2)
            bottom = 0.5 * (b0 + b1)
            end = times["ascent"][1]
            lock = end
        sev = rep_sev[r]
        found = [code for code, v in sev.items() if code != "shallow_depth" and v >= FAULTS[code].present_at and v > 0]
        if exercise == "squat":  # depth is judged on the realised geometry
            k = min(int(round(bottom * fps)), len(skel) - 1)
            hip_y = skel.points["hip_centre"][k, 1]
            knee_y = skel.midpoint("knee")[k, 1]
            if hip_y - knee_y > 0.02 * dims.height:
                found.append("shallow_depth")
        order = list(FAULTS)
        found = tuple(sorted(set(found), key=order.index))
        reps.append(Rep(index=r, start_s=float(start), bottom_s=float(bottom), lockout_s=float(lock),
                        end_s=float(end), faults=found, severities=dict(sev)))
    return tuple(reps)


@dataclass
class _Context:
    dims: bm.BodyDims
    params: MotionParams
    exercise: str
    implement: str
    rep_sev: list[dict]
    rep_scale: np.ndarray
    rng: np.random.Generator
    cache: dict = field(default_factory=dict)

    def sev(self, rep: int, code: str) -> float:
        if rep < 0:
            return 0.0
        return float(self.rep_sev[rep].get(code, 0.0))


# ---------------------------------------------------------------- exercise builders
class _Builder:
    """Common scaffolding: top-start lifts (descent → bottom → ascent → lockout)."""

    name = ""
    floor_start = False
    #: Whether spinal flexion is partly absorbed by tilting the pelvis back
    #: (``MotionParams.lean_compensation``); the deadlift solves its start instead.
    compensates = True

    def segments(self, ctx, reps, T, desc, pause_b, asc, pause_t, rep_time):
        segs = [_Segment("setup", ctx.params.setup_s, f"{self.name}:stand")]
        for r in range(reps):
            segs += [
                _Segment("descent", desc * T * rep_time[r, 0], f"{self.name}:descent", r),
                _Segment("bottom", pause_b * T * rep_time[r, 1], f"{self.name}:bottom", r),
                _Segment("ascent", asc * T * rep_time[r, 2], f"{self.name}:ascent", r),
                _Segment("lockout", max(pause_t * T * rep_time[r, 3], 1e-3) if r < reps - 1 else 0.8,
                         f"{self.name}:lockout", r),
            ]
        return segs

    # Key poses -------------------------------------------------------
    def top(self, ctx, rep) -> dict:
        return _standing()

    def bottom(self, ctx, rep) -> dict:
        raise NotImplementedError

    def progress(self, kind, u, ctx, rep) -> dict:
        """Per-channel progress top→bottom (0..1) at local time u of a movement segment."""
        if kind == "descent":
            knee = _window(u, 0.0, 0.65)
            rest = min_jerk(u)
        else:  # ascent: progress still measured as "how far down"
            knee = 1.0 - _window(u, 0.0, 0.8)
            rest = 1.0 - min_jerk(u)
        return {"shank": knee, "knee": knee, "pelvis": rest, "lumbar": rest ** 1.5, "thoracic": rest,
                "heel": knee}

    def fill(self, ctx, seg, u, t, idx, frames):
        kind = seg.kind.split(":")[1]
        r = seg.rep
        top = self.top(ctx, r) if r >= 0 else _standing()
        if kind == "stand":
            values = _standing()
            frames.set("sway", idx, 1.0)
        elif kind in ("descent", "ascent"):
            values = _lerp(top, self.bottom(ctx, r), self.progress(kind, u, ctx, r), _CHANNELS)
            if kind == "descent" and r == 0:  # from quiet standing into the first rep's top
                values = _lerp(_standing(), values, min_jerk(u / 0.3), _CHANNELS)
            frames.set("sway", idx, 0.0)
        elif kind == "bottom":
            values = self.bottom(ctx, r)
            frames.set("sway", idx, 0.0)
        elif kind == "lockout":
            values = top
            nxt = self.top(ctx, r + 1) if r + 1 < len(ctx.rep_sev) else _standing()
            values = _lerp(top, nxt, _window(u, 0.3, 1.0), _CHANNELS)
            frames.set("sway", idx, 0.0)
        else:
            raise AssertionError(kind)
        values = dict(values)
        values["neck"] = -0.3 * (np.asarray(values["pelvis"]) + 0.7 * np.asarray(values["lumbar"]))
        for k in _CHANNELS:
            frames.set(k, idx, np.broadcast_to(values[k], idx.shape))
        self.extra(ctx, seg, kind, u, idx, frames, values)

    def extra(self, ctx, seg, kind, u, idx, frames, values) -> None:
        pass

    # Arms and implement ------------------------------------------------
    def arms(self, ctx, ch, frames) -> bm.BodyPose:
        return _pose_from_channels(ch)

    def implement(self, ctx, pose, frames):
        n = len(pose)
        return np.full((n, 3), np.nan), np.zeros(n, bool)


def _hanging_arms(ctx, ch, forward_m: np.ndarray | float = 0.0, bend: float = 0.0) -> bm.BodyPose:
    """Straight arms hanging under the shoulders, the grip ``forward_m`` ahead of them."""
    pose = _pose_from_channels(ch)
    skel = bm.forward_kinematics(ctx.dims, pose)
    sh = skel.points["shoulder_r"][:, :2]
    reach = ctx.dims.arm_reach * np.cos(np.radians(bend))
    dx = np.clip(np.broadcast_to(forward_m, (len(pose),)), -0.9 * reach, 0.9 * reach)
    target = np.stack([sh[:, 0] + dx, sh[:, 1] - np.sqrt(reach**2 - dx**2)], axis=-1)
    s, e = bm.arm_angles_to_reach(skel, target)
    return pose.replace(shoulder_flexion=s, elbow_flexion=e)


def _arms_at_lab_angle(ctx, ch, alpha_deg: np.ndarray, elbow_deg: np.ndarray | float = 0.0) -> bm.BodyPose:
    """Arms whose upper arm points ``alpha_deg`` forward of hanging (lab)."""
    pose = _pose_from_channels(ch)
    skel = bm.forward_kinematics(ctx.dims, pose)
    s = np.degrees(skel.angles["upper_thoracic"]) + np.asarray(alpha_deg)
    return pose.replace(shoulder_flexion=s, elbow_flexion=elbow_deg)


def _bar_on_back(ctx, ch) -> tuple[bm.BodyPose, np.ndarray]:
    """Hands gripping a bar that rests on the upper back (high-bar position)."""
    pose = _pose_from_channels(ch)
    skel = bm.forward_kinematics(ctx.dims, pose)
    H = ctx.dims.height
    t7, c7 = skel.points["T7"][:, :2], skel.points["C7"][:, :2]
    along = t7 + 0.8 * (c7 - t7)
    axis = (c7 - t7) / np.linalg.norm(c7 - t7, axis=-1, keepdims=True)
    back = np.stack([-axis[:, 1], axis[:, 0]], axis=-1)  # axis turned counter-clockwise: backward
    bar = along + back * (0.04 * H + _BAR_ON_BACK_OFFSET_M)
    s, e = bm.arm_angles_to_reach(skel, bar, elbow_bend="forward")  # elbows down under the bar
    return pose.replace(shoulder_flexion=s, elbow_flexion=e), bar


class _Squat(_Builder):
    name = "squat"

    def bottom(self, ctx, rep):
        cached = ctx.cache.get(("bottom", rep))
        if cached is not None:
            return cached
        d = ctx.params.depth * (1.0 - 0.7 * ctx.sev(rep, "shallow_depth")) * ctx.rep_scale[rep]
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
            pose, bar = _bar_on_back(ctx, ch)
            ctx.cache["bar"] = bar
            return pose
        # Bodyweight squat: arms rise forward as a counterweight.
        return _arms_at_lab_angle(ctx, ch, 20.0 + 70.0 * q, 8.0)

    def implement(self, ctx, pose, frames):
        n = len(pose)
        if ctx.implement not in ("barbell", "bar"):
            return np.full((n, 3), np.nan), np.zeros(n, bool)
        bar = ctx.cache["bar"]
        return np.concatenate([bar, np.zeros((n, 1))], axis=1), np.ones(n, bool)


class _HingeBase(_Builder):
    """RDL and good morning: hinge from the top with soft knees."""

    max_pelvis = 72.0
    knee_bottom = 18.0
    knee_top = 4.0

    def top(self, ctx, rep):
        lean_back = ctx.sev(rep, "lockout_hyperextension")
        top = _standing()
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
            prog["knee"] = prog["shank"] = _window(u, 0.0, 0.55)  # knees unlock first
        return prog

    def extra(self, ctx, seg, kind, u, idx, frames, values):
        drift = ctx.sev(seg.rep, "bar_drift") / 100.0
        q = np.clip(np.asarray(values["pelvis"]) / max(self.max_pelvis, 1e-6), 0, 1)
        frames.set("bar_forward", idx, drift * q)


class _RDL(_HingeBase):
    name = "rdl"

    def arms(self, ctx, ch, frames):
        fwd = np.nan_to_num(frames.values.get("bar_forward", 0.0))
        pose = _hanging_arms(ctx, ch, fwd)
        ctx.cache["pose"] = pose
        return pose

    def implement(self, ctx, pose, frames):
        return _grip_anchor(ctx, pose), np.ones(len(pose), bool)


class _GoodMorning(_HingeBase):
    name = "good_morning"
    max_pelvis = 80.0
    knee_bottom = 12.0

    def arms(self, ctx, ch, frames):
        if ctx.implement in ("barbell", "bar"):
            pose, bar = _bar_on_back(ctx, ch)
            ctx.cache["bar"] = bar
            return pose
        # Bodyweight: hands resting on the front of the thighs (the sagittal
        # model cannot fold the arms across the chest).
        return _hanging_arms(ctx, ch, 0.0, bend=25.0)

    def implement(self, ctx, pose, frames):
        n = len(pose)
        if ctx.implement not in ("barbell", "bar"):
            return np.full((n, 3), np.nan), np.zeros(n, bool)
        return np.concatenate([ctx.cache["bar"], np.zeros((n, 1))], axis=1), np.ones(n, bool)


def _grip_anchor(ctx, pose: bm.BodyPose) -> np.ndarray:
    skel = bm.forward_kinematics(ctx.dims, pose)
    g = skel.midpoint("grip")
    return np.concatenate([g[:, :2], np.zeros((len(g), 1))], axis=1)


class _Deadlift(_Builder):
    """Conventional deadlift from the floor: set-up, then pull / lockout / lower / reset."""

    name = "deadlift"
    floor_start = True
    compensates = False

    def segments(self, ctx, reps, T, desc, pause_b, asc, pause_t, rep_time):
        segs = [_Segment("setup", ctx.params.setup_s, "deadlift:stand"),
                _Segment("setup", 1.5 * T, "deadlift:get_down", 0),
                _Segment("setup", 0.6, "deadlift:set", 0)]
        for r in range(reps):
            segs += [
                _Segment("ascent", asc * T * rep_time[r, 2], "deadlift:ascent", r),
                _Segment("lockout", max(pause_t * T * rep_time[r, 3], 1e-3), "deadlift:lockout", r),
                _Segment("descent", desc * T * rep_time[r, 0], "deadlift:descent", r),
                _Segment("bottom", max(pause_b * T * rep_time[r, 1], 1e-3), "deadlift:bottom", r),
            ]
        segs += [_Segment("setup", 1.3 * T, "deadlift:stand_up", reps - 1),
                 _Segment("setup", 0.6, "deadlift:rest")]
        return segs

    def top(self, ctx, rep):
        lean_back = ctx.sev(rep, "lockout_hyperextension")
        top = _standing()
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
        stand = _standing()
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
            prog = {"pelvis": _window(u, 0.0, 0.75), "knee": _window(u, 0.25, 1.0)}
            prog.update(shank=prog["knee"], lumbar=min_jerk(u), thoracic=min_jerk(u), heel=0.0 * u)
            values = _lerp(stand, start, prog, _CHANNELS)
            reach_w = min_jerk(u)
            attached = u >= 1.0 - 1e-9
        elif kind in ("set", "bottom"):
            values = start
        elif kind == "ascent":
            knee_end = 0.7 - 0.35 * hre
            hip_start = 0.12 + 0.35 * hre
            prog = {"knee": _window(u, 0.0, knee_end), "pelvis": _window(u, hip_start, 1.0)}
            prog.update(shank=prog["knee"], lumbar=prog["pelvis"], thoracic=prog["pelvis"], heel=0.0 * u)
            values = _lerp(start, top, prog, _CHANNELS)
            if hre > 0:
                values["pelvis"] = self._hips_first(ctx, start, top, values, u, hip_start, knee_end, hre)
            bar_fwd = drift * np.sin(np.pi * u)
        elif kind == "lockout":
            values = top
        elif kind == "descent":
            prog = {"pelvis": _window(u, 0.0, 0.7), "knee": _window(u, 0.3, 1.0)}
            prog.update(shank=prog["knee"], lumbar=prog["pelvis"], thoracic=prog["pelvis"], heel=0.0 * u)
            values = _lerp(top, start, prog, _CHANNELS)
            bar_fwd = drift * np.sin(np.pi * u)
        elif kind == "stand_up":
            prog = min_jerk(u)
            values = _lerp(start, stand, prog, _CHANNELS)
            reach_w = 1.0 - min_jerk(u / 0.5)
            attached[:] = False
        else:
            raise AssertionError(kind)
        values = dict(values)
        values["neck"] = -0.25 * np.asarray(values["pelvis"])
        for k in _CHANNELS:
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
            kp = float(_window(np.array(uu), 0.0, knee_end))
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
                solved[j] = held + (top["pelvis"] - held) * float(_window(np.array(uj), hip_start, 1.0))
        return (1.0 - hre) * nominal + hre * solved

    def arms(self, ctx, ch, frames):
        pose = _pose_from_channels(ch)
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
    ch = {k: np.full(len(tilts), float(pose.get(k, 0.0))) for k in _CHANNELS}
    ch["pelvis"] = tilts
    skel = bm.forward_kinematics(dims, _pose_from_channels(ch))
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


class _Swing(_Builder):
    """Two-handed Russian kettlebell swing: hike, hip snap, float."""

    name = "kettlebell_swing"
    alpha_top = 85.0
    alpha_bottom = -25.0

    def segments(self, ctx, reps, T, desc, pause_b, asc, pause_t, rep_time):
        segs = super().segments(ctx, reps, T, desc, pause_b, asc, pause_t, rep_time)
        segs[-1] = _Segment("lockout", max(pause_t * T, 1e-3), "kettlebell_swing:lockout", reps - 1)
        segs.append(_Segment("setup", 1.0 * T, "kettlebell_swing:park", reps - 1))
        segs.append(_Segment("setup", 0.5, "kettlebell_swing:stand"))
        return segs

    def top(self, ctx, rep):
        lean_back = ctx.sev(rep, "lockout_hyperextension")
        top = _standing()
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
            hinge = _window(u, 0.15, 1.0)
            knee = _window(u, 0.3, 1.0)
        else:
            hinge = 1.0 - _window(u, 0.0, 0.75)
            knee = 1.0 - _window(u, 0.0, 0.6)
        return {"pelvis": hinge, "lumbar": hinge ** 1.5, "thoracic": hinge, "knee": knee, "shank": knee,
                "heel": 0.0 * u}

    def fill(self, ctx, seg, u, t, idx, frames):
        kind = seg.kind.split(":")[1]
        if kind == "park":
            values = _standing()
            frames.set("sway", idx, 0.0)
            for k in _CHANNELS:
                frames.set(k, idx, np.broadcast_to(values[k], idx.shape))
            frames.set("alpha", idx, self._alpha_top(ctx, seg.rep) * (1.0 - min_jerk(u)))
            return
        super().fill(ctx, seg, u, t, idx, frames)
        r = seg.rep
        if kind == "stand":
            alpha = 0.0 * u
        elif kind == "descent":
            start = 0.0 if r == 0 else self._alpha_top(ctx, r - 1)
            alpha = start + (self.alpha_bottom - start) * _window(u, 0.0, 0.8)
        elif kind == "bottom":
            alpha = np.full(len(u), self.alpha_bottom)
        elif kind == "ascent":
            alpha = self.alpha_bottom + (self._alpha_top(ctx, r) - self.alpha_bottom) * _window(u, 0.1, 1.0)
        else:  # lockout: the bell floats
            alpha = self._alpha_top(ctx, r) + 3.0 * np.sin(np.pi * u)
        frames.set("alpha", idx, alpha)

    def _alpha_top(self, ctx, rep):
        return self.alpha_top - 30.0 * ctx.sev(rep, "squatting_the_swing")

    def arms(self, ctx, ch, frames):
        pose = _arms_at_lab_angle(ctx, ch, frames.values["alpha"], 0.0)
        ctx.cache["pose"] = pose
        return pose

    def implement(self, ctx, pose, frames):
        return _grip_anchor(ctx, pose), np.ones(len(pose), bool)


_BUILDERS: dict[str, _Builder] = {
    "squat": _Squat(), "deadlift": _Deadlift(), "rdl": _RDL(), "good_morning": _GoodMorning(),
    "kettlebell_swing": _Swing(),
}


# ---------------------------------------------------------------- public shortcuts
def squat(**kwargs) -> Motion:
    """Squat; faults: shallow_depth, butt_wink, lumbar_hyperextension, excessive_forward_lean, heel_rise."""
    return generate(exercise="squat", **kwargs)


def deadlift(**kwargs) -> Motion:
    """Conventional deadlift; faults: lumbar_flexion, hips_rise_early, squatted_start, bar_drift,
    lockout_hyperextension."""
    return generate(exercise="deadlift", **kwargs)


def romanian_deadlift(**kwargs) -> Motion:
    """Romanian deadlift; faults: lumbar_flexion, knees_too_bent, insufficient_hinge, bar_drift,
    lockout_hyperextension."""
    return generate(exercise="rdl", **kwargs)


def good_morning(**kwargs) -> Motion:
    """Good morning; faults: lumbar_flexion, knees_too_bent, insufficient_hinge."""
    return generate(exercise="good_morning", **kwargs)


def kettlebell_swing(**kwargs) -> Motion:
    """Kettlebell swing; faults: lumbar_flexion, squatting_the_swing, insufficient_hinge,
    lockout_hyperextension."""
    return generate(exercise="kettlebell_swing", **kwargs)


GENERATORS: dict[str, Callable[..., Motion]] = {
    "squat": squat, "deadlift": deadlift, "rdl": romanian_deadlift, "good_morning": good_morning,
    "kettlebell_swing": kettlebell_swing,
}
