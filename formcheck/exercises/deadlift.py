"""Conventional deadlift plug-in (barbell, kettlebell).

Depth signal: the landmark hip angle (hip flexion): about 0–15° at lockout,
90–140° at the floor. A rep is a pull from the floor to lockout; the lowering
after it belongs to the same rep. When the pose stage followed the bar
(:mod:`formcheck.measure.bar`), a rep is a *bar* rep: the depth is the deeper
of the hips' and the bar's (1 with the bar on the floor, 0 once it has risen
``BAR_RISE_M``), so the lifter is "up" only with the hips open *and* the bar
off the floor: standing up after letting go of the bar is not a rep.

Faults
------
``lumbar_flexion``, ``lockout_hyperextension``  from the spine estimate
    (:mod:`formcheck.spine.estimate`): the lower back rounds during the pull or the
    lowering; the lifter leans back / over-arches at the top.
``hips_rise_early``  the hips shoot up before the shoulders as the bar leaves
    the floor: the trunk tips toward horizontal during the first part of the
    pull. Measured as the largest increase of trunk inclination (degrees) over
    the early pull, relative to the end of the still set-up. Where the bar is
    followed, the early pull runs from where the trunk began the tipping that
    ran into the bar leaving the floor (hips shooting up happen mostly while
    the bar is still down) to 40 % of the way from the lift-off to lockout;
    without the bar, over the first 40 % of the pull from the hips' rise.
    Not judged where the trunk line was seen on too few frames, or jumped
    (turned faster than a body can: a misplaced landmark).
``squatted_start``  the lifter starts the pull with the hips too low, like a
    squat: hips at or below knee height with the trunk nearly upright. Measured
    as the trunk inclination at the start of the pull (degrees from vertical),
    judged only when the hips are not clearly above the knees (thigh within
    ``SQUATTED_THIGH_MAX_DEG`` of horizontal). Knee flexion is not used: at the
    floor the plates hide the knees and the model's knee angle there is off by
    20–40° (measured on rendered lifters with known angles).
``bar_drift``  side view: the bar (or bell) moves forward, away from the
    shins and the mid-foot, during the pull or the lowering: the largest
    forward distance beyond where it was at the set-up, held for
    ``BAR_DRIFT_HOLD_S`` while the weight is below mid-thigh (cm). Where the
    bar is followed, its own position (scaled by the plate); where it is not,
    the wrists' (scaled by the lifter's leg length).
``soft_lockout``  the hips or knees are not straight at the top: the
    straightest hip and knee angles reached around lockout (degrees short of
    straight, the worse joint; knees only in a side view, where the knee
    angle comes from the image).
``tempo``  the lowering took less than the threshold (the bar was dropped).
"""

from __future__ import annotations

import numpy as np

from formcheck.exercises.base import (
    SIDE,
    SIDE_OR_OBLIQUE,
    Exercise,
    Posture,
    finite,
    hold_frames,
    legs_seen,
    make_tempo_check,
    phase_frames,
    sustained_max,
    sustained_min,
    value_at,
)
from formcheck.faults.core import Check, Fault, NotJudged, RepContext, Threshold
from formcheck.measure.occlusion import hidden_reason, outside_share
from formcheck.faults.spine import LOCKOUT_HYPEREXTENSION, LUMBAR_FLEXION
from formcheck.measure.bar import rep_bar_events, rep_bar_metrics
from formcheck.reps import RepRule
from formcheck.spine import PLACED_HIP

LOCKOUT_HIP_FLEXION_DEG = 15.0
SQUATTED_THIGH_MAX_DEG = 20.0
#: A thigh read between ``SQUATTED_THIGH_MAX_DEG`` and this is neither clearly level nor clearly
#: sloping: a squat-like trunk there is withheld, not graded (rendered, camera turned 30°, no plate
#: followed: squatted starts, true 4–9°, read 20.5–21.3°).
UNCLEAR_THIGH_MAX_DEG = 30.0
#: The hips start low when at most this many plate radii above the plate's centre, read on the
#: frames before the bar leaves the floor (the hip landmark reads high and the reading depends on
#: the camera: rendered squatted starts, 1.0–1.35 true, read 0.98–1.91; good ones, 2.0–2.2 true,
#: read 1.32–1.51 with a phone on the floor close by and 1.67–2.76 elsewhere, each set-up apart).
SQUATTED_HIP_RADII = 1.75
#: Hips read between ``SQUATTED_HIP_RADII`` and this are neither clearly low nor clearly high: a
#: squat-like trunk there is withheld, not graded (rendered: 2 squatted starts of a close camera
#: read 1.81 and 1.91; every good start of that set-up 2.31 or more).
UNCLEAR_HIP_RADII = 2.0
#: Frames before the bar leaves the floor on which the set-up is read.
SET_UP_FRAMES = 3
FLOOR_HIP_FLEXION_DEG = 105.0
#: The start of the pull is not judged when the shoulders or hips are outside the picture on more
#: than this share of its frames, or the trunk reads more than ``MAX_TRUNK_DEG`` from vertical
#: (20° past horizontal: a misplaced landmark; rendered: one clean rep read 147°).
MAX_OUTSIDE_SHARE = 0.4
MAX_TRUNK_DEG = 110.0
#: A position fault must last this long to count (seconds).
HOLD_S = 0.15
#: Leg length assumed when the pose model gave none (metres).
TYPICAL_LEG_LENGTH_M = 0.85
#: Bar drift is judged while the wrists are below this height (leg lengths: mid-thigh),
#: and must last this long (seconds).
BAR_DRIFT_MAX_HEIGHT = 0.75
BAR_DRIFT_HOLD_S = 0.25
#: The weight is back down when the wrists are within this of their set-up height (leg lengths).
BAR_LANDED = 0.08
#: Share of the top frames in which the legs must be seen to judge the lockout.
MIN_SEEN_SHARE = 0.6
#: A pull starts leaning forward at least this much (deg); less means the start was missed.
MIN_START_LEAN_DEG = 15.0
#: The top of a rep: frames within this many degrees of the straightest hip angle.
TOP_WINDOW_DEG = 15.0


#: The bar counts as lifted (depth 0) once this far above the lowest it has been (m).
BAR_RISE_M = 0.4
#: Between sightings the bar is held where it was last seen for at most this many frames (1.5 s
#: at the analysis rate of 30 Hz; rendered deadlifts, exact rep counts: 56/73 holding for ever, 57/75 at 20, 61/75 at 45).
BAR_HOLD_FRAMES = 45
#: Only a bar last seen this low (depth, 1 on the floor) is held: one lost on its way up (out of
#: the top of the picture, e.g. a phone on the floor close by) is at least that high, so holding it
#: would hide the lockout the hips show. (The rep rule's ``enter``: a bar last seen in the down zone.
#: Rendered deadlifts, grid re-score, exact counts: 86/117 anywhere in 0.5–0.8, 85 at 0.35, 76 with no
#: bar held at all; real clips 52/64 at each.)
BAR_HOLD_MIN_DEPTH = 0.6


def depth(signals) -> np.ndarray:
    hips = (signals["hip_flexion"] - LOCKOUT_HIP_FLEXION_DEG) / (FLOOR_HIP_FLEXION_DEG - LOCKOUT_HIP_FLEXION_DEG)
    bar = bar_depth(signals)
    return hips if bar is None else np.fmax(hips, bar)


def bar_depth(signals) -> np.ndarray | None:
    """1 with the bar at the lowest it has been so far, 0 once it has risen
    ``BAR_RISE_M`` (causal; between sightings a bar last seen near the floor,
    depth ≥ ``BAR_HOLD_MIN_DEPTH``, stays where it was last seen, for at most
    ``BAR_HOLD_FRAMES``; NaN otherwise). None without a followed bar.

    >>> bar_depth({"bar_height": np.array([np.nan, 0.225, 0.265, np.nan, 0.425, np.nan, 0.825])})
    array([nan, 1. , 0.9, 0.9, 0.5, nan, 0. ])
    """
    height = signals.get("bar_height")
    if height is None or not np.isfinite(height).any():
        return None
    height = np.asarray(height, np.float64)
    seen = np.isfinite(height)
    index = np.arange(len(height))
    last = np.maximum.accumulate(np.where(seen, index, -1))
    held = np.where(last >= 0, height[np.maximum(last, 0)], np.nan)
    # A bar lost for longer (the plate out of the picture at lockout, e.g. a phone on the
    # floor close by) says nothing: the hips decide there (np.fmax in :func:`depth`).
    held[(last < 0) | (index - last > BAR_HOLD_FRAMES)] = np.nan
    floor = np.fmin.accumulate(held)
    depth = np.clip(1.0 - (held - floor) / BAR_RISE_M, 0.0, 1.0)
    depth[~seen & (depth < BAR_HOLD_MIN_DEPTH)] = np.nan
    return depth


#: The pull begins when the hips leave the set-up: the last frame within this
#: share of the hips' rise to lockout above their lowest point.
PULL_START_SHARE = 0.03


def pull_start(ctx: RepContext) -> int:
    """Frame where the pull begins: the hips start to rise from their lowest
    point before lockout (the end of a still set-up, not its start).

    Not the deepest hip angle: when the hips shoot up first the hip angle
    stays closed while the hips rise, and the pull has already begun.
    """
    hip = np.asarray(ctx.signals["hip_height"], np.float64)
    lockout = ctx.phase("lockout").start
    stop = max(lockout, ctx.rep.start + 1)
    window = hip[ctx.rep.start : stop]
    if not np.isfinite(window).any():
        return ctx.rep.bottom
    lowest = ctx.rep.start + int(np.nanargmin(window))
    after = hip[lowest : min(len(hip), lockout + 1)]
    top = float(np.nanmax(after)) if np.isfinite(after).any() else float("nan")
    low = float(hip[lowest])
    if not np.isfinite(top) or top - low <= 1e-6:
        return lowest
    with np.errstate(invalid="ignore"):
        left = np.flatnonzero(after > low + 10 * PULL_START_SHARE * (top - low))
        rising = lowest + int(left[0]) if len(left) else lowest
        still = np.flatnonzero(hip[lowest : rising + 1] <= low + PULL_START_SHARE * (top - low))
    return lowest + int(still[-1]) if len(still) else lowest


def _pull_window(ctx: RepContext, fraction: float) -> slice:
    start = pull_start(ctx)
    lockout = max(ctx.phase("lockout").start, start + 2)
    stop = start + max(2, int(round((lockout - start) * fraction)))
    return slice(start, min(stop, lockout))


#: The trunk is tipping toward horizontal while it turns faster than this (deg/s).
TIPPING_DEG_S = 15.0
#: The early pull is judged only where the trunk line was seen on this share of its frames.
MIN_TRUNK_SEEN_SHARE = 0.6
#: A trunk line turning faster than a body can (deg/s²) is a landmark that jumped, e.g. the
#: shoulders and hips swapped: rendered early pulls peak at 3300 (hips shooting up) and 5500
#: (clean, phone on the floor close by); real side-view good lifts at 2700; the swaps of a real
#: bad-form clip at 13500–20500.
MAX_TRUNK_ACCELERATION_DEG_S2 = 8000.0
#: How far before the bar leaves the floor a tipping trunk is followed back (s).
TIPPING_LOOKBACK_S = 0.5


def lift_off(ctx: RepContext) -> int:
    """Frame where the bar leaves the floor (−1 where the bar was not followed)."""
    height = ctx.signals.get("bar_height")
    if height is None:
        return -1
    events = rep_bar_events(ctx.time_s, height, ctx.rep.start, ctx.rep.end)
    if not np.isfinite(events["floor_s"]):
        return -1
    return int(np.searchsorted(ctx.time_s, events["floor_s"]))


def tipping_start(trunk: np.ndarray, time_s: np.ndarray, frame: int, earliest: int) -> int:
    """First frame of the trunk's tipping toward horizontal that runs into ``frame``:
    walking back while the trunk turns faster than ``TIPPING_DEG_S``, for at most
    ``TIPPING_LOOKBACK_S`` and not before ``earliest``. ``frame`` itself when the
    tipping did not start from a still trunk within that time.

    >>> t = np.arange(8) / 30.0
    >>> tipping_start(np.array([70, 70, 70, 74, 80, 86, 88, 88.0]), t, 6, 0)
    2
    >>> tipping_start(np.array([40, 50, 60, 70, 80, 86, 88, 88.0]), t, 6, 0)
    6
    """
    speed = np.gradient(np.asarray(trunk, np.float64), time_s)
    bound = max(earliest, frame - hold_frames(time_s, TIPPING_LOOKBACK_S), 0)
    start = frame
    while start > bound and speed[start - 1] > TIPPING_DEG_S:
        start -= 1
    if start == bound and not (start > 0 and speed[start - 1] <= TIPPING_DEG_S):
        # Never still: the lifter was still hinging down to the bar (a dynamic start).
        # What the trunk did before the bar left the floor is then no evidence.
        return frame
    return start


def peak_angular_acceleration(angle: np.ndarray, time_s: np.ndarray) -> float:
    """Largest absolute second difference of an angle over time (deg/s², NaN-safe;
    0 with fewer than 3 frames).

    >>> round(peak_angular_acceleration(np.array([10.0, 10.0, 20.0, 20.0]), np.arange(4) / 10.0))
    1000
    """
    angle = np.asarray(angle, np.float64)
    if len(angle) < 3:
        return 0.0
    step = float(np.median(np.diff(time_s)))
    second = np.abs(np.diff(angle, 2)) / step**2
    return float(np.nanmax(second)) if np.isfinite(second).any() else 0.0


def lost_while_tipping(trunk: np.ndarray, time_s: np.ndarray) -> bool:
    """True when the trunk line was lost before the end of ``trunk`` while it was
    still tipping further toward horizontal (its last seen value the highest, reached
    faster than ``TIPPING_DEG_S`` over the last two seen frames): how far it went is
    unknown.

    >>> t = np.arange(6) / 30.0
    >>> lost_while_tipping(np.array([70, 70, 72, 76, np.nan, np.nan]), t)
    True
    >>> lost_while_tipping(np.array([70, 70, 70, 70, np.nan, np.nan]), t)
    False
    >>> lost_while_tipping(np.array([70, 86, 84, 85, np.nan, np.nan]), t)  # past its peak: jitter
    False
    """
    seen = np.flatnonzero(np.isfinite(trunk))
    if len(seen) < 2 or seen[-1] == len(trunk) - 1:
        return False
    a, b = seen[-2], seen[-1]
    rising = (trunk[b] - trunk[a]) / (time_s[b] - time_s[a]) > TIPPING_DEG_S
    return bool(rising and trunk[b] >= np.nanmax(trunk))


def early_pull(ctx: RepContext, fraction: float) -> slice:
    """The pull's first part: from the end of the still set-up (where the trunk began the
    tipping that ran into the bar leaving the floor) to ``fraction`` of the way from the
    lift-off to lockout. Without a followed bar, from :func:`pull_start`."""
    off = lift_off(ctx)
    if off < 0:
        return _pull_window(ctx, fraction)
    lockout = max(ctx.phase("lockout").start, off + 2)
    start = tipping_start(ctx.signals["trunk_inclination"], ctx.time_s, off, ctx.rep.start)
    stop = off + max(2, int(round((lockout - off) * fraction)))
    return slice(start, min(stop, lockout))


def check_hips_rise_early(ctx: RepContext) -> Fault | NotJudged | None:
    trunk = ctx.signals["trunk_inclination"]
    window = early_pull(ctx, 0.4)
    start_value = trunk[window.start]
    if np.isfinite(trunk[window]).mean() < MIN_TRUNK_SEEN_SHARE:
        return NotJudged("the lifter's back was lost from view as the bar left the floor")
    if not np.isfinite(start_value):
        return None
    if lost_while_tipping(trunk[window], ctx.time_s[window]):
        return NotJudged("the lifter's back was lost from view as it tipped forward")
    frames = np.arange(window.start, window.stop)
    if outside_share(ctx.signals, ("shoulder", "hip"), frames) > MAX_OUTSIDE_SHARE:
        return NotJudged("the shoulders or hips were outside the picture as the bar left the floor")
    if np.nanmax(np.abs(trunk[window])) > MAX_TRUNK_DEG:  # past horizontal: the shoulder or hip landmark is misplaced
        return NotJudged("the line from hips to shoulders was lost as the bar left the floor")
    around = slice(max(window.start - 1, 0), window.stop + 1)
    if peak_angular_acceleration(trunk[around], ctx.time_s[around]) > MAX_TRUNK_ACCELERATION_DEG_S2:
        return NotJudged("the line from hips to shoulders jumped about as the bar left the floor")
    if not start_value >= MIN_START_LEAN_DEG:
        return None  # standing, not at the bar: the start of the pull was missed
    rise = float(np.nanmax(trunk[window]) - start_value)
    return ctx.make_fault(
        "hips_rise_early",
        rise,
        (window.start, window.stop),
        cue="Push the floor away: chest and hips rise together.",
        message=f"the back tipped {rise:.0f}° toward horizontal as the bar left the floor",
        unit="deg",
    )


def set_up_frames(ctx: RepContext) -> np.ndarray:
    """The frames where the lifter is set at the bar, just before the pull: the
    ``SET_UP_FRAMES`` before the bar leaves the floor where the bar is followed
    (the world-landmark hip height reads the hips falling at the floor while they
    truly rise, so the hips' lowest point is no guide there); without the bar,
    up to :func:`pull_start`. The last one is the start of the pull."""
    off = lift_off(ctx)
    start = pull_start(ctx) if off < 0 else max(off - 1, ctx.rep.start)
    return np.arange(max(ctx.rep.start, start - SET_UP_FRAMES + 1), start + 1)


def check_squatted_start(ctx: RepContext) -> Fault | NotJudged | None:
    """Value: the trunk's lean from vertical at the start of the pull (the frame
    before the bar leaves the floor, where the bar is followed), judged only
    when the hips start low.

    "Low" is read from what is seen: where the near plate is followed, the
    hips' height above its centre (``SQUATTED_HIP_RADII`` plate radii or less;
    rendered good starts sit at 2.0–2.2, squatted ones at 1.0–1.35; a
    squat-like trunk with the hips read up to ``UNCLEAR_HIP_RADII`` is not
    judged); without the plate, the thigh within ``SQUATTED_THIGH_MAX_DEG`` of
    horizontal (a squat-like trunk with the thigh read up to
    ``UNCLEAR_THIGH_MAX_DEG`` is not judged), and only where the knees were seen (a knee landmark behind a
    plate is a guess that can read a good start as a squat).
    """
    frames = set_up_frames(ctx)
    start = int(frames[-1])
    trunk = value_at(ctx.signals["trunk_inclination"], start)
    squat_like = trunk >= MIN_START_LEAN_DEG and ctx.thresholds["squatted_start"].grade(trunk)[0] is not None
    hips = np.asarray(ctx.signals.get("hip_above_plate", np.full(len(ctx.time_s), np.nan)), np.float64)[frames]
    if np.isfinite(hips).any():
        height = float(np.nanmedian(hips))
        if height > UNCLEAR_HIP_RADII or (height > SQUATTED_HIP_RADII and not squat_like):
            return None
        if height > SQUATTED_HIP_RADII:
            return NotJudged(f"the hips read {height:.1f} plate radii above the bar as it left the floor: "
                             "neither clearly low nor clearly high")
    else:
        hidden = hidden_reason(ctx.signals, ("knee",), frames)
        if hidden is not None:
            return NotJudged(f"{hidden} at the start of the pull")
        thigh = value_at(ctx.signals["thigh_angle"], start)
        if not np.isfinite(thigh) or thigh > UNCLEAR_THIGH_MAX_DEG or (thigh > SQUATTED_THIGH_MAX_DEG and not squat_like):
            return None
        if thigh > SQUATTED_THIGH_MAX_DEG:
            return NotJudged(f"the thighs read {thigh:.0f}° above horizontal at the start of the pull: "
                             "neither clearly level nor clearly sloping")
    if not trunk >= MIN_START_LEAN_DEG:
        return None  # no believable floor position (arms can't reach)
    return ctx.make_fault(
        "squatted_start",
        trunk,
        (ctx.phase("setup").start, start + 1),
        cue="Hips higher at the start: push them back and hinge, shins near vertical.",
        message=f"the pull started with the hips near knee height and the back only {trunk:.0f}° from upright",
        unit="deg",
    )


def forward_of_setup(ctx: RepContext, start: int) -> tuple[np.ndarray, float]:
    """How far the weight is forward of its set-up position, per frame, and the
    metres per unit: the bar (m) where it is followed, the wrists (leg lengths,
    scaled to metres) where it is not; without a bar, the wrists in leg lengths."""
    set_up = np.arange(max(ctx.rep.start, start - 3), start + 1)
    leg_m = float(ctx.extra.get("leg_length_m") or TYPICAL_LEG_LENGTH_M)
    wrists = _from_setup(np.asarray(ctx.signals["wrist_forward"], np.float64), set_up)
    if "bar_forward" not in ctx.signals:
        return wrists, leg_m
    bar = _from_setup(np.asarray(ctx.signals["bar_forward"], np.float64), set_up)
    return np.where(np.isfinite(bar), bar, wrists * leg_m), 1.0


def _from_setup(signal: np.ndarray, set_up: np.ndarray) -> np.ndarray:
    """``signal`` minus its median over the set-up frames (all NaN when unseen there)."""
    frames = finite(signal, set_up)
    return signal - float(np.median(signal[frames])) if len(frames) else np.full(len(signal), np.nan)


def check_bar_drift(ctx: RepContext) -> Fault | None:
    start = pull_start(ctx)
    forward, metres = forward_of_setup(ctx, start)
    set_up = finite(forward, np.arange(max(ctx.rep.start, start - 3), start + 1))
    if len(set_up) == 0:
        return None
    wrist = np.asarray(ctx.signals["wrist_height"], np.float64)
    floor = float(np.nanmedian(wrist[set_up])) if np.isfinite(wrist[set_up]).any() else 0.0
    pull = np.arange(start, ctx.phase("lockout").start)
    lowering = phase_frames(ctx, "descent")
    with np.errstate(invalid="ignore"):
        landed = np.flatnonzero(wrist[lowering] <= floor + BAR_LANDED)
    if len(landed):  # the lowering ends when the weight is back down (then it is let go)
        lowering = lowering[: landed[0]]
    frames = np.concatenate([pull, lowering]).astype(int)
    # Only while the weight is below mid-thigh: from there up it rides the thighs,
    # and at lockout the wrist landmark often jumps (hands, bar and plates overlap).
    with np.errstate(invalid="ignore"):
        frames = frames[wrist[frames] < BAR_DRIFT_MAX_HEIGHT]
    hold = hold_frames(ctx.time_s, BAR_DRIFT_HOLD_S)
    drift, at = sustained_max(forward, frames, hold)
    if not np.isfinite(drift):
        return None
    value = 100.0 * drift * metres
    when = "while lowering" if "descent" in ctx.rep.phases and at >= ctx.rep.phases["descent"][0] else "during the pull"
    return ctx.make_fault(
        "bar_drift",
        value,
        (at, at + hold),
        cue="Keep the weight close: drag it up your shins and thighs, over the middle of your feet.",
        message=f"the weight drifted about {value:.0f} cm forward of where it started {when}",
        unit="cm",
    )


def top_frames(ctx: RepContext) -> np.ndarray:
    """Frames at the top of the rep: lockout, and the end of the pull and start of the lowering."""
    hip = np.asarray(ctx.signals["hip_flexion"], np.float64)
    frames = finite(hip, phase_frames(ctx, "ascent", "lockout", "descent"))
    if len(frames) == 0:
        return frames
    return frames[hip[frames] <= np.min(hip[frames]) + TOP_WINDOW_DEG]


def check_soft_lockout(ctx: RepContext) -> Fault | None:
    frames = top_frames(ctx)
    if len(frames) == 0:
        return None
    hip = np.asarray(ctx.signals["hip_flexion"], np.float64)
    if int(frames[np.argmin(hip[frames])]) >= len(ctx.time_s) - 3:
        return None  # the clip ends while the lifter is still standing up: the top is not seen
    seen = legs_seen(ctx, frames)  # plates in front of the hips and knees at lockout fake a bend
    if len(seen) < MIN_SEEN_SHARE * len(frames):
        return None
    frames = seen
    hold = hold_frames(ctx.time_s, HOLD_S)
    joints = {"hips": sustained_min(hip, frames, hold)}
    if ctx.view == "side":
        joints["knees"] = sustained_min(np.asarray(ctx.signals["knee_flexion"], np.float64), frames, hold)
    joint, (value, at) = max(joints.items(), key=lambda item: np.nan_to_num(item[1][0], nan=-np.inf))
    if not np.isfinite(value):
        return None
    return ctx.make_fault(
        "soft_lockout",
        value,
        (at, at + hold),
        cue="Finish tall: hips through and knees straight at the top.",
        message=f"at the top your {joint} stayed {value:.0f}° short of straight",
        unit="deg",
    )


check_tempo = make_tempo_check(
    depth, "down_up", cue="Lower the weight under control: don't let it drop.", what="the lowering"
)


def metrics(ctx: RepContext) -> dict[str, float]:
    s = ctx.signals
    start = pull_start(ctx)
    lockout = ctx.phase("lockout")
    return {
        "start_hip_flexion_deg": value_at(s["hip_flexion"], start),
        "start_knee_flexion_deg": value_at(s["knee_flexion"], start),
        "start_trunk_inclination_deg": value_at(s["trunk_inclination"], start),
        "lockout_hip_flexion_deg": float(np.nanmin(s["hip_flexion"][lockout])) if np.isfinite(s["hip_flexion"][lockout]).any() else float("nan"),
        # Bar speed and path, where the bar was followed (formcheck.measure.bar).
        **(rep_bar_metrics(ctx.time_s, s["bar_height"], s["bar_forward"], ctx.rep.start, ctx.rep.end)
           if "bar_height" in s else {}),
    }


#: Recognition: a hinge with the hands below the hips and low, wrists below
#: this height at the bottom (leg lengths above the ankles: about knee height);
#: where the bar is followed, a hinge with the bar back on the floor (``Posture.bar_from_floor``).
HANDS_LOW = 0.45


def recognise(p: Posture) -> bool:
    if np.isfinite(p.bar_rise):
        return p.hinged and p.bar_from_floor
    return p.hinged and p.hands_below_hips and p.wrist < HANDS_LOW


def position(m) -> tuple[str, str] | None:
    """The rep table's set-up: the back's angle at the start of the pull, and the hips."""
    trunk, hip = m.get("start_trunk_inclination_deg"), m.get("start_hip_flexion_deg")
    if trunk is None or not np.isfinite(trunk):
        return None
    return f"back {trunk:.0f}° from vertical", (f"hips flexed {hip:.0f}°" if hip is not None and np.isfinite(hip) else "")


EXERCISE = Exercise(
    name="deadlift",
    title="Deadlift",
    rule=RepRule(style="down_up", enter=0.6, exit=0.35, min_rep_s=0.4),
    depth=depth,
    checks=(  # priority order for the one cue per rep: the spine first
        LUMBAR_FLEXION,
        LOCKOUT_HYPEREXTENSION,
        Check("hips_rise_early", check_hips_rise_early, Threshold(caution=12.0, fault=18.0), views=SIDE_OR_OBLIQUE),
        Check("squatted_start", check_squatted_start, Threshold(caution=47.0, fault=43.0, higher_is_worse=False),
              views=SIDE_OR_OBLIQUE),
        Check("bar_drift", check_bar_drift, Threshold(caution=9.0, fault=13.0), views=SIDE),
        Check("soft_lockout", check_soft_lockout, Threshold(caution=20.0, fault=30.0), views=SIDE_OR_OBLIQUE),
        Check("tempo", check_tempo, Threshold(caution=0.3, fault=0.2, higher_is_worse=False)),
    ),
    metrics=metrics,
    variants=("barbell deadlift", "kettlebell deadlift"),
    # The hip landmark slides furthest at the floor, with the plates hiding the
    # bent knees: place it from the back's outline (docs/synthetic-benchmark.md).
    spine_calibration=PLACED_HIP,
    aliases=("kettlebell_deadlift", "conventional_deadlift"),
    label_words=("deadlift",),
    recognise=recognise,
    recognise_order=30,
    preference=1,
    position=position,
    position_title="Set-up",
)
