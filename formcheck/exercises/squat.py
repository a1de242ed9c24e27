"""Squat plug-in (back, front, goblet, bodyweight).

Depth signal: how far the hips have dropped below the highest hip position
seen so far, in leg lengths: a parallel squat drops the hips by about half a
leg length (0.45 → depth 1). Reps are top → bottom → top.

Faults (in cue priority; values relative to the lifter's own standing
frames wherever landmark bias would matter)
------
``butt_wink``, ``lumbar_hyperextension``  from the spine estimate
    (:mod:`formcheck.spine.estimate`): the lower back rounds at the bottom; the lower
    back over-arches. Side view.
``knee_valgus``  front or rear view: a knee moves inside the line from its hip
    to its ankle, compared with standing (% of leg length, worse leg).
``excessive_forward_lean``  side view: the torso leans further forward than
    the shins at the bottom (trunk angle − shin angle, vs standing; median of
    the deep frames, degrees). In a balanced squat torso and shins are roughly
    parallel. Judged only at depth, with steady shin landmarks, and only when
    the trunk itself leans well past standing (a low-bar squat's lean is not a fault).
``lateral_shift``  front or rear view: the hips move sideways over the feet
    during the rep, compared with standing (% of stance width).
``heel_rise``  side view: the heels lift off the floor near the bottom: the
    heel's height above the toes compared with standing (cm, from the
    lifter's leg length; vertical in the image, so a foot that points toward
    the camera does not fake it).
``shallow_depth``  at the bottom the hip joint stays above the knee: the
    thigh angle above horizontal (0° = parallel, + hip above knee) from the
    vertical hip–knee distance over the lifter's standing thigh length (any
    view). It fires only when the thigh is *clearly* above
    parallel (:data:`PARALLEL_READS_UP_TO_DEG`): at a true parallel squat
    the landmarks read a few degrees above it.
``tempo``  the descent took less than the threshold (seconds).
``knees_forward``  information only, never a fault: the shins tilt far
    forward at the bottom (knees travel past the toes), which is fine as
    long as the heels stay down.
"""

from __future__ import annotations

import numpy as np

from formcheck.exercises.base import (
    FRONT_OR_REAR,
    SIDE,
    Exercise,
    Posture,
    baseline,
    finite,
    hold_frames,
    make_tempo_check,
    phase_frames,
    running_max,
    span_of,
    sustained_max,
    value_at,
)
from formcheck.faults.core import Check, Fault, NotJudged, RepContext, Threshold
from formcheck.faults.spine import BUTT_WINK, LUMBAR_HYPEREXTENSION
from formcheck.measure.occlusion import hidden_reason
from formcheck.reps import RepRule

PARALLEL_DROP_LEG_LENGTHS = 0.45
#: What a squat at true parallel reads as, at most (degrees above parallel). On
#: rendered squats the reading at parallel depends on the filming set-up: −3…−2°
#: from the side or close, up to +9° at 30° of yaw and +4…+10° from a phone on
#: the floor pitched up (the hip landmark sits above the joint; a camera off the
#: thigh's plane tilts it). At 11° no clean rendered rep (0 of 74, every set-up,
#: depth sweep included) got a depth caution (6°: 19 of 74, 9°: 4, 10°: 2); the
#: price is detection of a squat 15° above parallel: 9 of 24 reps (6°: 16).
#: Faults 10° further (docs/faults.md, docs/accuracy.md).
PARALLEL_READS_UP_TO_DEG = 11.0
#: A position fault must last this long to count (seconds): one-frame glitches never do.
HOLD_S = 0.15
#: Share of the deep frames in which a landmark must be seen for its check to judge.
MIN_SEEN_SHARE = 0.6
#: Leg length assumed when the pose model gave none (metres).
TYPICAL_LEG_LENGTH_M = 0.85
#: Feet that travel further than this during a rep (leg lengths, horizontally) are not a
#: squatter's: on rendered squats the followed feet moved at most 0.24 leg lengths in any
#: rep, and 1.2–2.3 where the track had jumped to a person walking past.
MAX_FEET_TRAVEL = 0.5
#: Depth is read from vertical image distances only when the thigh at the deepest moment is
#: seen at least this share of its full length: shorter, it points at (or away from) the
#: camera and the reading is perspective (rendered squats: every reading off by more than
#: 15° had the thigh seen at 0.13–0.55 of its length).
MIN_THIGH_SEEN_LENGTH = 0.6
#: Forward lean is judged only when the shin reading near the bottom stays within this
#: range (degrees): rendered clean squats swung 3–35°, landmark jumps 84–349°.
MAX_SHIN_SWING_DEG = 40.0
#: Forward lean is a fault only when the trunk itself leans at least this much more than
#: standing at the bottom (degrees, median of the deep frames). Rendered clean squats:
#: 13–46°, rendered lean faults 45–73°; a low-bar squat leans about 45° from vertical.
MIN_TRUNK_LEAN_DEG = 40.0
#: Hips that drop faster than this between two frames (m/s) are the pose jumping: falling
#: freely for 0.8 m reaches 4.0 m/s, and a squat drops the hips about 0.4 m. Rendered squat
#: reps (every set-up): 208 of 226 under 4 m/s; the two clean reps timed under 0.3 s read
#: 5.0 and 5.5 m/s (the depth signal stepped half its range in one frame); the tests' rushed
#: descent (0.25 s): 3.2–3.5 m/s. Real squat clips: at most 3.0 m/s, but 4.7 and 8.5 on two
#: reps where the landmarks jumped (neither had a tempo finding).
MAX_HIP_SPEED_M_S = 4.0


def lost_lifter(ctx: RepContext) -> NotJudged | None:
    """Withhold when the feet followed through the rep walked: the track left the lifter.

    >>> import numpy as np
    >>> from formcheck.reps import Rep
    >>> rep = Rep(index=1, start=0, bottom=5, end=10, phases={})
    >>> ctx = RepContext(rep=rep, time_s=np.arange(10) / 30, signals={"feet_x": np.linspace(0, 1.5, 10)},
    ...                  view="side", thresholds={})
    >>> lost_lifter(ctx).reason
    'the person followed walked during this rep (someone else crossed the picture)'
    >>> lost_lifter(RepContext(rep=rep, time_s=ctx.time_s, signals={"feet_x": np.zeros(10)}, view="side", thresholds={}))
    """
    feet = np.asarray(ctx.signals.get("feet_x", ()), np.float64)[ctx.rep.start : ctx.rep.end]
    feet = feet[np.isfinite(feet)]
    if len(feet) and float(np.ptp(feet)) > MAX_FEET_TRAVEL:
        return NotJudged("the person followed walked during this rep (someone else crossed the picture)")
    return None


def depth(signals) -> np.ndarray:
    hip = signals["hip_height"]
    return (running_max(hip) - hip) / PARALLEL_DROP_LEG_LENGTHS


def _deep_frames(ctx: RepContext) -> np.ndarray:
    """Frames in the deeper half of the rep (where position faults show), bottom included."""
    d = depth(ctx.signals)
    frames = phase_frames(ctx, "descent", "bottom", "ascent")
    frames = finite(d, frames)
    if len(frames) == 0:
        return frames
    deepest = float(np.max(d[frames]))
    return frames[d[frames] >= 0.5 * deepest]


def depth_angle(ctx: RepContext) -> np.ndarray:
    """Thigh angle above horizontal (+ hip above knee), in every view from the
    vertical hip–knee distance over the lifter's standing thigh length (see
    :mod:`formcheck.measure.signals`): turning the camera does not distort
    it, and a thigh that the landmarks shorten at the bottom (the hip landmark
    rides up and forward) does not steepen it, as it does the sagittal angle.
    The sagittal angle serves only when that signal is missing."""
    if "thigh_drop" not in ctx.signals:
        return np.asarray(ctx.signals["thigh_angle"], np.float64)
    return np.asarray(ctx.signals["thigh_drop"], np.float64)


def check_shallow_depth(ctx: RepContext) -> Fault | NotJudged | None:
    lost = lost_lifter(ctx)
    if lost:
        return lost
    thigh = depth_angle(ctx)
    bottom = ctx.phase("bottom")
    window = thigh[bottom]
    if not np.isfinite(window).any():
        return None
    hidden = hidden_reason(ctx.signals, ("hip", "knee"), np.arange(bottom.start, bottom.stop))
    if hidden:
        return NotJudged(f"depth: {hidden} at the bottom")
    # The deepest moment of the rep is when the thigh is lowest.
    at = bottom.start + int(np.nanargmin(window))
    deepest = float(window[at - bottom.start])
    seen_length = float(np.asarray(ctx.signals.get("thigh_length", np.ones(len(thigh))), np.float64)[at])
    if seen_length < MIN_THIGH_SEEN_LENGTH:
        return NotJudged(f"depth: at the bottom the thigh pointed toward the camera (seen at {seen_length:.0%} "
                         "of its length); film from the side")
    return ctx.make_fault(
        "shallow_depth",
        deepest,
        (bottom.start, bottom.stop),
        cue="Sit deeper: hips below the knees.",
        message=f"at the bottom the thigh was {deepest:.0f}° above parallel",
        unit="deg",
    )


def check_knee_valgus(ctx: RepContext) -> Fault | None:
    hold = hold_frames(ctx.time_s, HOLD_S)
    frames = _deep_frames(ctx)
    worst, worst_side, at = float("nan"), "", -1
    for name, side in (("knee_in_left", "left"), ("knee_in_right", "right")):
        if name not in ctx.signals:
            return None
        signal = np.asarray(ctx.signals[name], np.float64)
        ref = baseline(ctx, name)
        if not np.isfinite(ref):
            continue
        level, start = sustained_max(100.0 * (signal - ref), frames, hold)
        if np.isfinite(level) and not (level <= worst):
            worst, worst_side, at = level, side, start
    if not np.isfinite(worst):
        return None
    return ctx.make_fault(
        "knee_valgus",
        worst,
        (at, at + hold) if at >= 0 else span_of(frames, (ctx.rep.start, ctx.rep.end)),
        cue="Push your knees out over your toes all the way down and up.",
        message=f"the {worst_side} knee caved in by {worst:.0f}% of your leg length compared with standing",
        unit="pct_leg",
    )


def check_lateral_shift(ctx: RepContext) -> Fault | None:
    if "hip_shift" not in ctx.signals:
        return None
    shift = np.asarray(ctx.signals["hip_shift"], np.float64)
    ref = baseline(ctx, "hip_shift")
    if not np.isfinite(ref):
        return None
    frames = _deep_frames(ctx)
    hold = hold_frames(ctx.time_s, HOLD_S)
    offset = 100.0 * (shift - ref)
    right, at_r = sustained_max(-offset, frames, hold)
    left, at_l = sustained_max(offset, frames, hold)
    if not (np.isfinite(left) or np.isfinite(right)):
        return None
    toward, value, at = ("left", left, at_l) if np.nan_to_num(left, nan=-1) >= np.nan_to_num(right, nan=-1) else ("right", right, at_r)
    return ctx.make_fault(
        "lateral_shift",
        value,
        (at, at + hold),
        cue="Keep your weight even on both feet: hips straight down between your heels.",
        message=f"the hips shifted toward your {toward} by {value:.0f}% of your stance width",
        unit="pct_stance",
    )


def _lean_over_shin(ctx: RepContext) -> np.ndarray:
    return np.asarray(ctx.signals["trunk_inclination"], np.float64) - np.asarray(ctx.signals["shin_angle"], np.float64)


def check_excessive_forward_lean(ctx: RepContext) -> Fault | NotJudged | None:
    """The trunk more inclined than the shins at the bottom, beyond what standing shows.

    Judged only where the coaches' trunk–tibia comparison holds and the
    landmarks can make it:

    - at depth: above parallel every squat is hip-dominant (the trunk ahead of
      the shins) and the finding is the depth itself (``shallow_depth``);
    - with steady shins: a shin reading that swings by more than
      :data:`MAX_SHIN_SWING_DEG` near the bottom is a knee or ankle landmark
      jumping (rendered deep squats filmed from the floor: 84–349°), not a shin;
    - with the trunk itself clearly inclined (:data:`MIN_TRUNK_LEAN_DEG`): a
      trunk within that of standing is an ordinary squat however upright the
      shins read, so a short shin reading cannot make a fault on its own.

    The value is the median over the deep frames, the position held at the
    bottom, not a one-frame peak.
    """
    lost = lost_lifter(ctx)
    if lost:
        return lost
    lean = _lean_over_shin(ctx)
    frames = finite(lean, _deep_frames(ctx))
    standing = baseline(ctx, "trunk_inclination") - baseline(ctx, "shin_angle")
    if len(frames) == 0 or not np.isfinite(standing):
        return None
    bottom = ctx.phase("bottom")
    thigh = depth_angle(ctx)[bottom]
    if np.isfinite(thigh).any() and float(np.nanmin(thigh)) > PARALLEL_READS_UP_TO_DEG:
        return NotJudged("forward lean: judged at depth, and this rep stayed above parallel")
    shin = np.asarray(ctx.signals["shin_angle"], np.float64)[frames]
    if float(np.ptp(shin)) > MAX_SHIN_SWING_DEG:
        return NotJudged("forward lean: the knee or ankle landmarks jumped near the bottom")
    trunk = float(np.median(np.asarray(ctx.signals["trunk_inclination"], np.float64)[frames]))
    if trunk - baseline(ctx, "trunk_inclination") < MIN_TRUNK_LEAN_DEG:
        return None
    value = float(np.median(lean[frames] - standing))
    at = int(frames[np.argmin(np.abs(lean[frames] - standing - value))])
    return ctx.make_fault(
        "excessive_forward_lean",
        value,
        (at, at + hold_frames(ctx.time_s, HOLD_S)),
        cue="Chest up: keep your torso about as upright as your shins.",
        message=f"at the bottom your torso leaned {value:.0f}° further forward than your shins",
        unit="deg",
    )


def check_heel_rise(ctx: RepContext) -> Fault | NotJudged | None:
    """The heel rises above the toes *and* above where it stood: both must agree.

    Either alone is fooled: a toe landmark drifts down when the knees cover the
    toes at the bottom (an oblique camera: 4–9 cm of "rise" on rendered flat
    heels), and a heel landmark alone moves with any sway of the camera.
    """
    if "heel_lift" not in ctx.signals:
        return None
    lost = lost_lifter(ctx)
    if lost:
        return lost
    deep = _deep_frames(ctx)
    hidden = hidden_reason(ctx.signals, ("heel", "foot_index"), deep, MIN_SEEN_SHARE)
    if hidden:
        return NotJudged(f"heel rise: {hidden} near the bottom")
    lift = np.asarray(ctx.signals["heel_lift"], np.float64)
    ref = baseline(ctx, "heel_lift")
    if not np.isfinite(ref):
        return None
    hold = hold_frames(ctx.time_s, HOLD_S)
    if len(finite(lift, deep)) < MIN_SEEN_SHARE * len(deep):
        return NotJudged("heel rise: the feet were not seen clearly near the bottom")
    rise = lift - ref
    if "heel_height" in ctx.signals:
        height = np.asarray(ctx.signals["heel_height"], np.float64)
        rise = np.fmin(rise, height - baseline(ctx, "heel_height"))
    rise, at = sustained_max(rise, deep, hold)
    if not np.isfinite(rise):
        return None
    value = 100.0 * rise * float(ctx.extra.get("leg_length_m") or TYPICAL_LEG_LENGTH_M)
    return ctx.make_fault(
        "heel_rise",
        value,
        (at, at + hold),
        cue="Keep your heels down: weight over the mid-foot.",
        message=f"your heels came up about {value:.0f} cm near the bottom",
        unit="cm",
    )


def check_knees_forward(ctx: RepContext) -> Fault | None:
    shin = np.asarray(ctx.signals["shin_angle"], np.float64)
    ref = baseline(ctx, "shin_angle", default=0.0)
    frames = phase_frames(ctx, "bottom")
    value, at = sustained_max(shin - ref, frames, hold_frames(ctx.time_s, HOLD_S))
    return ctx.make_fault(
        "knees_forward",
        value,
        (at, at + 1),
        cue="Knees past the toes are fine as long as your heels stay down.",
        message=f"your shins tilted {value:.0f}° forward at the bottom (knees well past the toes)",
        unit="deg",
    )


_tempo = make_tempo_check(
    depth, "up_down_up", cue="Control the way down: take about two seconds to the bottom.", what="the way down"
)


def hip_speed_down(ctx: RepContext) -> float:
    """Fastest the hips dropped between two frames on the way down (m/s).

    >>> import numpy as np
    >>> from formcheck.reps import Rep
    >>> hip = np.r_[np.ones(10), np.linspace(1.0, 0.55, 16)]   # 0.45 leg lengths in 0.5 s
    >>> rep = Rep(index=1, start=0, bottom=25, end=25, phases={})
    >>> ctx = RepContext(rep=rep, time_s=np.arange(26) / 30, signals={"hip_height": hip}, view="side",
    ...                  thresholds={}, extra={"leg_length_m": 0.9})
    >>> round(hip_speed_down(ctx), 2)
    0.81
    """
    rep = ctx.rep
    d = depth(ctx.signals)[rep.start : rep.bottom + 1]
    dt = np.diff(np.asarray(ctx.time_s, np.float64)[rep.start : rep.bottom + 1])
    leg = float(ctx.extra.get("leg_length_m") or TYPICAL_LEG_LENGTH_M)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.abs(np.diff(d)) * PARALLEL_DROP_LEG_LENGTHS * leg / dt
    return float(np.nanmax(speed)) if np.isfinite(speed).any() else float("nan")


def check_tempo(ctx: RepContext) -> Fault | NotJudged | None:
    """The way down was rushed (timed from the hips).

    Withheld when the track left the lifter, and when the hips "dropped"
    faster than :data:`MAX_HIP_SPEED_M_S` between two frames: that is the
    pose jumping (rendered clean squats whose rep boundaries fell on such a
    jump read 0.13 and 0.27 s), not a descent.
    """
    lost = lost_lifter(ctx)
    if lost:
        return lost
    if hip_speed_down(ctx) > MAX_HIP_SPEED_M_S:
        return NotJudged("the way down could not be timed (the hips jumped between frames)")
    return _tempo(ctx)


def metrics(ctx: RepContext) -> dict[str, float]:
    s, rep = ctx.signals, ctx.rep
    bottom = ctx.phase("bottom")
    return {
        "depth_thigh_angle_deg": float(np.nanmin(depth_angle(ctx)[bottom])) if np.isfinite(depth_angle(ctx)[bottom]).any() else float("nan"),
        "knee_flexion_max_deg": float(np.nanmax(s["knee_flexion"][rep.start : rep.end])),
        "hip_flexion_max_deg": float(np.nanmax(s["hip_flexion"][rep.start : rep.end])),
        "trunk_inclination_bottom_deg": value_at(s["trunk_inclination"], rep.bottom),
        "shin_angle_bottom_deg": value_at(s["shin_angle"], rep.bottom),
    }


#: Recognition: the knees bent at least this much at the bottom (deg), the load
#: high or the arms forward (wrists at or above the hips).
SQUAT_KNEE_MIN_DEG = 60.0


def recognise(p: Posture) -> bool:
    return p.wrist >= p.hip and p.knee_flexion >= SQUAT_KNEE_MIN_DEG


def position(m) -> tuple[str, str] | None:
    """The rep table's depth: thigh angle to parallel, and the knee bend."""
    thigh = m.get("depth_thigh_angle_deg")
    if thigh is None or not np.isfinite(thigh):
        return None
    text = "at parallel" if abs(thigh) < 1.0 else f"{abs(thigh):.0f}° {'below' if thigh < 0 else 'above'} parallel"
    knee = m.get("knee_flexion_max_deg")
    return text, (f"knees bent {knee:.0f}°" if knee is not None and np.isfinite(knee) else "")


EXERCISE = Exercise(
    name="squat",
    title="Squat",
    rule=RepRule(style="up_down_up", enter=0.4, exit=0.15, min_rep_s=0.6),
    depth=depth,
    checks=(  # priority order for the one cue per rep: the spine first
        BUTT_WINK,
        LUMBAR_HYPEREXTENSION,
        Check("knee_valgus", check_knee_valgus, Threshold(caution=5.0, fault=8.0), views=FRONT_OR_REAR),
        Check("excessive_forward_lean", check_excessive_forward_lean, Threshold(caution=25.0, fault=32.0), views=SIDE),
        Check("lateral_shift", check_lateral_shift, Threshold(caution=15.0, fault=25.0), views=FRONT_OR_REAR),
        Check("heel_rise", check_heel_rise, Threshold(caution=4.5, fault=7.0), views=SIDE),
        Check("shallow_depth", check_shallow_depth,
              Threshold(caution=PARALLEL_READS_UP_TO_DEG, fault=PARALLEL_READS_UP_TO_DEG + 10.0)),
        Check("tempo", check_tempo, Threshold(caution=0.3, fault=0.2, higher_is_worse=False)),
        Check("knees_forward", check_knees_forward, Threshold(caution=40.0, fault=50.0), views=SIDE),
    ),
    metrics=metrics,
    variants=("back squat", "front squat", "goblet squat", "bodyweight squat"),
    aliases=("back_squat", "front_squat", "goblet_squat", "bodyweight_squat"),
    label_words=("squat",),
    recognise=recognise,
    recognise_order=50,
    preference=2,
    position=position,
    position_title="Depth",
)
