"""Score the full analysis against synthetic ground truth.

A rendered clip (:func:`formcheck.synth.write_clip`) is run through the same
path as ``formcheck analyze`` (:func:`formcheck.apps.analyze.analyze_video`) and
its :class:`~formcheck.analysis.report.Report` compared with the clip's
:class:`~formcheck.synth.SynthTruth`. Used by ``benchmarks/synthetic_grid.py``
and by the regression test ``tests/test_synthetic_regression.py``.

What is compared
----------------
Per rep
    The analyser's ``peak_lumbar_flexion_deg`` against the truth's peak lumbar
    flexion over the matched truth rep, and the spine verdict (the
    exercise's spine fault, see :data:`SPINE_FAULT`). Analyser reps are matched
    to truth reps by their overlap in time; analyser reps left over are false
    reps.
Per frame
    ``lumbar_flexion`` (assessable frames only), and the joint angles:
    knee and trunk against the truth's; the landmark hip angle against the
    same angle on the true 3D landmarks (pose and projection error only); and
    the hip angle *excluding the spine* (see :func:`spine_excluded_hip`)
    against the true thigh-to-pelvis angle.
Detection
    :func:`auc` (Mann–Whitney), :func:`roc_curve` and :func:`detection_floor`
    (smallest flexion found at a given recall and false-alarm rate).
Every check
    Each check's verdict and measured value on every truth rep, against the
    faults the rep was rendered with and the true value of what the check
    measures (:mod:`formcheck.apps.synth_checks`).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from formcheck.measure.kinematics import joint_angle, midpoint
from formcheck.analysis.report import Report
from formcheck.spine import LOADED_LEAN_DEG
from formcheck.apps.analyze import analyze_video
from formcheck.apps.synth_checks import (bar_pairs, bar_path_pairs, extra_rep_alarms, probe_report, rep_verdicts,
                                          with_bar_truth)
from formcheck.pose.track import PoseTrack
from formcheck.synth import SynthTruth, write_clip
from formcheck.synth.truth import truth_paths

#: The spine fault each exercise grades from the lumbar flexion estimate.
SPINE_FAULT = {"deadlift": "lumbar_flexion", "squat": "butt_wink"}
#: Reps whose true peak flexion is at most this are neutral (negatives).
NEUTRAL_MAX_DEG = 5.0
#: Share of lumbar flexion that shows up as extra trunk lean (hip→shoulder
#: line) with the pelvis held still. Measured on the synthetic body model
#: (``synth.channels.lumbar_lean_gain``: 0.67 at 5°, 0.68 at 30°, 0.69 at 40°);
#: NOTES quotes 70–75 % for real spines.
LEAN_SHARE_OF_LUMBAR = 0.68
#: A verdict given with at least this confidence counts as confident.
CONFIDENT = 0.5
#: Standing frames for the hip-angle reference: landmark hip, knee and |lean| below these (deg).
_STANDING_HIP_DEG, _STANDING_KNEE_DEG, _STANDING_LEAN_DEG = 20.0, 10.0, 10.0


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class RepEval:
    """One truth rep and what the analyser said about it.

    Attributes
    ----------
    truth_index : int
        0-based truth rep.
    report_index : int
        1-based analyser rep it was matched with (0: no analyser rep).
    truth_peak_deg : float
        Highest true lumbar flexion during the truth rep.
    estimate_peak_deg : float
        The analyser's ``peak_lumbar_flexion_deg`` (NaN: withheld or unmatched).
    severity : str
        The spine fault's severity ("caution", "fault") or "" (none).
    fault_confidence : float
        The spine fault's confidence (NaN without a fault).
    spine_confidence : float
        Median per-frame spine confidence over the analyser rep.
    truth_lean_deg : float
        Highest true trunk inclination during the rep.
    truth_faults : tuple of str
        The faults the rep was rendered with (fault knobs, :mod:`formcheck.synth.faults`).
    truth_measures : dict
        True values of what the checks measure (:mod:`formcheck.synth.measures`; empty
        for truth files written before they existed).
    checks : dict
        Every check's verdict on this rep: ``{code: {"severity", "value", "withheld"}}``
        (:func:`formcheck.apps.synth_checks.rep_verdicts`).
    """

    truth_index: int
    report_index: int
    truth_peak_deg: float
    estimate_peak_deg: float
    severity: str
    fault_confidence: float
    spine_confidence: float
    truth_lean_deg: float
    truth_faults: tuple = ()
    truth_measures: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)

    @property
    def assessed(self) -> bool:
        """The analyser gave a flexion estimate for this rep."""
        return bool(np.isfinite(self.estimate_peak_deg))

    @property
    def flagged(self) -> bool:
        return self.severity in ("caution", "fault")

    @property
    def neutral(self) -> bool:
        return self.truth_peak_deg <= NEUTRAL_MAX_DEG

    @property
    def error_deg(self) -> float:
        return self.estimate_peak_deg - self.truth_peak_deg

    def confidently_wrong(self, missed_from_deg: float = 20.0) -> bool:
        """A spine fault on a neutral rep, or an assessed, confident all-clear on
        a rep with at least ``missed_from_deg`` of flexion."""
        if self.neutral and self.flagged:
            return True
        return (self.truth_peak_deg >= missed_from_deg and self.assessed and not self.flagged
                and self.spine_confidence >= CONFIDENT)


@dataclass(frozen=True)
class ClipEval:
    """One synthetic clip run through the analysis, scored against its truth.

    ``angle_rmse`` / ``angle_bias`` map ``knee``, ``trunk``, ``hip_landmark``,
    ``hip_spine_excluded`` and ``hip_spine_excluded_ref`` (the latter minus
    the lifter's own standing value) to degrees over the frames where both
    values exist (NaN when there are none). ``extra_reps`` holds the faults
    (``{code: severity}``) of each analyser rep that is not a truth rep;
    ``bar`` the bar metrics compared per rep
    (:func:`formcheck.apps.synth_checks.bar_pairs`).
    """

    name: str
    condition: str
    spec: dict
    exercise: str
    found_exercise: str
    view: str
    sideness_deg: float
    camera_yaw_deg: float
    person_height_px: float
    fps: float
    frames: int
    truth_reps: int
    found_reps: int
    reps: tuple[RepEval, ...]
    withheld_reason: str
    lumbar_rmse_deg: float
    lumbar_bias_deg: float
    lumbar_frames: int
    lumbar_loaded_rmse_deg: float = float("nan")
    lumbar_loaded_frames: int = 0
    angle_rmse: dict = field(default_factory=dict)
    angle_bias: dict = field(default_factory=dict)
    render_s: float = float("nan")
    analyze_s: float = float("nan")
    render_cpu_s: float = float("nan")
    analyze_cpu_s: float = float("nan")
    extra_reps: tuple = ()
    bar: dict = field(default_factory=dict)

    @property
    def withheld(self) -> bool:
        """The spine verdict was withheld for the whole clip."""
        return bool(self.withheld_reason)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reps"] = [asdict(r) for r in self.reps]
        return _json_safe(d)

    @classmethod
    def from_dict(cls, d: dict) -> "ClipEval":
        d = _from_json(dict(d))
        d["reps"] = tuple(RepEval(**_rep_from_json(r)) for r in d["reps"])
        d["extra_reps"] = tuple(d.get("extra_reps", ()))
        return cls(**d)


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _rep_from_json(r: dict) -> dict:
    r = _from_json(dict(r))
    r["truth_faults"] = tuple(r.get("truth_faults", ()))
    r["truth_measures"] = {k: float("nan") if v is None else v for k, v in r.get("truth_measures", {}).items()}
    r["checks"] = {code: {**v, "value": float("nan") if v.get("value") is None else v["value"]}
                   for code, v in r.get("checks", {}).items()}
    return r


def _from_json(d: dict) -> dict:
    """Undo :func:`_json_safe` for one level: JSON null back to NaN (every such field is a float)."""
    out = {k: (float("nan") if v is None else v) for k, v in d.items()}
    for key in ("angle_rmse", "angle_bias"):
        if key in out:
            out[key] = {k: float("nan") if v is None else v for k, v in out[key].items()}
    return out


# ---------------------------------------------------------------- running a case
def run_case(spec, workdir: str | os.PathLike, name: str, condition: str = "", keep: bool = False,
             track_dir: str | os.PathLike | None = None) -> ClipEval:
    """Render ``spec``, analyse it as ``formcheck analyze --no-video`` does, and score it.

    Parameters
    ----------
    spec : formcheck.synth.SynthSpec
    workdir : path-like
        Scratch folder; the clip goes to ``workdir/name.mp4`` and the outputs
        to ``workdir/name/``.
    name : str
    condition : str
        Label of the grid condition, kept in the result.
    keep : bool
        Keep the clip and outputs (otherwise both are deleted).
    track_dir : path-like, optional
        Also save the pose track and the truth there (``name.npz``,
        ``name.truth.npz``) so the analysis can be re-run and re-scored
        without rendering or pose (:func:`rescore`).
    """
    workdir = Path(workdir)
    clip = workdir / f"{name}.mp4"
    out = workdir / name
    t0, c0 = time.perf_counter(), time.process_time()
    write_clip(clip, spec)
    t1, c1 = time.perf_counter(), time.process_time()
    try:
        report = analyze_video(clip, out, video=False)
        t2, c2 = time.perf_counter(), time.process_time()
        truth = SynthTruth.load(clip)
        probe = probe_report(PoseTrack.load(out / "landmarks.npz"))
        if track_dir is not None:
            track_dir = Path(track_dir)
            track_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out / "landmarks.npz", track_dir / f"{name}.npz")
            shutil.copyfile(truth_paths(clip)[0], track_dir / f"{name}.truth.npz")
    finally:
        if not keep:
            clip.unlink(missing_ok=True)
            for p in truth_paths(clip):
                p.unlink(missing_ok=True)
            shutil.rmtree(out, ignore_errors=True)
    return evaluate(report, truth, name=name, condition=condition, render_s=t1 - t0, analyze_s=t2 - t1,
                    render_cpu_s=c1 - c0, analyze_cpu_s=c2 - c1, probe=probe)


def rescore(track_path: str | os.PathLike, name: str = "", condition: str = "") -> ClipEval:
    """Re-run the analysis on a saved track (from ``run_case(track_dir=...)``) and score it again.

    No rendering and no pose model: seconds for a whole grid, e.g. to try an
    estimator change against the same pose tracks.
    """

    track_path = Path(track_path)
    report = analyze_video(track_path)
    truth = SynthTruth.load(track_path.with_name(track_path.stem + ".truth.npz"))
    track = PoseTrack.load(track_path)
    if np.isfinite(track.plate[:, 0]).any():  # a followed bar is scored against the truth's (rebuilt if older)
        truth = with_bar_truth(truth)
    probe = probe_report(track)
    return evaluate(report, truth, name=name or track_path.stem, condition=condition, probe=probe)


# ---------------------------------------------------------------- scoring
def evaluate(report: Report, truth, name: str = "", condition: str = "", render_s: float = float("nan"),
             analyze_s: float = float("nan"), render_cpu_s: float = float("nan"),
             analyze_cpu_s: float = float("nan"), probe: Report | None = None) -> ClipEval:
    """Compare a :class:`Report` with the :class:`~formcheck.synth.SynthTruth` of its clip.

    ``probe`` is the same track analysed with every threshold crossed
    (:func:`formcheck.apps.synth_checks.probe_report`): it supplies each
    check's value on every rep (NaN values without it).
    """
    table = aligned_frames(report, truth)
    spine_code = SPINE_FAULT.get(truth.exercise, "lumbar_flexion")
    withheld = report.not_assessable.get(spine_code, "")
    if report.exercise not in SPINE_FAULT:
        withheld = withheld or f"exercise recognised as {report.exercise}"

    truth_windows = rep_windows(truth)
    found = [(r.start_s, r.end_s) for r in report.reps]
    pairs = match_reps(truth_windows, found)
    confidence = table.get("spine_confidence", np.full(len(truth), np.nan))
    verdicts = rep_verdicts(report, probe, truth.exercise, pairs, len(truth_windows))
    measures = truth.rep_measures
    reps = []
    for i, (a, b) in enumerate(truth_windows):
        sel = (truth.time_s >= a - 1e-6) & (truth.time_s <= b + 1e-6)
        j = pairs.get(i)
        sev = ""
        est, fconf, sconf = float("nan"), float("nan"), float("nan")
        if j is not None:
            rep = report.reps[j]
            est = float(rep.metrics.get("peak_lumbar_flexion_deg", float("nan")))
            fault = next((f for f in rep.faults if f.code == spine_code), None)
            if fault is not None:
                sev, fconf = fault.severity, float(fault.confidence)
            window = slice(rep.start_frame, max(rep.end_frame, rep.start_frame + 1))
            with np.errstate(all="ignore"):
                sconf = float(np.nanmedian(confidence[window])) if np.isfinite(confidence[window]).any() else 0.0
        reps.append(RepEval(
            truth_index=i, report_index=(report.reps[j].index if j is not None else 0),
            truth_peak_deg=float(np.max(truth.lumbar_flexion_deg[sel])) if sel.any() else float("nan"),
            estimate_peak_deg=est, severity=sev, fault_confidence=fconf, spine_confidence=sconf,
            truth_lean_deg=float(np.max(truth.trunk_inclination_deg[sel])) if sel.any() else float("nan"),
            truth_faults=tuple(truth.rep_faults[i]) if i < len(truth.rep_faults) else (),
            truth_measures=dict(measures[i]) if i < len(measures) else {},
            checks=verdicts[i],
        ))

    lumbar = table.get("lumbar_flexion", np.full(len(truth), np.nan))
    lumbar_err = lumbar - truth.lumbar_flexion_deg
    ok = np.isfinite(lumbar_err)
    rmse, bias = _rmse_bias(lumbar_err)
    loaded = ok & (truth.trunk_inclination_deg >= LOADED_LEAN_DEG)
    loaded_rmse, _ = _rmse_bias(np.where(loaded, lumbar_err, np.nan))
    angle_rmse, angle_bias = angle_errors(table, truth)
    spec = truth.meta.get("spec", {})
    return ClipEval(
        name=name, condition=condition, spec=spec, exercise=truth.exercise, found_exercise=report.exercise,
        view=report.view, sideness_deg=float(report.sideness_deg), camera_yaw_deg=float(truth.camera_yaw_deg),
        person_height_px=float(truth.person_height_px), fps=float(truth.fps), frames=len(truth),
        truth_reps=truth.rep_count, found_reps=report.rep_count, reps=tuple(reps), withheld_reason=withheld,
        lumbar_rmse_deg=rmse, lumbar_bias_deg=bias, lumbar_frames=int(ok.sum()),
        lumbar_loaded_rmse_deg=loaded_rmse, lumbar_loaded_frames=int(loaded.sum()),
        angle_rmse=angle_rmse, angle_bias=angle_bias, render_s=float(render_s), analyze_s=float(analyze_s),
        render_cpu_s=float(render_cpu_s), analyze_cpu_s=float(analyze_cpu_s),
        extra_reps=tuple(extra_rep_alarms(report, pairs)),
        bar={**bar_pairs(report, truth.summary()["reps"], pairs), **bar_path_pairs(report, truth, pairs)},
    )


def aligned_frames(report: Report, truth) -> dict[str, np.ndarray]:
    """The report's per-frame table resampled onto the truth's frames (nearest time).

    Decoded frames and rendered frames normally match one to one; a truth
    frame with no report frame within half a frame period gets NaN.
    """
    n = len(truth)
    frames = report.frames
    if not frames or "time" not in frames:
        return {}
    t = np.asarray(frames["time"], np.float64)
    if len(t) == n and np.allclose(t, truth.time_s, atol=0.5 / truth.fps):
        return {k: np.asarray(v) for k, v in frames.items()}
    index = np.clip(np.searchsorted(t, truth.time_s), 0, max(len(t) - 1, 0))
    prev = np.clip(index - 1, 0, max(len(t) - 1, 0))
    closer = np.abs(t[prev] - truth.time_s) < np.abs(t[index] - truth.time_s)
    index = np.where(closer, prev, index)
    near = np.abs(t[index] - truth.time_s) <= 0.5 / truth.fps
    out = {}
    for k, v in frames.items():
        v = np.asarray(v)
        if v.dtype.kind == "f":
            out[k] = np.where(near, v[index], np.nan)
        else:
            out[k] = v[index]
    return out


def rep_windows(truth) -> list[tuple[float, float]]:
    """(start, end) seconds of each truth rep (deadlift: lift-off to the bar back on the floor)."""
    return [(float(a), float(b)) for a, b in zip(truth.rep_start_s, truth.rep_end_s)]


def match_reps(truth_windows: Sequence[tuple[float, float]], found: Sequence[tuple[float, float]]) -> dict[int, int]:
    """Pair truth reps with analyser reps by largest overlap in time, one to one.

    Returns ``{truth index: analyser index}`` (0-based list positions); a
    pair needs an overlap of at least a third of the truth rep.
    """
    overlaps = []
    for i, (a, b) in enumerate(truth_windows):
        for j, (c, d) in enumerate(found):
            overlap = min(b, d) - max(a, c)
            if overlap >= (b - a) / 3.0:
                overlaps.append((overlap, i, j))
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in sorted(overlaps, reverse=True):
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def true_landmark_hip_angle(truth) -> np.ndarray:
    """Shoulder–hip–knee angle (0 = straight, + flexed) on the true 3D landmarks.

    The same definition as the analyser's ``hip_flexion`` (which includes
    the spine), so the difference is pose and projection error only.
    """
    world = truth.world.astype(np.float64)
    return 180.0 - joint_angle(midpoint(world, "shoulder"), midpoint(world, "hip"), midpoint(world, "knee"))


def spine_excluded_hip(hip_flexion: np.ndarray, lumbar_flexion: np.ndarray,
                       lean_share: float = LEAN_SHARE_OF_LUMBAR) -> np.ndarray:
    """Hip flexion without the spine: the landmark hip angle minus the part of
    the lumbar flexion that tilts the hip→shoulder line.

    The landmark angle is thigh against the hip→shoulder line; rounding the
    lower back by L degrees tilts that line by about ``lean_share × L`` with
    the pelvis held still, so ``hip − lean_share × lumbar`` is the thigh against
    the pelvis (up to the lifter's constant standing offset; see
    :func:`angle_errors`). NaN where the lumbar flexion is not assessable.
    """
    return np.asarray(hip_flexion, np.float64) - lean_share * np.asarray(lumbar_flexion, np.float64)


def angle_errors(table: dict[str, np.ndarray], truth) -> tuple[dict[str, float], dict[str, float]]:
    """RMSE and mean error (degrees) of the joint angles against the truth."""
    nan = np.full(len(truth), np.nan)
    knee = np.asarray(table.get("knee_flexion", nan), np.float64)
    trunk = np.asarray(table.get("trunk_inclination", nan), np.float64)
    hip = np.asarray(table.get("hip_flexion", nan), np.float64)
    lumbar = np.asarray(table.get("lumbar_flexion", nan), np.float64)
    excluded = spine_excluded_hip(hip, lumbar)
    # The lifter's own standing value removes the constant offset of the
    # landmark convention (top of the shoulder, not the joint; ≈ 3° here).
    with np.errstate(invalid="ignore"):
        standing = (hip < _STANDING_HIP_DEG) & (knee < _STANDING_KNEE_DEG) & (np.abs(trunk) < _STANDING_LEAN_DEG)
    standing &= np.isfinite(excluded)
    offset = float(np.median(excluded[standing])) if standing.sum() >= 5 else float("nan")
    errors = {
        "knee": knee - truth.knee_flexion_deg,
        "trunk": trunk - truth.trunk_inclination_deg,
        "hip_landmark": hip - true_landmark_hip_angle(truth),
        "hip_spine_excluded": excluded - truth.hip_flexion_deg,
        "hip_spine_excluded_ref": excluded - offset - truth.hip_flexion_deg,
    }
    rmse, bias = {}, {}
    for k, e in errors.items():
        rmse[k], bias[k] = _rmse_bias(e)
    return rmse, bias


def _rmse_bias(err: np.ndarray) -> tuple[float, float]:
    err = np.asarray(err, np.float64)
    ok = np.isfinite(err)
    if not ok.any():
        return float("nan"), float("nan")
    return float(np.sqrt(np.mean(err[ok] ** 2))), float(np.mean(err[ok]))


# ---------------------------------------------------------------- detection statistics
def auc(positive: Iterable[float], negative: Iterable[float]) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties count ½.

    (The Mann–Whitney U statistic over n_pos × n_neg.) NaN scores (withheld)
    are dropped; NaN if either class is empty.
    """
    pos = np.asarray([v for v in positive if np.isfinite(v)], np.float64)
    neg = np.asarray([v for v in negative if np.isfinite(v)], np.float64)
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def roc_curve(positive: Iterable[float], negative: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """False-alarm and hit rates at every threshold (score ≥ threshold flags), from (0, 0) to (1, 1)."""
    pos = np.asarray([v for v in positive if np.isfinite(v)], np.float64)
    neg = np.asarray([v for v in negative if np.isfinite(v)], np.float64)
    if len(pos) == 0 or len(neg) == 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    thresholds = np.unique(np.concatenate([pos, neg]))[::-1]
    fpr = np.array([0.0] + [(neg >= t).mean() for t in thresholds])
    tpr = np.array([0.0] + [(pos >= t).mean() for t in thresholds])
    return fpr, tpr


@dataclass(frozen=True)
class DetectionFloor:
    """Smallest flexion found at a recall with a false-alarm budget.

    Attributes
    ----------
    threshold_deg : float
        Lowest score threshold that keeps false alarms on neutral reps within
        the budget (flag when score ≥ threshold).
    false_alarm : float
        False-alarm rate on neutral reps at that threshold.
    recall_by_level : dict
        True flexion level → share of its reps flagged (withheld reps count as missed).
    smallest_deg : float
        Smallest level from which every level up has recall ≥ the target (NaN: none).
    negatives : int
    """

    threshold_deg: float
    false_alarm: float
    recall_by_level: dict
    smallest_deg: float
    negatives: int


def detection_floor(reps: Sequence[RepEval], recall: float = 0.9, max_false_alarm: float = 0.05,
                    level_step_deg: float = 5.0) -> DetectionFloor:
    """Smallest true lumbar flexion detected at ``recall`` with at most ``max_false_alarm``
    on neutral reps, the score being the analyser's per-rep peak flexion.

    Reps are grouped into levels by rounding the true peak to ``level_step_deg``.
    Withheld neutral reps raise no alarm; withheld flexed reps count as missed.
    """
    neg = np.sort([r.estimate_peak_deg for r in reps if r.neutral and r.assessed])
    if len(neg) == 0:
        return DetectionFloor(float("nan"), float("nan"), {}, float("nan"), 0)
    allowed = int(np.floor(max_false_alarm * len(neg) + 1e-9))  # alarms the budget allows
    # Flag when score ≥ threshold: put the threshold just above the (allowed+1)-th highest neutral score.
    threshold = float(np.nextafter(neg[len(neg) - 1 - allowed], np.inf))
    false_alarm = float((neg >= threshold).mean())
    levels: dict[float, list[bool]] = {}
    for r in reps:
        if r.neutral:
            continue
        level = float(level_step_deg * np.round(r.truth_peak_deg / level_step_deg))
        levels.setdefault(level, []).append(r.assessed and r.estimate_peak_deg >= threshold)
    recall_by_level = {k: float(np.mean(v)) for k, v in sorted(levels.items())}
    smallest = float("nan")
    for level in sorted(recall_by_level, reverse=True):
        if recall_by_level[level] >= recall:
            smallest = level
        else:
            break
    return DetectionFloor(threshold, false_alarm, recall_by_level, smallest, len(neg))


# ---------------------------------------------------------------- tables
def format_table(rows: Sequence[Sequence], header: Sequence[str], align: str | None = None) -> str:
    """Plain-text table with aligned columns (``align``: one 'l'/'r' per column; default: first left)."""
    cells = [[_cell(v) for v in row] for row in rows]
    header = [str(h) for h in header]
    widths = [max(len(header[k]), *(len(r[k]) for r in cells)) if cells else len(header[k]) for k in range(len(header))]
    align = align or "l" + "r" * (len(header) - 1)

    def line(values):
        return "  ".join(v.ljust(w) if a == "l" else v.rjust(w) for v, w, a in zip(values, widths, align)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in cells])


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (float, np.floating)):
        return "-" if not np.isfinite(value) else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def load_results(path: str | os.PathLike) -> list[ClipEval]:
    """Read clip results saved one JSON object per line."""
    out = []
    with open(path) as fh:
        for line in fh:
            if line.strip():
                out.append(ClipEval.from_dict(json.loads(line)))
    return out
