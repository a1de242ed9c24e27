"""The analyser in causal (streaming) form, for live use and the annotated video.

It runs the same stages as :func:`formcheck.analysis.offline.analyze_track` — the
kinematics, the exercise plug-ins' depth signals, rep rules and fault checks —
on a sliding window of causally filtered poses (One Euro filter instead of the
offline zero-lag filter). Reps are counted by the same :class:`RepCounter`,
fed one sample at a time, and a finished rep is assessed by the same code as
offline, so live cues and the offline report agree up to filtering.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from formcheck.analysis.offline import assess_rep, measure_bar
from formcheck.exercises import EXERCISES, get_exercise, posture_vote
from formcheck.measure.signals import landmark_signals
from formcheck.measure.bar import DEFAULT_PLATE_DIAMETER_M, rep_bar_metrics
from formcheck.pose.filters import OneEuroFilter
from formcheck.measure.kinematics import compute_kinematics
from formcheck.analysis.report import RepResult
from formcheck.reps.counter import RepCounter, RepEvent, rep_with_phases
from formcheck.spine import estimate_spine
from formcheck.faults import Threshold
from formcheck.faults.spine import LUMBAR_FLEXION
from formcheck.pose.track import PoseFrame, PoseTrack

#: Seconds before a rep from which the live analyser places the hip (the stand
#: or set-up it starts from gives the outline's templates).
PLACE_HIP_BEFORE_REP_S = 1.5
#: Seconds of the bar's path kept for drawing.
BAR_TRAIL_S = 5.0


@dataclass(frozen=True)
class LiveState:
    """What the analyser knows after one frame."""

    time_s: float
    exercise: str
    view: str
    rep_count: int
    phase: str  # "top", "bottom" or "" before the lifter is seen
    depth: float
    angles: dict[str, float] = field(default_factory=dict)
    finished_rep: RepResult | None = None  # set on the frame a rep completes
    last_rep: RepResult | None = None
    pose: PoseFrame | None = None
    back_points: np.ndarray | None = None  # (k, 2) dorsal edge in frame pixels, side views only
    back_limits: tuple[float, float] = (LUMBAR_FLEXION.threshold.caution, LUMBAR_FLEXION.threshold.fault)
    bar: np.ndarray | None = None  # (x, y, radius) of the plate now, frame pixels; None when not seen
    bar_path: np.ndarray | None = None  # (k, 2) the bar's recent path (``BAR_TRAIL_S``), NaN where unseen
    bar_speed_m_s: float = float("nan")  # vertical, + up
    last_rep_bar: dict[str, float] = field(default_factory=dict)  # the last rep's bar metrics, updated to lockout


class StreamingAnalyzer:
    """Feed :class:`PoseFrame` objects in time order with :meth:`update`.

    Parameters
    ----------
    exercise : str
        An exercise name, or ``"auto"`` (locked once a rep's posture matches).
    window_s : float
        Length of history kept for kinematics and rep assessment.
    thresholds : dict, optional
        ``exercise → code → Threshold`` overrides.
    plate_diameter_m : float
        The bar's plates (scale of the bar's speed; :mod:`formcheck.measure.bar`).
    """

    def __init__(self, exercise: str = "auto", window_s: float = 20.0, thresholds=None,
                 plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M):
        if exercise != "auto":
            get_exercise(exercise)
        self.requested = exercise
        self.window_s = window_s
        self.thresholds = thresholds or {}
        self.plate_diameter_m = plate_diameter_m
        self.reset()

    def reset(self) -> None:
        names = list(EXERCISES) if self.requested == "auto" else [self.requested]
        self.exercise = None if self.requested == "auto" else self.requested
        self._counters = {name: RepCounter(EXERCISES[name].rule) for name in names}
        self._filters = {"xy": OneEuroFilter(), "world": OneEuroFilter(), "edges": OneEuroFilter()}
        self._buffer: deque[PoseFrame] = deque()
        self._frames_seen = 0
        self.reps: list[RepResult] = []
        self._last_rep_end = {name: -1 for name in names}
        self._size = (0, 0)

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    def update(self, pose: PoseFrame, frame_size: tuple[int, int] = (0, 0)) -> LiveState:
        self._size = frame_size or self._size
        filtered = replace(
            pose,
            xy=self._filters["xy"](pose.xy, pose.time_s).astype(np.float32),
            world=self._filters["world"](pose.world, pose.time_s).astype(np.float32),
            trunk_edges=self._filters["edges"](pose.trunk_edges, pose.time_s).astype(np.float32),
            mask=None,
        )
        self._buffer.append(filtered)
        self._frames_seen += 1
        while self._buffer and pose.time_s - self._buffer[0].time_s > self.window_s:
            self._buffer.popleft()
        track = PoseTrack.from_frames(self._buffer, self._size)
        offset = self._frames_seen - len(track)  # global frame number of buffer index 0
        kin = compute_kinematics(track)
        kin.signals.update(landmark_signals(track))
        measure_bar(kin, track, self.plate_diameter_m)
        self._track = track
        finished = None
        depth_now = float("nan")
        phase = ""
        for name, counter in self._counters.items():
            exercise = EXERCISES[name]
            depth = exercise.depth(kin.signals)
            event = counter.update(pose.time_s, float(depth[-1]))
            if name == (self.exercise or name):
                depth_now = float(depth[-1])
                phase = {"up": "top", "down": "bottom"}.get(counter.state or "", "")
            if event is None:
                continue
            result = self._assess(name, event, depth, kin, offset)
            if result is not None and (self.exercise in (None, name)):
                self.exercise = name
                finished = result
                self.reps.append(result)
        # thigh_drop: the squat depth the offline shallow_depth check judges (thigh angle above parallel).
        angles = {k: float(kin[k][-1]) for k in ("knee_flexion", "hip_flexion", "trunk_inclination", "thigh_drop")
                  if k in kin.signals and np.isfinite(kin[k][-1])}
        back = None
        if kin.view == "side" and kin.facing:
            # The back is the edge away from where the lifter faces (see spine.dorsal_side);
            # the ends are trimmed like the estimator's (neck and buttock are not back).
            side = 1 if kin.facing > 0 else 0
            points = filtered.trunk_edges[:, side]
            trim = max(1, len(points) // 10)
            back = points[trim:-trim]
        return LiveState(
            time_s=pose.time_s,
            exercise=self.exercise or "auto",
            view=kin.view,
            rep_count=self.rep_count,
            phase=phase,
            depth=depth_now,
            angles=angles,
            finished_rep=finished,
            last_rep=self.reps[-1] if self.reps else None,
            pose=filtered,
            back_points=back,
            back_limits=self._back_limits(),
            **self._bar(kin, filtered, offset),
        )

    def _bar(self, kin, pose: PoseFrame, offset: int) -> dict:
        """The plate now, its recent path, the bar's vertical speed and the last rep's
        bar metrics (LiveState fields). A rep is counted on its way up, before the bar
        reaches lockout, so its speed is measured again every frame until the next rep."""
        if "bar_x" not in kin.signals:
            return {}
        t = kin.time_s
        recent = t >= t[-1] - BAR_TRAIL_S
        x, y, radius = pose.plate[:3]
        last = {}
        if self.reps and self.reps[-1].start_frame - offset >= 0 and not kin.meta.get("bar_scale_withheld"):
            last = rep_bar_metrics(t, kin["bar_height"], kin["bar_forward"], self.reps[-1].start_frame - offset, len(t) - 1)
        return {
            "bar": np.array([x, y, radius]) if np.isfinite(x) else None,
            "bar_path": np.column_stack([kin["bar_x"][recent], kin["bar_y"][recent]]),
            "bar_speed_m_s": float(kin["bar_velocity"][-1]),
            "last_rep_bar": last,
        }

    def _back_limits(self) -> tuple[float, float]:
        """Caution and fault levels of rounding for the back gauge (the exercise's
        ``lumbar_flexion`` threshold, else the spine's default)."""
        limit = self.thresholds_for(self.exercise).get("lumbar_flexion") if self.exercise else None
        limit = limit or LUMBAR_FLEXION.threshold
        return limit.caution, limit.fault

    def thresholds_for(self, name: str) -> dict[str, Threshold]:
        """The thresholds in force for one exercise: its defaults and the overrides."""
        return {**EXERCISES[name].thresholds, **self.thresholds.get(name, {})}

    def _assess(self, name: str, event: RepEvent, depth: np.ndarray, kin, offset: int) -> RepResult | None:
        exercise = EXERCISES[name]
        local = RepEvent(event.kind, max(event.start - offset, 0), max(event.bottom - offset, 0), event.top - offset)
        if self.exercise is None and posture_vote(kin.signals, [local.bottom]) != name:
            return None
        prev_end = max(self._last_rep_end[name] - offset, 0)
        rep = rep_with_phases(len(self.reps) + 1, local, depth, exercise.rule, prev_end, len(depth))
        self._last_rep_end[name] = rep.end + offset
        thresholds = self.thresholds_for(name)
        # The spine estimate needs the whole rep: run it once the rep is complete.
        # The hip is placed from the outline over the rep and the stand before it
        # only: over the whole window it would stall the live loop at each rep end.
        before = int(round(PLACE_HIP_BEFORE_REP_S * max(self._track.fps, 1.0)))
        spine = estimate_spine(self._track, kin, [rep], exercise.spine_calibration, max(rep.start - before, 0))
        result = assess_rep(rep, kin, exercise, thresholds, spine)
        # Report frames globally, as offline does.
        return replace(
            result,
            start_frame=result.start_frame + offset,
            bottom_frame=result.bottom_frame + offset,
            end_frame=result.end_frame + offset,
        )
