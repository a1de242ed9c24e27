"""What an exercise plug-in provides (one file per exercise in this package),
and the small helpers the plug-ins share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from formcheck.faults.core import Check, FaultCheck, NotJudged, RepContext, Threshold
from formcheck.measure.held import finite, hold_frames, sustained_max, sustained_min  # noqa: F401  (the plug-ins import them from here)
from formcheck.reps import RepRule
from formcheck.spine import MODEL_HIP, SpineCalibration

Signals = Mapping[str, np.ndarray]

#: Views that show the body from the side (sagittal angles from the image).
SIDE = ("side",)
#: Side or oblique: joint angles from the world landmarks are usable, less exact.
SIDE_OR_OBLIQUE = ("side", "oblique")
#: Front or rear: left–right (frontal-plane) movement is visible.
FRONT_OR_REAR = ("front", "rear")

#: Least hip flexion at the bottom of a hinge (deg).
HINGE_MIN_DEG = 50.0
#: A followed bar pulls from the floor when, at the bottom, it is within this of the
#: lowest it goes (m) and it lies at that level in at least this share of the frames.
BAR_AT_FLOOR_M = 0.1
BAR_RESTING_SHARE = 0.1


@dataclass(frozen=True)
class Posture:
    """The posture at the bottoms of the reps a plug-in found (medians), for recognition.

    Heights are in leg lengths above the ankles, angles in degrees.

    Attributes
    ----------
    wrist, hip : float
        Wrist and hip height at the bottom.
    knee_flexion, hip_flexion : float
        Knee and hip flexion at the bottom.
    wrist_top, shoulder_top : float
        Highest wrist and shoulder height once the lifter stands up after the
        bottom (NaN when not seen): a swing's bell floats up in front.
    bar_rise : float
        Where a barbell is followed (:mod:`formcheck.measure.bar`): its height
        at the bottom above the lowest it goes (m), NaN otherwise. The hands'
        own landmarks are a guess when the arms are hidden behind the body.
    bar_low_share : float
        Share of the clip's frames with the bar within a few centimetres of the
        lowest it goes (NaN without a bar): a bar that rests there (on the
        floor) between pulls, not one that only turns there.
    """

    wrist: float
    hip: float
    knee_flexion: float
    hip_flexion: float
    wrist_top: float = float("nan")
    shoulder_top: float = float("nan")
    bar_rise: float = float("nan")
    bar_low_share: float = float("nan")

    @property
    def bar_from_floor(self) -> bool:
        """A followed bar at its resting (floor) level at the bottom: a pull from the floor."""
        return bool(self.bar_rise < BAR_AT_FLOOR_M and self.bar_low_share >= BAR_RESTING_SHARE)

    @property
    def hinged(self) -> bool:
        """The hips folded at least ``HINGE_MIN_DEG``."""
        return self.hip_flexion >= HINGE_MIN_DEG

    @property
    def hands_below_hips(self) -> bool:
        return self.wrist < self.hip


@dataclass(frozen=True)
class Exercise:
    """An exercise plug-in: everything formcheck knows about one exercise.

    Register it with :func:`formcheck.exercises.register`; the command line,
    live mode, auto-detection, the catalogue, the report and the default
    profile all take it from the registry (docs/adding-an-exercise.md).

    Attributes
    ----------
    name : str
        Stable identifier used on the command line and in reports.
    title : str
        Human name ("Romanian deadlift").
    rule : RepRule
        How reps are cut from :attr:`depth`. ``style="down_up"`` is a pull
        from the floor (timed as pull and lowering); ``"up_down_up"`` a
        movement from the top (timed as down and up).
    depth : callable
        ``depth(signals) -> ndarray``: causal normalised depth (0 top, 1 bottom),
        computed sample by sample from the past only, so live and offline agree.
    checks : tuple of Check
        Fault checks, in priority order for the one cue per rep (safety first;
        see :mod:`formcheck.faults.catalogue` for the tiers). Each carries its
        default threshold, what it needs and the views it can be judged from.
    metrics : callable
        ``metrics(ctx) -> dict`` of per-rep numbers for the report.
    units : dict
    variants : tuple of str
        Forms of the exercise the plug-in covers (documentation).
    spine_calibration : SpineCalibration
        Where the spine stage takes the hip from and how it turns the back's
        kink into degrees (:data:`formcheck.spine.MODEL_HIP` or
        :data:`formcheck.spine.PLACED_HIP`).
    aliases : tuple of str
        Other spellings accepted by ``--exercise`` and in labels.
    short_title : str
        Name in the terminal summary (default: the title).
    label_words : tuple of str
        Words in a free-text exercise label that name this exercise
        (``formcheck eval``); default: the name and title.
    recognise : callable or None
        ``recognise(posture: Posture) -> bool``: whether the posture at the
        bottom of the reps looks like this exercise. None: never picked by
        auto-detection (``--exercise`` only).
    recognise_order : int
        Plug-ins are asked in this order (lowest first); the first that
        recognises the posture gets the vote, and the first whose words
        appear in a label names it.
    preference : int
        When several plug-ins recognise as many of their own reps, the lowest
        wins (the common lifts first).
    position : callable or None
        ``position(metrics) -> (text, detail) | None``: the rep's position for
        the report's rep table (depth, set-up, bottom).
    position_title : str
        Heading of that column.
    """

    name: str
    title: str
    rule: RepRule
    depth: Callable[[Signals], np.ndarray]
    checks: tuple[Check, ...]
    metrics: Callable[[RepContext], dict[str, float]]
    units: dict[str, str] = field(default_factory=dict)
    variants: tuple[str, ...] = ()
    spine_calibration: SpineCalibration = MODEL_HIP
    aliases: tuple[str, ...] = ()
    short_title: str = ""
    label_words: tuple[str, ...] = ()
    recognise: Callable[[Posture], bool] | None = None
    recognise_order: int = 100
    preference: int = 100
    position: Callable[[Mapping[str, float]], tuple[str, str] | None] | None = None
    position_title: str = "Bottom"

    def __post_init__(self) -> None:
        codes = [c.code for c in self.checks]
        if len(set(codes)) != len(codes):
            raise ValueError(f"exercise {self.name}: a fault code is listed twice in {codes}")
        if not self.short_title:
            object.__setattr__(self, "short_title", self.title)
        if not self.label_words:
            object.__setattr__(self, "label_words", (self.name.replace("_", " "), self.title.lower()))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.checks)

    @property
    def thresholds(self) -> dict[str, Threshold]:
        """Default thresholds, keyed by fault code (in priority order)."""
        return {c.code: c.threshold for c in self.checks}

    @property
    def views(self) -> dict[str, tuple[str, ...]]:
        """Camera views each check can be judged from (a code missing here: any view)."""
        return {c.code: c.views for c in self.checks if c.views}

    def check(self, code: str) -> Check:
        for c in self.checks:
            if c.code == code:
                return c
        raise KeyError(f"{self.name} has no check {code!r}")

    @property
    def pulls_from_floor(self) -> bool:
        """A rep is a pull from the floor to lockout and the lowering after it."""
        return self.rule.style == "down_up"


def value_at(signal: np.ndarray, frame: int) -> float:
    """Signal value at a frame as a float (NaN-safe)."""
    return float(signal[frame]) if 0 <= frame < len(signal) else float("nan")


def running_max(x: np.ndarray) -> np.ndarray:
    """Causal running maximum that ignores NaN."""
    filled = np.where(np.isfinite(x), x, -np.inf)
    out = np.maximum.accumulate(filled) if len(x) else filled
    return np.where(np.isfinite(out), out, np.nan)


def hinge_depth(signals: Signals, top_deg: float, bottom_deg: float) -> np.ndarray:
    """Normalised depth from the landmark hip angle: 0 at ``top_deg``, 1 at ``bottom_deg``."""
    return (np.asarray(signals["hip_flexion"], np.float64) - top_deg) / (bottom_deg - top_deg)


def phase_frames(ctx: RepContext, *names: str) -> np.ndarray:
    """Frame indices of the rep's named phases (those that occur), sorted."""
    out = [np.arange(*ctx.rep.phases[name]) for name in names if name in ctx.rep.phases]
    if not out:
        return np.zeros(0, int)
    frames = np.unique(np.concatenate(out))
    return frames[frames < len(ctx.time_s)]


#: Legs count as seen when the worse leg's landmarks have at least this visibility.
MIN_LEG_VISIBILITY = 0.6


def legs_seen(ctx: RepContext, frames: np.ndarray) -> np.ndarray:
    """The frames in which the hips, knees and ankles are visible (not hidden
    behind plates or cut off by the picture): joint angles there can be trusted."""
    vis = np.asarray(ctx.signals.get("lower_body_visibility", np.ones(len(ctx.time_s))), np.float64)
    frames = np.asarray(frames, int)
    with np.errstate(invalid="ignore"):
        return frames[vis[frames] >= MIN_LEG_VISIBILITY] if len(frames) else frames


#: Standing frames: landmark hip angle within this many degrees of the
#: straightest seen around the rep.
STANDING_TOLERANCE_DEG = 10.0
#: How far before the rep to look for standing frames (seconds).
STANDING_LOOKBACK_S = 2.0


def standing_frames(ctx: RepContext, include_lockout: bool = True) -> np.ndarray:
    """Frames where the lifter stands tall around this rep: the personal baseline.

    Candidates are the rep's set-up and (optionally) its lockout, plus up to
    ``STANDING_LOOKBACK_S`` before it; of those, the frames whose landmark hip
    angle is within ``STANDING_TOLERANCE_DEG`` of the straightest. Pose bias
    (a landmark that sits off the joint for this lifter, clothes, camera
    angle) is then the same in the baseline and in the rep, and cancels.
    """
    hip = np.asarray(ctx.signals["hip_flexion"], np.float64)
    lookback = hold_frames(ctx.time_s, STANDING_LOOKBACK_S)
    names = ("setup", "lockout") if include_lockout else ("setup",)
    candidates = [phase_frames(ctx, *names), np.arange(max(0, ctx.rep.start - lookback), ctx.rep.start)]
    frames = finite(hip, np.unique(np.concatenate(candidates)).astype(int))
    if len(frames) == 0:
        return frames
    straightest = float(np.min(hip[frames]))
    if straightest > 35.0:  # nobody stood tall here: no baseline
        return np.zeros(0, int)
    return frames[hip[frames] <= straightest + STANDING_TOLERANCE_DEG]


def baseline(ctx: RepContext, name: str, frames: np.ndarray | None = None, default: float = float("nan")) -> float:
    """Median of signal ``name`` over the lifter's standing frames (or ``default``)."""
    signal = np.asarray(ctx.signals[name], np.float64) if name in ctx.signals else None
    if signal is None:
        return default
    frames = standing_frames(ctx) if frames is None else frames
    frames = finite(signal, frames)
    return float(np.median(signal[frames])) if len(frames) >= 3 else default


#: Quiet standing: hip flexion below this (deg), trunk lean changing slower
#: than ``QUIET_DEG_PER_S``, for at least ``QUIET_MIN_S``.
QUIET_HIP_FLEXION_DEG = 20.0
QUIET_DEG_PER_S = 20.0
QUIET_MIN_S = 0.5


def quiet_standing_frames(ctx: RepContext, lookback_s: float = 20.0) -> np.ndarray:
    """Frames before this rep (up to ``lookback_s``) where the lifter stood still
    and tall for at least ``QUIET_MIN_S``: the set-up before a set of swings,
    say, when the tops between reps are never still."""
    t = np.asarray(ctx.time_s, np.float64)
    start = max(0, ctx.rep.start - hold_frames(t, lookback_s))
    frames = np.arange(start, ctx.rep.start)
    if len(frames) < 3:
        return np.zeros(0, int)
    hip = np.asarray(ctx.signals["hip_flexion"], np.float64)[frames]
    lean = np.asarray(ctx.signals["trunk_inclination"], np.float64)[frames]
    with np.errstate(invalid="ignore"):
        speed = np.abs(np.gradient(lean, t[frames]))
        quiet = (hip < QUIET_HIP_FLEXION_DEG) & (speed < QUIET_DEG_PER_S)
    need = hold_frames(t, QUIET_MIN_S)
    keep = np.zeros(len(frames), bool)
    run = 0
    for i, q in enumerate(quiet):  # keep runs of quiet frames at least ``need`` long
        run = run + 1 if q else 0
        if run >= need:
            keep[i - run + 1 : i + 1] = True
    return frames[keep]


def span_of(frames: np.ndarray, fallback: tuple[int, int]) -> tuple[int, int]:
    """``[first, last + 1)`` of ``frames``, or ``fallback`` when empty."""
    if len(frames) == 0:
        return fallback
    return int(np.min(frames)), int(np.max(frames)) + 1


#: Share of a movement's range ignored at each end when timing it: the start
#: and end of a lift are slow and noisy, so a movement is timed from 5 % to 95 %
#: of its range.
TEMPO_EDGE = 0.05


#: A timed movement must cover at least this share of the rep's depth range.
TEMPO_MIN_RANGE = 0.6


def movement_time(depth: np.ndarray, time_s: np.ndarray, a: int, b: int, full_range: float | None = None) -> float:
    """Seconds the depth signal takes to cross ``TEMPO_EDGE``…``1 − TEMPO_EDGE``
    of its range between frames ``a`` and ``b`` (either direction).

    NaN if unseen, if the movement covers less than ``TEMPO_MIN_RANGE`` of
    ``full_range`` (a lowering cut off by the end of the clip), or if it ends
    on the clip's last frames (a cut to another scene).
    """
    a, b = max(0, int(a)), min(len(depth) - 1, int(b))
    if b - a < 2:
        return float("nan")
    d = np.asarray(depth[a : b + 1], np.float64)
    ok = np.flatnonzero(np.isfinite(d))
    if len(ok) < 3:
        return float("nan")
    lo, hi = float(d[ok].min()), float(d[ok].max())
    if hi - lo <= 1e-9 or (full_range is not None and hi - lo < TEMPO_MIN_RANGE * full_range):
        return float("nan")
    rising = int(np.argmax(np.where(np.isfinite(d), d, -np.inf))) > int(np.argmin(np.where(np.isfinite(d), d, np.inf)))
    u = (d - lo) / (hi - lo) if rising else (hi - d) / (hi - lo)
    with np.errstate(invalid="ignore"):
        end = np.flatnonzero(u >= 1.0 - TEMPO_EDGE)
        if len(end) == 0:
            return float("nan")
        begin = np.flatnonzero(u[: end[0] + 1] <= TEMPO_EDGE)
    if len(begin) == 0 or a + end[0] >= len(depth) - 2:
        return float("nan")
    return float(time_s[a + end[0]] - time_s[a + begin[-1]])


def tempo_metrics(depth: np.ndarray, time_s: np.ndarray, rep, style: str) -> tuple[float, float]:
    """Seconds down and up of one rep (the lowering and the lift; NaN if unseen).

    ``style`` is the rep rule's: for ``up_down_up`` the way down is start →
    bottom and the way up bottom → end; for ``down_up`` (a deadlift) the lift
    is the pull to lockout and the way down the lowering after it.
    """
    window = np.asarray(depth[rep.start : rep.end + 1], np.float64)
    if not np.isfinite(window).any():
        return float("nan"), float("nan")
    full = float(np.nanmax(window) - np.nanmin(window))
    if style == "down_up":
        lock_a, lock_b = rep.phases.get("lockout", (rep.end, rep.end))
        up = movement_time(depth, time_s, rep.bottom, lock_b, full)
        down = movement_time(depth, time_s, lock_a, rep.end, full) if rep.end > lock_b + 1 else float("nan")
        return down, up
    return movement_time(depth, time_s, rep.start, rep.bottom, full), movement_time(depth, time_s, rep.bottom, rep.end, full)


#: A way down shorter than this (s) is a jump of the depth signal (a landmark glitch), not a tempo.
MIN_TIMED_DOWN_S = 0.12


def make_tempo_check(depth_fn: Callable[[Signals], np.ndarray], style: str, cue: str, what: str) -> FaultCheck:
    """A ``tempo`` check: the way down took fewer seconds than the threshold.

    The value is the duration of the way down (lower is worse; see
    :func:`tempo_metrics`); the message gives the way down and the way up.
    """

    def check_tempo(ctx: RepContext):
        down, up = tempo_metrics(depth_fn(ctx.signals), ctx.time_s, ctx.rep, style)
        if not np.isfinite(down):
            return None
        if down < MIN_TIMED_DOWN_S:  # no body moves through a whole rep that fast: the depth signal jumped
            return NotJudged("the way down could not be timed (the pose jumped between frames)")
        span = (ctx.rep.start, ctx.rep.bottom + 1) if style != "down_up" else ctx.rep.phases.get("descent", (ctx.rep.start, ctx.rep.end))
        up_words = f", up {up:.1f} s" if np.isfinite(up) else ""
        return ctx.make_fault(
            "tempo",
            down,
            span,
            cue=cue,
            message=f"{what} took {down:.1f} s (down {down:.1f} s{up_words})",
            unit="s",
        )

    return check_tempo
