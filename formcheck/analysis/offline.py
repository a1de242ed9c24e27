"""The analyser: pose track → kinematics → reps → faults → :class:`Report`.

The same functions serve offline analysis (zero-lag smoothed track) and live
analysis (causally filtered samples, see :mod:`formcheck.apps.live.session`): exercises,
rep rules and fault checks are shared, only the smoothing differs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from formcheck.io.provenance import FORMCHECK_VERSION
from formcheck.exercises import EXERCISES, detect_exercise, get_exercise
from formcheck.exercises.base import Exercise, tempo_metrics
from formcheck.faults.catalogue import CAMERA_VIEW, cue_sort_key, entry, is_info
from formcheck.measure.signals import UNITS as LANDMARK_UNITS
from formcheck.measure.signals import landmark_signals
from formcheck.measure.bar import DEFAULT_PLATE_DIAMETER_M, SCALED_METRICS, bar_signals, scale_withheld_reason
from formcheck.measure.bar import UNITS as BAR_UNITS
from formcheck.faults import Fault, NotJudged, RepContext, Threshold
from formcheck.pose.filters import smooth_track
from formcheck.measure.kinematics import UNITS, Kinematics, compute_kinematics, view_read
from formcheck.reps.counter import PHASES, Rep, segment_reps
from formcheck.analysis.report import RepResult, Report
from formcheck.spine import SpineEstimate, estimate_spine, rep_summary
from formcheck.pose.track import PoseTrack

#: Share of lumbar flexion that appears as extra trunk lean (measured on the
#: synthetic body model: 0.68; NOTES: 70–75 %).
LEAN_SHARE_OF_FLEXION = 0.68

#: Words for the views a check needs, in the camera advice.
_VIEW_ADVICE = {
    ("side",): "from the side at hip height",
    ("side", "oblique"): "from the side at hip height",
    ("front", "rear"): "from the front at hip height",
}

#: Share of frames with a pose below which results are flagged as unreliable.
MIN_DETECTED_FRACTION = 0.5


@dataclass(frozen=True)
class AnalysisOptions:
    """Choices a user can make about the analysis."""

    exercise: str = "auto"
    view: str | None = None
    thresholds: Mapping[str, Mapping[str, Threshold]] | None = None  # exercise → code → Threshold
    smooth: bool = True
    plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M  # the bar's scale (formcheck.measure.bar)


def analyze_track(track: PoseTrack, options: AnalysisOptions = AnalysisOptions()) -> Report:
    """Analyse a pose track (from :func:`formcheck.pose.estimator.estimate_track` or a saved ``.npz``)."""
    detected_fraction = float(track.detected.mean()) if len(track) else 0.0
    notes: list[str] = []
    source = str(track.meta.get("source", ""))
    if len(track) == 0 or not track.detected.any():
        return _empty_report(track, "unknown", options, ["no person was found in the video"], source)

    smoothed, kin = _measure(track, options)
    signals = kin.signals

    if options.exercise == "auto":
        name, reps_by_exercise = detect_exercise(kin.time_s, signals)
        exercise_source = "auto"
    else:
        name, exercise_source = get_exercise(options.exercise).name, "user"
        reps_by_exercise = {}

    if name == "unknown":
        notes.append(
            "the movement was not recognised as a squat, deadlift, Romanian deadlift, good morning or "
            "kettlebell swing (use --exercise to say which)"
        )
        return _empty_report(track, name, options, notes, source, kin)

    exercise = EXERCISES[name]
    depth, reps = _reps(kin, exercise, reps_by_exercise)
    if detected_fraction < MIN_DETECTED_FRACTION:
        notes.append(f"the lifter was found in only {detected_fraction:.0%} of frames; results may be incomplete")
    if not reps:
        notes.append(_why_no_reps(kin, depth, exercise))
    if reps and kin.meta.get("bar_scale_withheld"):
        notes.append(kin.meta["bar_scale_withheld"])

    thresholds = dict(exercise.thresholds)
    if options.thresholds and name in options.thresholds:
        thresholds.update(options.thresholds[name])
    spine = estimate_spine(smoothed, kin, reps, exercise.spine_calibration)
    rep_results = tuple(
        in_source_frames(assess_rep(rep, kin, exercise, thresholds, spine), track.source_index) for rep in reps
    )
    frames = _frame_table(kin, depth, reps, spine)
    frames["frame"] = track.source_index.copy()
    # Information-only checks are not listed as withheld: nothing was lost.
    not_assessable = {c: why for c, why in _not_assessable(kin, exercise, spine).items() if not is_info(c)}
    return Report(
        source=source,
        exercise=name,
        exercise_source=exercise_source,
        view=kin.view,
        sideness_deg=kin.sideness_deg,
        duration_s=_duration(track),
        fps=_source_fps(track),
        frame_count=_source_frames(track),
        pose_detected_fraction=detected_fraction,
        reps=rep_results,
        notes=tuple(notes + _analysis_rate_note(track)),
        not_assessable=not_assessable,
        frames=frames,
        units={**UNITS, **LANDMARK_UNITS, **BAR_UNITS, "time": "s", "lumbar_flexion": "deg", "spine_confidence": "score", "hip_flexion_excl_spine": "deg"},
        formcheck_version=FORMCHECK_VERSION,
        set_summary=tuple(set_summary(rep_results)),
        advice=camera_advice(kin, exercise, not_assessable),
    )


def graded_spine(
    track: PoseTrack, exercise: str, options: AnalysisOptions = AnalysisOptions()
) -> tuple[PoseTrack, SpineEstimate]:
    """The smoothed track and the spine estimate that :func:`analyze_track` grades for ``exercise``.

    The same stages as the analysis (smoothing, kinematics, the exercise's
    reps, :func:`~formcheck.spine.estimate_spine` with the exercise's
    ``spine_calibration``), so a picture drawn from it shows the back line
    (``SpineEstimate.dorsal_points``) and the hip (``SpineEstimate.hip_xy``)
    the verdicts rest on: for a deadlift the hip placed from the outline,
    for a squat the pose model's.

    Parameters
    ----------
    track : PoseTrack
        The raw track, as given to :func:`analyze_track`.
    exercise : str
        The exercise the report names (the detected one, or the user's).
    options : AnalysisOptions
        The analysis options (only ``view`` and ``smooth`` matter here).

    Returns
    -------
    smoothed : PoseTrack
    spine : SpineEstimate

    Raises
    ------
    ValueError
        ``exercise`` is not a registered exercise.
    """
    plugin = get_exercise(exercise)
    smoothed, kin = _measure(track, options)
    _, reps = _reps(kin, plugin)
    return smoothed, estimate_spine(smoothed, kin, reps, plugin.spine_calibration)


def _measure(track: PoseTrack, options: AnalysisOptions) -> tuple[PoseTrack, Kinematics]:
    """The smoothed track and its kinematics, with the landmark signals."""
    smoothed = smooth_track(track) if options.smooth else track
    kin = compute_kinematics(smoothed, view=options.view)
    kin.signals.update(landmark_signals(smoothed))  # knees caving in, hips shifting, heels lifting
    measure_bar(kin, smoothed, options.plate_diameter_m)
    return smoothed, kin


def measure_bar(kin: Kinematics, track: PoseTrack, plate_diameter_m: float) -> None:
    """Add the bar's per-frame signals to ``kin`` (only with a plate followed) and, in
    ``kin.meta["bar_scale_withheld"]``, why its speed and drift are not to be trusted
    ("" when they are). Offline and live both measure the bar here."""
    kin.signals.update(bar_signals(track, kin.facing, plate_diameter_m))
    kin.meta["bar_scale_withheld"] = scale_withheld_reason(track) if "bar_height" in kin.signals else ""


def _reps(
    kin: Kinematics, exercise: Exercise, found: Mapping[str, list[Rep]] | None = None
) -> tuple[np.ndarray, list[Rep]]:
    """The exercise's depth signal and reps (those exercise detection ``found`` if it did)."""
    depth = exercise.depth(kin.signals)
    return depth, (found or {}).get(exercise.name) or segment_reps(kin.time_s, depth, exercise.rule)


def assess_rep(
    rep: Rep,
    kin: Kinematics,
    exercise: Exercise,
    thresholds: Mapping[str, Threshold],
    spine: SpineEstimate | None = None,
) -> RepResult:
    """Metrics, faults and the one cue of one rep (shared by offline and live analysis)."""
    quality = float(np.nanmean(kin["lower_body_visibility"][rep.start : rep.end])) if rep.end > rep.start else 0.0
    # The spine may be judged in the clip but not in this rep (its back hidden, e.g. by a plate).
    spine_rep = rep_summary(spine, kin["trunk_inclination"], kin.time_s, rep) if spine is not None else None
    ctx = RepContext(
        rep=rep, time_s=kin.time_s, signals=kin.signals, view=kin.view, thresholds=thresholds, quality=quality,
        spine=spine, extra={"leg_length_m": kin.meta.get("leg_length_m")},
        spine_rep=spine_rep if spine is not None and not spine.reason else None,
    )
    faults: list[Fault] = []
    info: list[Fault] = []
    withheld = _not_assessable(kin, exercise, spine)
    not_assessed: dict[str, str] = {}
    for check in exercise.checks:
        code = check.code
        if code in withheld or code not in thresholds:
            continue
        if ctx.spine_rep is not None and not ctx.spine_rep.assessable and check.needs_spine and not is_info(code):
            not_assessed[code] = ctx.spine_rep.reason
            continue
        fault = check(ctx)
        if fault is None:
            continue
        if isinstance(fault, NotJudged):  # what the check needs was hidden: no guess is graded
            if not is_info(code):
                not_assessed[code] = fault.reason
            continue
        if is_info(code):  # shown to the lifter, never a fault and never the cue
            info.append(dataclasses.replace(fault, severity="info"))
        else:
            faults.append(fault)
    t = kin.time_s
    last = len(t) - 1
    metrics = exercise.metrics(ctx)
    if kin.meta.get("bar_scale_withheld"):  # the plate's scale is not to be trusted here
        for key in SCALED_METRICS:
            metrics.pop(key, None)
    if spine_rep is not None:
        metrics.update(spine_rep.metrics())
    # Tempo: the way down and the way up, each timed over 5–95 % of its range.
    metrics["descent_s"], metrics["ascent_s"] = tempo_metrics(exercise.depth(kin.signals), t, rep, exercise.rule.style)
    # One cue per rep, safety first: spine before positions before depth before tempo
    # (catalogue tiers); within a tier faults before cautions, then the plug-in's order.
    order = list(exercise.codes)
    ranked = sorted(faults, key=lambda f: cue_sort_key(f.code, f.severity, order.index(f.code)))
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
        info=tuple(info),
        not_assessed=not_assessed,
    )


def _not_assessable(kin: Kinematics, exercise: Exercise, spine: SpineEstimate | None = None) -> dict[str, str]:
    """Faults this video cannot support, with the reason (a verdict withheld is
    better than a wrong one)."""
    out: dict[str, str] = {}
    spine_reason = spine.reason if spine is not None else "the spine was not estimated"
    for check in exercise.checks:
        views = check.views
        if views and kin.view not in views:
            how = _VIEW_ADVICE.get(tuple(views), f"from the {' or '.join(views)}")
            out[check.code] = f"needs a {' or '.join(views)} view ({view_read(kin.view, kin.sideness_deg)}); film {how}"
        elif spine_reason and check.needs_spine:
            out[check.code] = spine_reason
    return out


def camera_advice(kin: Kinematics, exercise: Exercise, not_assessable: Mapping[str, str]) -> dict[str, str]:
    """``{"camera_view": advice}`` when some checks cannot be judged from this view (else empty).

    Advises the view that would judge the most important withheld checks
    (safety first), e.g. "film from the side at hip height to check: back
    rounded, hips rose before the chest".
    """
    by_view: dict[tuple[str, ...], list[str]] = {}
    spine_view = ("side",) if kin.view != "side" else None
    for check in exercise.checks:
        code = check.code
        if code not in not_assessable or is_info(code):
            continue
        views = check.views
        if views and kin.view not in views:
            by_view.setdefault(tuple(views) if tuple(views) != ("side", "oblique") else ("side",), []).append(code)
        elif check.needs_spine and spine_view:
            by_view.setdefault(spine_view, []).append(code)
    if not by_view:
        return {}
    order = list(exercise.codes)
    views, codes = min(by_view.items(), key=lambda item: min(cue_sort_key(c, "fault", order.index(c)) for c in item[1]))
    how = _VIEW_ADVICE.get(views, f"from the {' or '.join(views)}")
    return {CAMERA_VIEW: f"film {how} to check: {', '.join(entry(c).phrase for c in codes)}"}


def set_summary(reps) -> list[str]:
    """The set at a glance: which reps showed which fault, most urgent first.

    One line per fault code and run of consecutive reps, e.g. ``"reps 3–5:
    back rounded as you got tired"`` (a fault that appears after the first
    reps and lasts to the end of a set of three or more).

    Examples
    --------
    >>> from types import SimpleNamespace as Rep
    >>> def fault(code, severity="fault"):
    ...     return Rep(code=code, severity=severity)
    >>> reps = [Rep(index=1, faults=[]), Rep(index=2, faults=[fault("lumbar_flexion")]),
    ...         Rep(index=3, faults=[fault("lumbar_flexion"), fault("tempo", "caution")])]
    >>> set_summary(reps)
    ['reps 2–3: back rounded as you got tired', 'rep 3: rushed the way down']
    """
    if not reps:
        return []
    last = max(r.index for r in reps)
    first_rep = min(r.index for r in reps)
    seen: dict[str, list[int]] = {}
    worst: dict[str, int] = {}
    for rep in reps:
        for f in rep.faults:
            seen.setdefault(f.code, [])
            if rep.index not in seen[f.code]:
                seen[f.code].append(rep.index)
            worst[f.code] = min(worst.get(f.code, 2), 0 if f.severity == "fault" else 1)
    lines = []
    for code in sorted(seen, key=lambda c: (entry(c).rank, worst[c], min(seen[c]))):
        indices = sorted(seen[code])
        for a, b in _runs(indices):
            if a == first_rep and b == last and last > first_rep:
                where = "every rep"
            else:
                where = f"rep {a}" if a == b else f"reps {a}–{b}"
            tired = len(reps) >= 3 and a > first_rep and b == last and b > a
            lines.append(f"{where}: {entry(code).phrase}{' as you got tired' if tired else ''}")
    return lines


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted integers as (first, last) pairs."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


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
    # The landmark hip angle includes the spine; about LEAN_SHARE_OF_FLEXION of lumbar
    # flexion shows as extra trunk lean (body model), so take that share out.
    table["hip_flexion_excl_spine"] = kin["hip_flexion"] - LEAN_SHARE_OF_FLEXION * table["lumbar_flexion"]
    return table


def _duration(track: PoseTrack) -> float:
    if len(track) < 2:
        return 0.0
    return float(track.time_s[-1] - track.time_s[0] + 1.0 / max(_source_fps(track), 1e-6))


def _source_fps(track: PoseTrack) -> float:
    """The video's frame rate (the track's own when it was analysed frame by frame)."""
    return float(track.meta.get("source_fps") or track.fps)


def _source_frames(track: PoseTrack) -> int:
    return int(track.meta.get("source_frames") or len(track))


def _analysis_rate_note(track: PoseTrack) -> list[str]:
    """Say so when the pose model saw only some of the frames (a 60 fps video analysed at 30 Hz)."""
    every = round(_source_frames(track) / max(len(track), 1))
    if every < 2:
        return []
    nth = {2: "second", 3: "third", 4: "fourth"}.get(every, f"{every}th")
    return [f"analysed at {track.fps:.0f} frames per second (every {nth} frame of the {_source_fps(track):.0f} fps "
            "video; --analysis-fps 0 analyses every frame)"]


def in_source_frames(result: RepResult, source_index: np.ndarray) -> RepResult:
    """A rep's and its faults' frame numbers as frames of the source video.

    The analysis counts the frames it analysed; reports count the video's
    (``PoseTrack.source_index``). Identity when every frame was analysed.

    >>> import numpy as np
    >>> _source_frame(3, np.array([0, 2, 4, 6])), _source_frame(4, np.array([0, 2, 4, 6]))
    (6, 7)
    """
    if len(source_index) == 0 or np.array_equal(source_index, np.arange(len(source_index))):
        return result

    def moved(fault: Fault) -> Fault:
        return dataclasses.replace(fault, start_frame=_source_frame(fault.start_frame, source_index),
                                   end_frame=_source_frame(fault.end_frame, source_index))

    return dataclasses.replace(
        result,
        start_frame=_source_frame(result.start_frame, source_index),
        bottom_frame=_source_frame(result.bottom_frame, source_index),
        end_frame=_source_frame(result.end_frame, source_index),
        faults=tuple(moved(f) for f in result.faults),
        info=tuple(moved(f) for f in result.info),
    )


def _source_frame(index: int, source_index: np.ndarray) -> int:
    """Track index ``index`` (or past the end) as a frame number of the source video."""
    last = len(source_index) - 1
    return int(source_index[index]) if index <= last else int(source_index[last]) + index - last


def _empty_report(track, name, options, notes, source, kin: Kinematics | None = None) -> Report:
    return Report(
        source=source,
        exercise=name,
        exercise_source="auto" if options.exercise == "auto" else "user",
        view=kin.view if kin else "unknown",
        sideness_deg=kin.sideness_deg if kin else float("nan"),
        duration_s=_duration(track),
        fps=_source_fps(track),
        frame_count=_source_frames(track),
        pose_detected_fraction=float(track.detected.mean()) if len(track) else 0.0,
        reps=(),
        notes=tuple(notes),
        not_assessable={},
        frames=({"frame": track.source_index.copy(), "time": kin.time_s, **kin.signals} if kin else {}),
        units=dict(UNITS, time="s"),
        formcheck_version=FORMCHECK_VERSION,
    )
