"""Rep segmentation on a normalised depth signal, shared by offline and live analysis.

Each exercise turns its kinematics into a *depth* ``d(t)``: 0 at the top
(standing / lockout), 1 at a typical bottom. A two-threshold state machine
(hysteresis) turns ``d`` into alternating *up* and *down* episodes: it goes
down when ``d ≥ enter`` and back up only when ``d ≤ exit``, so noise around a
threshold never double-counts and a half-way bounce stays one rep. Both
crossings are debounced (``hold_s``), and the bottom of a rep is the deepest
level the depth *held* for ``hold_s``, so a one-frame pose glitch neither
starts nor ends a rep, nor becomes its bottom (which would also distort the
time a deadlift pull took). Frames without a usable pose (NaN) keep the
state; a gap longer than ``max_gap_s`` resets it, so a rep is never stitched
across a person leaving the frame, unless the lifter is down on both sides
of a gap shorter than ``max_bridge_s`` (a close-up that loses the body at
the bottom). At the end of a clip (:meth:`RepCounter.finish`) a return to
the top seen on its last frames completes the rep even though it could not
be held for the whole debounce.

Two rep styles:

``"up_down_up"`` (squat, good morning, …)
    A rep is top → bottom → top: an up, a down and an up episode. A clip that
    starts or ends in the hole does not count that partial rep.
``"down_up"`` (deadlift)
    A rep is a pull from the floor to lockout: a down episode followed by an up
    episode. The first descent from standing is the set-up, not a rep; the
    lowering after a lockout belongs to that rep. A clip that starts in the
    down state counts its first pull only if the lifter rested at the bottom
    first (``rest_s``): one that opens already rising is a partial rep.

:class:`RepCounter` is the causal machine (one sample at a time, as in live
use); :func:`segment_reps` runs it over a whole clip and adds the phases.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

PHASES = ("setup", "descent", "bottom", "ascent", "lockout")
#: A crossing that begins right after missing samples must hold this many times
#: ``hold_s``: a cut to another scene (an end card) shows a few frames of
#: someone standing, while a lifter lost on the way up stays at the top longer.
AFTER_GAP_HOLD = 2.0


@dataclass(frozen=True)
class RepRule:
    """How reps are cut from the depth signal.

    Attributes
    ----------
    style : str
        ``"up_down_up"`` or ``"down_up"`` (module docstring).
    enter, exit : float
        Depth thresholds of the hysteresis (``exit < enter``).
    min_rep_s : float
        Shortest counted rep (squat: top to top; deadlift: floor to lockout).
    max_gap_s : float
        Longest run of missing pose bridged without resetting.
    max_bridge_s : float
        Longer runs of missing pose, up to this, are bridged only when the
        lifter is down on both sides of the gap (``d ≥ enter`` before and
        after): a close-up that loses the body at the bottom of each rep.
        A lifter who left the frame comes back standing, not mid-rep.
    near : float
        Depth tolerance that defines "still at the top / bottom" for phase edges.
    hold_s : float
        A threshold must stay crossed this long before the state changes
        (debounce), so one-frame pose glitches never start or end a rep.
    """

    style: str = "up_down_up"
    enter: float = 0.5
    exit: float = 0.2
    min_rep_s: float = 0.6
    max_gap_s: float = 0.5
    max_bridge_s: float = 2.0
    near: float = 0.08
    hold_s: float = 0.1
    rest_s: float = 0.2


@dataclass(frozen=True)
class Rep:
    """One counted rep: frame indices into the analysed track.

    ``phases`` maps phase names (see :data:`PHASES`) to ``[start, stop)`` frame
    ranges; phases that do not occur are absent.
    """

    index: int
    start: int
    bottom: int
    end: int
    phases: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class RepEvent:
    """What :meth:`RepCounter.update` reports: a completed rep's key frames."""

    kind: str  # "rep"
    start: int
    bottom: int
    top: int


class RepCounter:
    """Causal hysteresis rep counter (see module docstring).

    Feed samples with :meth:`update`; it returns a :class:`RepEvent` on the
    sample at which a rep is complete (squat: back at the top; deadlift: at
    lockout), else None. Frame numbers count the samples fed, from 0.
    """

    def __init__(self, rule: RepRule):
        self.rule = rule
        self.reset()

    def reset(self) -> None:
        self.state: str | None = None  # "up", "down", or None before a valid sample
        self.count = 0
        self._frame = -1
        self._extreme: tuple[int, float, float] = (0, 0.0, 0.0)  # (frame, time, depth) of the episode
        self._last_top: tuple[int, float] | None = None  # last frame near the top of the up episode
        self._seen_up = False
        self._crossed_since: float | None = None  # time the pending threshold crossing began
        self._crossed_samples = 0  # valid samples since then
        self._recent: deque[tuple[int, float, float]] = deque()  # the down episode's samples of the last hold_s
        self._crossing_low = np.inf  # shallowest sample of the pending crossing
        self._crossed_after_gap = False  # the pending crossing began right after missing samples
        self._gap_before = False  # the current sample follows missing samples
        self._last_sample: tuple[int, float, float] | None = None  # (frame, time, depth) of the last valid sample
        self._previous_depth = np.nan  # depth of the valid sample before the last
        self._first_t: float | None = None  # first valid sample, if the clip opened in the down state
        self._near_bottom_t = 0.0  # last time the depth was within `near` of the episode's deepest

    def _held_level(self, frame: int, time_s: float, depth: float) -> tuple[int, float, float]:
        """Add a sample of the down episode; return the shallowest of its samples
        of the last ``hold_s`` as (frame, time, depth): the depth held that long."""
        recent = self._recent
        recent.append((frame, time_s, depth))
        while time_s - recent[0][1] > self.rule.hold_s:
            recent.popleft()
        return min(recent, key=lambda sample: sample[2])

    def _forget(self) -> None:
        """Drop the episode in progress after a gap (the next sample starts afresh)."""
        self.state, self._seen_up, self._last_top = None, False, None
        self._crossed_since, self._crossed_samples = None, 0

    def _held(self, crossed: bool, time_s: float, depth: float) -> bool:
        """True once a threshold crossing has lasted ``hold_s``."""
        if not crossed:
            self._crossed_since = None
            self._crossed_samples = 0
            return False
        if self._crossed_since is None:
            self._crossed_since = time_s
            self._crossed_after_gap = self._gap_before
            self._crossing_low = depth
        self._crossed_samples += 1
        self._crossing_low = min(self._crossing_low, depth)
        hold = self.rule.hold_s * (AFTER_GAP_HOLD if self._crossed_after_gap else 1.0)
        return time_s - self._crossed_since >= hold

    def update(self, time_s: float, depth: float) -> RepEvent | None:
        """Feed one sample; returns the rep completed by it, if any."""
        self._frame += 1
        frame, rule = self._frame, self.rule
        gap = time_s - self._last_sample[1] if self._last_sample is not None else 0.0  # since the last valid sample
        if not np.isfinite(depth):
            if gap > rule.max_bridge_s or (gap > rule.max_gap_s and self.state != "down"):
                self._forget()
            return None
        if gap > rule.max_gap_s:
            # A long gap while down: still down after it means the lifter was only lost mid-rep.
            if self.state != "down" or depth < rule.enter:
                self._forget()
        self._gap_before = self._last_sample is not None and self._last_sample[0] != frame - 1
        self._previous_depth = self._last_sample[2] if self._last_sample is not None else np.nan
        self._last_sample = (frame, time_s, depth)
        if self.state is None:
            self.state = "down" if depth >= rule.enter else "up"
            self._seen_up = self.state == "up"
            self._first_t = time_s if self.state == "down" else None
            self._near_bottom_t = time_s
            self._recent.clear()
            self._extreme = self._held_level(frame, time_s, depth)
            self._last_top = (frame, time_s) if self.state == "up" else None
            return None
        if self.state == "up":
            if depth < self._extreme[2]:
                self._extreme = (frame, time_s, depth)
            if depth <= self._extreme[2] + rule.near:
                self._last_top = (frame, time_s)
            if self._held(depth >= rule.enter, time_s, depth):
                self.state = "down"
                self._crossed_since = None
                self._crossed_samples = 0
                # The episode starts here, at the level the crossing held (a glitch on
                # this very sample does not set the bottom).
                self._recent.clear()
                self._recent.append((frame, time_s, self._crossing_low))
                self._extreme = (frame, time_s, self._crossing_low)
                self._near_bottom_t = time_s
            return None
        # The bottom is the deepest level held for ``hold_s``: a one-frame glitch
        # (often the first detection after the pose was lost) is not the bottom.
        held = self._held_level(frame, time_s, depth)
        if held[2] > self._extreme[2]:
            self._extreme = held
        if depth >= self._extreme[2] - rule.near:
            self._near_bottom_t = time_s
        if not self._held(depth <= rule.exit, time_s, depth):
            return None
        return self._back_at_top(frame, time_s, depth)

    def finish(self, time_s: float | None = None) -> RepEvent | None:
        """End of the input (the clip ends): complete a rep whose return to the top
        was still being debounced.

        The debounce guards against one-frame glitches; a lifter who reaches
        the top on the clip's last frames cannot hold it for ``hold_s`` any
        more. So a crossing that lasts to the end counts if it was seen rising
        into the top (not appearing after missing frames, as a cut to another
        scene does), on at least two samples, for at least half of ``hold_s``,
        and the lifter has arrived there: the last two samples are within
        ``near`` of each other. A clip that ends at lockout counts its rep; one
        cut while the lifter is still rising (or mid-fade to another scene)
        has not shown the lockout.
        ``time_s`` is the time of the input's end: a pose lost for longer than
        ``max_gap_s`` before it completes nothing.
        """
        if self.state != "down" or self._crossed_since is None or self._last_sample is None:
            return None
        if time_s is not None and time_s - self._last_sample[1] > self.rule.max_gap_s:
            return None
        frame, time_s, depth = self._last_sample
        lasted = time_s - self._crossed_since
        if self._crossed_after_gap or self._crossed_samples < 2 or lasted < 0.5 * self.rule.hold_s:
            return None
        if not abs(depth - self._previous_depth) <= self.rule.near:
            return None  # still rising (or a cut to another scene) on the last frame: the top is not shown
        return self._back_at_top(frame, time_s, depth)

    def _back_at_top(self, frame: int, time_s: float, depth: float) -> RepEvent | None:
        """A down episode has ended at ``frame``: the rep it completes, if it counts."""
        rule = self.rule
        self._crossed_since = None
        self._crossed_samples = 0
        bottom_frame, bottom_t, _ = self._extreme
        if rule.style == "up_down_up":
            start = self._last_top if self._seen_up else None  # None: started in the hole
        else:
            start = (bottom_frame, bottom_t)  # the pull starts at the floor
            opened_rising = self._first_t is not None and self._near_bottom_t - self._first_t < rule.rest_s
            if not self._seen_up and opened_rising:
                start = None  # the clip opened mid-pull
        self._first_t = None
        self.state = "up"
        self._seen_up = True
        self._extreme = (frame, time_s, depth)
        self._last_top = (frame, time_s)
        if start is None or time_s - start[1] < rule.min_rep_s:
            return None
        self.count += 1
        return RepEvent("rep", start[0], bottom_frame, frame)


def segment_reps(time_s: np.ndarray, depth: np.ndarray, rule: RepRule) -> list[Rep]:
    """Cut a whole clip into reps with phases.

    Parameters
    ----------
    time_s : ndarray, shape (n,)
    depth : ndarray, shape (n,)
        Normalised depth (0 top, 1 bottom), NaN where unusable.
    rule : RepRule

    Returns
    -------
    list of Rep

    Examples
    --------
    Two dips to the bottom at 30 fps, with pauses at the top:

    >>> import numpy as np
    >>> dip = np.sin(np.linspace(0, np.pi, 40))
    >>> depth = np.r_[np.zeros(20), dip, np.zeros(20), dip, np.zeros(20)]
    >>> reps = segment_reps(np.arange(len(depth)) / 30.0, depth, RepRule("up_down_up", enter=0.5, exit=0.2))
    >>> [(r.start, r.bottom, r.end) for r in reps]
    [(20, 41, 80), (80, 98, 140)]
    >>> list(reps[0].phases)
    ['setup', 'descent', 'bottom', 'ascent', 'lockout']
    """
    counter = RepCounter(rule)
    events = []
    for t, d in zip(time_s, depth):
        event = counter.update(float(t), float(d))
        if event is not None:
            events.append(event)
    event = counter.finish(float(time_s[-1]) if len(time_s) else None)
    if event is not None:
        events.append(event)
    reps = []
    for k, event in enumerate(events):
        next_start = events[k + 1].start if k + 1 < len(events) else len(depth)
        prev_end = reps[-1].end if reps else 0
        reps.append(rep_with_phases(k + 1, event, depth, rule, prev_end, next_start))
    return reps


def _near_run(depth: np.ndarray, index: int, target: float, tol: float, step: int, limit: int) -> int:
    """Walk from ``index`` in direction ``step`` while depth stays within ``tol`` of
    ``target`` (NaN counts as staying); return the last index inside."""
    i = index
    while 0 <= i + step < len(depth) and (i + step - limit) * step <= 0:
        value = depth[i + step]
        if np.isfinite(value) and abs(value - target) > tol:
            break
        i += step
    return i


def rep_with_phases(index: int, event: RepEvent, depth: np.ndarray, rule: RepRule, prev_end: int, next_start: int) -> Rep:
    d = depth
    tol = rule.near
    bottom_value = d[event.bottom]
    if rule.style == "up_down_up":
        # Descent starts when the lifter leaves the top for good.
        descent_start = event.start
        bottom_start = _near_run(d, event.bottom, bottom_value, tol, -1, descent_start)
        bottom_end = _near_run(d, event.bottom, bottom_value, tol, +1, event.top)
        top_value = np.nanmin(d[event.top : max(next_start, event.top + 1)])
        ascent_end = event.top
        while ascent_end + 1 < next_start and np.isfinite(d[ascent_end]) and d[ascent_end] > top_value + tol:
            ascent_end += 1
        end = _near_run(d, ascent_end, top_value, tol, +1, next_start - 1) + 1
        end = max(end, ascent_end + 1)
        phases = {
            "setup": (prev_end, descent_start),
            "descent": (descent_start, bottom_start),
            "bottom": (bottom_start, bottom_end + 1),
            "ascent": (bottom_end + 1, ascent_end),
            "lockout": (ascent_end, end),
        }
        start = descent_start
    else:
        # Deadlift: the set-up is the time at the floor before the pull.
        pull_start = event.start
        setup_start = _near_run(d, pull_start, bottom_value, tol, -1, prev_end)
        top_value = np.nanmin(d[event.top : max(next_start, event.top + 1)])
        lockout_start = event.top
        while lockout_start + 1 < next_start and np.isfinite(d[lockout_start]) and d[lockout_start] > top_value + tol:
            lockout_start += 1
        lockout_end = _near_run(d, lockout_start, top_value, tol, +1, next_start - 1) + 1
        # The lowering runs until the next pull's set-up (or the clip's end).
        end = next_start if next_start < len(d) else len(d)
        if next_start < len(d):
            end = _near_run(d, next_start, d[next_start], tol, -1, lockout_end)
        phases = {
            "setup": (setup_start, pull_start),
            "bottom": (pull_start, pull_start + 1),
            "ascent": (pull_start + 1, lockout_start),
            "lockout": (lockout_start, lockout_end),
            "descent": (lockout_end, max(end, lockout_end)),
        }
        start = setup_start
    phases = {name: (int(a), int(b)) for name, (a, b) in phases.items() if b > a}
    return Rep(index=index, start=int(start), bottom=int(event.bottom), end=int(max(end, event.top + 1)), phases=phases)
