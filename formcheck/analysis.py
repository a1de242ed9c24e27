"""The analyser: pose track → kinematics → reps → faults → :class:`Report`.

The same functions serve offline analysis (zero-lag smoothed track) and live
analysis (causally filtered samples, see :mod:`formcheck.live`): exercises,
rep rules and fault checks are shared, only the smoothing differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from formcheck import __version__
from formcheck.exercises import EXERCISES, detect_exercise, get_exercise
from formcheck.exercises.base import Exercise
from formcheck.faults import Fault, RepContext, Threshold
from formcheck.filters import smooth_track
from formcheck.kinematics import UNITS, Kinematics, compute_kinematics
from formcheck.reps import PHASES, Rep, segment_reps
from formcheck.report import RepResult, Report
from formcheck.spine import SPINE_THRESHOLDS, SpineEstimate, estimate_spine, rep_summary
from formcheck.track import PoseTrack

#: Fault codes judged from the spine estimate.
SPINE_CODES = frozenset(SPINE_THRESHOLDS)

#: Share of frames with a pose below which results are flagged as unreliable.
MIN_DETECTED_FRACTION = 0.5


@dataclass(frozen=True)
class AnalysisOptions:
    """Choices a user can make about the analysis."""

    exercise: str = "auto"
    view: str | None = None
    thresholds: Mapping[str, Mapping[str, Threshold]] | None = None  # exercise → code → Threshold
    smooth: bool = True


def analyze_track(track: PoseTrack, options: AnalysisOptions = AnalysisOptions()) -> Report:
    """Analyse a pose track (from :func:`formcheck.pose.estimate_track` or a saved ``.npz``)."""
    detected_fraction = float(track.detected.mean()) if len(track) else 0.0
    notes: list[str] = []
    source = str(track.meta.get("source", ""))
    if len(track) == 0 or not track.detected.any():
        return _empty_report(track, "unknown", options, ["no person was found in the video"], source)

    smoothed = smooth_track(track) if options.smooth else track
    kin = compute_kinematics(smoothed, view=options.view)
    signals = kin.signals

    if options.exercise == "auto":
        name, reps_by_exercise = detect_exercise(kin.time_s, signals)
        exercise_source = "auto"
    else:
        name, exercise_source = get_exercise(options.exercise).name, "user"
        reps_by_exercise = {}

    if name == "unknown":
        notes.append("the movement was not recognised as a squat or deadlift (use --exercise to say which)")
        return _empty_report(track, name, options, notes, source, kin)

    exercise = EXERCISES[name]
    depth = exercise.depth(signals)
    reps = reps_by_exercise.get(name) or segment_reps(kin.time_s, depth, exercise.rule)
    if detected_fraction < MIN_DETECTED_FRACTION:
        notes.append(f"the lifter was found in only {detected_fraction:.0%} of frames; results may be incomplete")
    if not reps:
        notes.append(_why_no_reps(kin, depth, exercise))

    thresholds = dict(exercise.thresholds)
    if options.thresholds and name in options.thresholds:
        thresholds.update(options.thresholds[name])
    spine = estimate_spine(smoothed, kin, reps)
    rep_results = tuple(assess_rep(rep, kin, exercise, thresholds, spine) for rep in reps)
    frames = _frame_table(kin, depth, reps, spine)
    return Report(
        source=source,
        exercise=name,
        exercise_source=exercise_source,
        view=kin.view,
        sideness_deg=kin.sideness_deg,
        duration_s=_duration(track),
        fps=track.fps,
        frame_count=len(track),
        pose_detected_fraction=detected_fraction,
        reps=rep_results,
        notes=tuple(notes),
        not_assessable=_not_assessable(kin, exercise, spine),
        frames=frames,
        units={**UNITS, "time": "s", "lumbar_flexion": "deg", "spine_confidence": "score"},
        formcheck_version=__version__,
    )


def assess_rep(
    rep: Rep,
    kin: Kinematics,
    exercise: Exercise,
    thresholds: Mapping[str, Threshold],
    spine: SpineEstimate | None = None,
) -> RepResult:
    """Metrics, faults and the one cue of one rep (shared by offline and live analysis)."""
    quality = float(np.nanmean(kin["lower_body_visibility"][rep.start : rep.end])) if rep.end > rep.start else 0.0
    ctx = RepContext(
        rep=rep, time_s=kin.time_s, signals=kin.signals, view=kin.view, thresholds=thresholds, quality=quality, spine=spine
    )
    faults: list[Fault] = []
    withheld = _not_assessable(kin, exercise, spine)
    for code, check in exercise.checks:
        if code in withheld:
            continue
        fault = check(ctx)
        if fault is not None:
            faults.append(fault)
    t = kin.time_s
    last = len(t) - 1
    metrics = exercise.metrics(ctx)
    if spine is not None:
        summary = rep_summary(spine, kin, rep)
        metrics.update({k: v for k, v in summary.items() if k not in ("assessable", "reason")})
    descent = rep.phases.get("descent")
    ascent = rep.phases.get("ascent")
    metrics["descent_s"] = float(t[min(descent[1], last)] - t[descent[0]]) if descent else float("nan")
    metrics["ascent_s"] = float(t[min(ascent[1], last)] - t[ascent[0]]) if ascent else float("nan")
    # One cue per rep: checks are listed in priority order, faults before cautions.
    ranked = sorted(faults, key=lambda f: (f.severity != "fault", [c for c, _ in exercise.checks].index(f.code)))
    return RepResult(
        index=rep.index,
        start_s=float(t[rep.start]),
        bottom_s=float(t[rep.bottom]),
        end_s=float(t[min(rep.end, last)]),
        phases={name: (float(t[a]), float(t[min(b, last)])) for name, (a, b) in rep.phases.items()},
        metrics=metrics,
        faults=tuple(faults),
        cue=ranked[0].cue if ranked else None,
        start_frame=rep.start,
        bottom_frame=rep.bottom,
        end_frame=rep.end,
    )


def _not_assessable(kin: Kinematics, exercise: Exercise, spine: SpineEstimate | None = None) -> dict[str, str]:
    """Faults this video cannot support, with the reason (a verdict withheld is
    better than a wrong one)."""
    codes = [code for code, _ in exercise.checks]
    out: dict[str, str] = {}
    if kin.view not in ("side", "oblique"):
        reason = f"needs a side or oblique view (this video is {kin.view}); film from the side at hip height"
        out.update({code: reason for code in codes if code in {"hips_rise_early", "squatted_start", "shallow_depth"}})
    spine_reason = spine.reason if spine is not None else "the spine was not estimated"
    if spine_reason:
        out.update({code: spine_reason for code in codes if code in SPINE_CODES})
    return out


def _why_no_reps(kin: Kinematics, depth: np.ndarray, exercise: Exercise) -> str:
    if not np.isfinite(depth).any():
        return "no reps found: the lifter's legs were not visible"
    deepest = float(np.nanmax(depth))
    if deepest < exercise.rule.enter:
        return "no reps found: the movement never went deep enough to count as a rep"
    return "no reps found: no complete rep (the clip starts or ends mid-rep, or is too short)"


def _frame_table(kin: Kinematics, depth: np.ndarray, reps: list[Rep], spine: SpineEstimate) -> dict[str, np.ndarray]:
    n = len(kin)
    rep_index = np.zeros(n, np.int32)
    phase = np.full(n, "", dtype=object)
    for rep in reps:
        rep_index[rep.start : rep.end] = rep.index
        for name in PHASES:
            if name in rep.phases:
                a, b = rep.phases[name]
                phase[a:b] = name
    table = {"frame": np.arange(n), "time": kin.time_s, "rep": rep_index, "phase": phase, "depth": depth}
    table.update(kin.signals)
    # Withheld frames stay empty rather than showing a number nobody should trust.
    table["lumbar_flexion"] = np.where(spine.assessable, spine.lumbar_flexion_deg, np.nan)
    table["spine_confidence"] = spine.confidence
    return table


def _duration(track: PoseTrack) -> float:
    if len(track) < 2:
        return 0.0
    return float(track.time_s[-1] - track.time_s[0] + 1.0 / max(track.fps, 1e-6))


def _empty_report(track, name, options, notes, source, kin: Kinematics | None = None) -> Report:
    return Report(
        source=source,
        exercise=name,
        exercise_source="auto" if options.exercise == "auto" else "user",
        view=kin.view if kin else "unknown",
        sideness_deg=kin.sideness_deg if kin else float("nan"),
        duration_s=_duration(track),
        fps=track.fps,
        frame_count=len(track),
        pose_detected_fraction=float(track.detected.mean()) if len(track) else 0.0,
        reps=(),
        notes=tuple(notes),
        not_assessable={},
        frames=({"frame": np.arange(len(kin)), "time": kin.time_s, **kin.signals} if kin else {}),
        units=dict(UNITS, time="s"),
        formcheck_version=__version__,
    )
