"""Motion generators: per-frame joint angles of whole sets, with ground truth.

Each generator returns a :class:`Motion`: a :class:`~formcheck.synth.body.BodyPose`
with one value per frame, the phase of every frame, rep boundaries and the
faults each rep shows. :func:`generate` lays the set out in time
(:mod:`formcheck.synth.timeline`), has the exercise's builder
(:mod:`formcheck.synth.lifts`) fill the joint-angle channels
(:mod:`formcheck.synth.channels`) and labels each rep. Squats follow the
time course of a real squat (:mod:`formcheck.synth.reference_cycle`); the
hinges use minimum-jerk transitions with joint-specific timing (knees lead
off the floor in a deadlift, hips lead the lowering).

Every clip starts with a standing set-up period (quiet standing with sway and
breathing; for the deadlift also getting down to the bar). Faults are given
as ``{code: severity}`` (see :mod:`formcheck.synth.faults`) and applied to
the reps listed in ``fault_reps`` (default: all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from formcheck.synth import body as bm
from formcheck.synth.channels import CHANNELS, Frames, lumbar_lean_gain, standing_sway
from formcheck.synth.faults import FAULTS, canonical_exercise, validate_faults
from formcheck.synth.lifts import BUILDERS
from formcheck.synth.lifts.base import Context
from formcheck.synth.timeline import PHASE_CODE, TIMING, timeline

#: How a deadlift set ends: let go of the bar at the floor and stand up (not a rep), or stay set at the bar.
FINISHES = ("stand_up", "stay_down")
#: "bar" is a barbell drawn without plates (they hide the legs in a side view).
IMPLEMENTS = ("none", "barbell", "bar", "kettlebell")
DEFAULT_IMPLEMENT = {"squat": "none", "deadlift": "barbell", "rdl": "barbell",
                     "good_morning": "bar", "kettlebell_swing": "kettlebell"}


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
        Index into :data:`formcheck.synth.timeline.PHASES`.
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
    finish: str = "stand_up"
    seed: int = 0


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
    if p.finish not in FINISHES:
        raise ValueError(f"unknown finish {p.finish!r} (choose from {', '.join(FINISHES)})")
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

    desc, pause_b, asc, pause_t = TIMING[exercise]
    pause_b = pause_b if p.pause_bottom_s is None else float(p.pause_bottom_s)
    pause_t = pause_t if p.pause_top_s is None else float(p.pause_top_s)
    T = float(p.tempo)

    builder = BUILDERS[exercise]
    ctx = Context(dims=dims, exercise=exercise, implement=implement, setup_s=p.setup_s, depth=p.depth,
                  rep_sev=rep_sev, rep_scale=rep_scale, rng=rng, finish=p.finish)
    segments = builder.segments(ctx, reps, T, desc, pause_b, asc, pause_t, rep_time)
    t, seg_idx, u, seg_start = timeline(segments, p.fps)
    frames = Frames(len(t))
    for i, seg in enumerate(segments):
        sel = np.nonzero(seg_idx == i)[0]
        if len(sel):
            builder.fill(ctx, seg, u[sel], t[sel], sel, frames)
    ch = {k: frames.values[k] for k in CHANNELS}
    sway = standing_sway(t, rng)
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
    """Each rep's times (from its segments) and the faults it shows (severity at least
    ``present_at``; squat depth judged on the realised geometry)."""
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
