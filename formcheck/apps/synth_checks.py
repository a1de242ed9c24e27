"""Every fault check scored against rendered ground truth: false alarms, detection and the measured value.

The synthetic grid (``benchmarks/synthetic_grid.py``) runs rendered clips
through the analysis; :mod:`formcheck.apps.synth_eval` matches the analyser's
reps with the truth's, and this module says, for every truth rep and every
check of the exercise, what the check concluded:

``severity``
    ``"caution"``, ``"fault"``, ``"info"`` or ``""`` (nothing), from the
    report as the user sees it.
``value``
    The value the check measured, whether or not it crossed a threshold. The
    analysis is run a second time on the same pose track with every threshold
    set so that any value grades (:func:`probe_report`); the checks compute
    their values independently of the thresholds, so this reads them without
    changing the analyser. NaN where the check measured nothing.
``withheld``
    Why the check did not judge the rep (camera view, the spine estimate
    withheld, the exercise recognised as another one); ``""`` when it did.

The truth side: the faults each rep was rendered with
(:attr:`~formcheck.synth.SynthTruth.rep_faults`, mapped to check codes by
:func:`check_for_fault`) and the true value of what each check measures
(:attr:`~formcheck.synth.SynthTruth.rep_measures`, matched by
:data:`TRUTH_MEASURE`).

:func:`check_stats` pools reps into per-check rates: false alarms per clean
rep (a rep rendered without any fault), cautions and faults separately, alarms
on reps the analyser counted that are not reps (e.g. standing up after letting
go of the bar), and detection on reps rendered with the check's fault.

>>> check_for_fault("kettlebell_swing", "lockout_hyperextension")
'lumbar_hyperextension'
>>> truth_measure("deadlift", "tempo"), truth_measure("squat", "tempo")
('lowering_s', 'descent_s')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from formcheck.analysis.offline import AnalysisOptions, analyze_track
from formcheck.analysis.report import Report
from formcheck.exercises import EXERCISES
from formcheck.faults import Threshold
from formcheck.pose.track import PoseTrack

#: Truth measure (:data:`formcheck.synth.measures.MEASURES`) that each check's value estimates;
#: a dict maps exercise → measure where it differs by exercise.
TRUTH_MEASURE: dict[str, str | dict[str, str]] = {
    "lumbar_flexion": "peak_lumbar_flexion_deg",
    "butt_wink": "butt_wink_deg",
    "lumbar_hyperextension": {"squat": "lumbar_arch_deg", "kettlebell_swing": "lean_back_vs_standing_deg"},
    "lockout_hyperextension": "lockout_lean_back_deg",
    "hips_rise_early": "early_trunk_rise_deg",
    "squatted_start": "start_trunk_deg",
    "bar_drift": "bar_forward_cm",
    "soft_lockout": "lockout_short_deg",
    "tempo": {"deadlift": "lowering_s", "*": "descent_s"},
    "shallow_depth": "thigh_above_parallel_deg",
    "heel_rise": "heel_rise_cm",
    "excessive_forward_lean": "lean_over_shin_deg",
    "knees_forward": "shin_forward_deg",
    "knees_too_bent": "knee_bend_deg",
    "squatting_the_swing": "knee_bend_deg",
    "insufficient_hinge": "hinge_deg",
}
#: Rendered fault knobs whose check has another code in that exercise.
_FAULT_TO_CHECK = {("kettlebell_swing", "lockout_hyperextension"): "lumbar_hyperextension"}
#: Bar metrics the report's reps and the truth's reps both carry once the bar is tracked
#: (issue 16, part 1): compared wherever both have them.
BAR_KEYS = ("mean_concentric_velocity_m_s", "peak_concentric_velocity_m_s", "bar_drift_cm")
#: Severities that are alarms.
ALARMS = ("caution", "fault")


def check_for_fault(exercise: str, fault: str) -> str:
    """The check code that should find the rendered fault knob ``fault`` in ``exercise``."""
    return _FAULT_TO_CHECK.get((exercise, fault), fault)


def truth_measure(exercise: str, code: str) -> str | None:
    """Name of the truth measure check ``code`` estimates in ``exercise`` (None: none)."""
    key = TRUTH_MEASURE.get(code)
    if isinstance(key, dict):
        return key.get(exercise, key.get("*"))
    return key


def check_codes(exercise: str) -> tuple[str, ...]:
    """The fault codes the plug-in of ``exercise`` checks (empty for an unknown exercise)."""
    plugin = EXERCISES.get(exercise)
    return plugin.codes if plugin is not None else ()


# ---------------------------------------------------------------- reading values without changing the analyser
def probe_thresholds() -> dict[str, dict[str, Threshold]]:
    """For every exercise and check, a threshold that any finite value crosses."""
    out = {}
    for name, plugin in EXERCISES.items():
        out[name] = {c.code: (Threshold(-1e12, -1e12) if c.threshold.higher_is_worse
                              else Threshold(1e12, 1e12, higher_is_worse=False)) for c in plugin.checks}
    return out


def probe_report(track: PoseTrack, exercise: str = "auto") -> Report:
    """The analysis of ``track`` with every threshold crossed: each check's fault carries its value."""
    return analyze_track(track, AnalysisOptions(exercise=exercise, thresholds=probe_thresholds()))


# ---------------------------------------------------------------- per rep
def _verdicts(rep) -> dict[str, tuple[str, float]]:
    out = {f.code: (f.severity, float(f.value)) for f in rep.info}
    out.update({f.code: (f.severity, float(f.value)) for f in rep.faults})
    return out


def rep_verdicts(report: Report, probe: Report | None, exercise: str, pairs: Mapping[int, int],
                 n_truth: int) -> list[dict[str, dict]]:
    """Per truth rep, ``{code: {"severity", "value", "withheld"}}`` for every check of ``exercise``
    (and any other code the analyser reported on that rep).

    ``pairs`` maps truth rep → analyser rep (list positions); ``probe`` is
    :func:`probe_report` of the same track (values NaN without it).
    """
    codes = check_codes(exercise)
    wrong = "" if report.exercise == exercise else f"the exercise was recognised as {report.exercise}"
    probed = {}
    if probe is not None and probe.exercise == report.exercise:
        probed = {i: _verdicts(r) for i, r in enumerate(probe.reps)}
    out = []
    for i in range(n_truth):
        j = pairs.get(i)
        verdicts: dict[str, dict] = {}
        if j is None:
            for code in codes:
                verdicts[code] = {"severity": "", "value": float("nan"), "withheld": "the rep was not counted"}
            out.append(verdicts)
            continue
        rep = report.reps[j]
        seen = _verdicts(rep)
        values = probed.get(j, {})
        for code in dict.fromkeys(codes + tuple(seen)):
            withheld = wrong or report.not_assessable.get(code, "") or rep.not_assessed.get(code, "")
            if code not in codes and not wrong:
                withheld = f"not a check of {exercise}"
            severity = seen.get(code, ("", float("nan")))[0]
            value = values.get(code, (None, float("nan")))[1] if not withheld else float("nan")
            verdicts[code] = {"severity": severity, "value": value, "withheld": withheld}
        out.append(verdicts)
    return out


def extra_rep_alarms(report: Report, pairs: Mapping[int, int]) -> list[dict[str, str]]:
    """``{code: severity}`` of each analyser rep that matches no truth rep (a rep that is not one)."""
    matched = set(pairs.values())
    return [{f.code: f.severity for f in r.faults} for j, r in enumerate(report.reps) if j not in matched]


def bar_pairs(report: Report, truth_reps: Sequence[Mapping], pairs: Mapping[int, int]) -> dict[str, list]:
    """``{metric: [[estimate, truth], …]}`` for the bar metrics (:data:`BAR_KEYS`) both sides carry.

    The hook for the tracked bar: empty until the report's reps have the
    metrics and the truth's reps (``SynthTruth.summary()["reps"]``) the same keys.
    """
    out: dict[str, list] = {}
    for i, j in sorted(pairs.items()):
        metrics = report.reps[j].metrics
        true = truth_reps[i] if i < len(truth_reps) else {}
        for key in BAR_KEYS:
            est, ref = metrics.get(key), true.get(key)
            if est is not None and ref is not None and np.isfinite(est) and np.isfinite(ref):
                out.setdefault(key, []).append([float(est), float(ref)])
    return out


def with_bar_truth(truth):
    """``truth`` with the bar's truth (:class:`~formcheck.synth.SynthTruth` ``bar_*`` and
    ``plate_*`` arrays) rebuilt from the clip's spec when its file predates them.

    The truth is a pure function of the spec (:func:`formcheck.synth.make_truth`,
    no rendering): the saved pose tracks of an older grid are scored against the
    same bar they were rendered with.
    """
    from formcheck.synth import SynthSpec, make_truth
    from formcheck.synth.motion import DEFAULT_IMPLEMENT

    spec = (truth.meta or {}).get("spec") or {}
    implement = spec.get("implement") or DEFAULT_IMPLEMENT.get(spec.get("exercise", ""))
    if implement not in ("barbell", "bar") or np.isfinite(truth.bar_height_m).any():
        return truth
    rebuilt = make_truth(SynthSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}))
    if len(rebuilt) != len(truth) or not np.allclose(rebuilt.landmarks_xy, truth.landmarks_xy, atol=1e-3, equal_nan=True):
        return truth  # the renderer has changed since: not the same lift
    from dataclasses import replace

    return replace(truth, plate_xy=rebuilt.plate_xy, plate_radius_px=rebuilt.plate_radius_px,
                   bar_height_m=rebuilt.bar_height_m, bar_forward_m=rebuilt.bar_forward_m)


def rep_path_error_cm(time_s: np.ndarray, height: np.ndarray, forward: np.ndarray, truth, rep: int) -> float:
    """RMS distance (cm) between the measured and the true bar over truth rep ``rep``, each
    taken from where the bar left the floor (the truth's lift-off), from lift-off until it is
    back down: the bar path error. NaN where either side has no bar there.

    ``height`` and ``forward`` are the report's per-frame ``bar_height``/``bar_forward``
    (m), on the truth's frames.
    """
    from formcheck.measure.bar import rep_bar_events

    t = np.asarray(truth.time_s, np.float64)
    mh, mf = np.asarray(height, np.float64), np.asarray(forward, np.float64)
    if len(mh) != len(t) or not np.isfinite(truth.bar_height_m).any():
        return float("nan")
    sel = np.flatnonzero((t >= truth.rep_start_s[rep] - 1e-9) & (t <= truth.rep_end_s[rep] + 1e-9))
    if len(sel) < 4:
        return float("nan")
    th, tf = np.asarray(truth.bar_height_m, np.float64), np.asarray(truth.bar_forward_m, np.float64)
    ev = rep_bar_events(t, th, int(sel[0]), int(sel[-1]))
    if not np.isfinite(ev["floor_s"]):
        return float("nan")
    leave = int(np.searchsorted(t, ev["floor_s"]))
    last = ev["down_s"] if np.isfinite(ev["down_s"]) else t[sel[-1]]
    up = sel[(t[sel] >= ev["floor_s"]) & (t[sel] <= last)]
    d = 100.0 * np.hypot((mh[up] - mh[leave]) - (th[up] - th[leave]), (mf[up] - mf[leave]) - (tf[up] - tf[leave]))
    d = d[np.isfinite(d)]
    return float(np.sqrt(np.mean(d**2))) if len(d) else float("nan")


def bar_path_pairs(report: Report, truth, pairs: Mapping[int, int]) -> dict[str, list]:
    """``{"bar_path_cm": [[error, 0.0], …]}`` per matched truth rep where both sides have a bar
    and the report stands by its scale (:func:`rep_path_error_cm`; the truth side is 0: the path
    error is a distance)."""
    from formcheck.measure.bar import SCALE_WITHHELD

    frames = report.frames
    if "bar_height" not in frames or "bar_forward" not in frames:
        return {}
    if any(note.endswith(SCALE_WITHHELD) for note in report.notes):  # the report does not stand by this bar's scale
        return {}
    errors = [rep_path_error_cm(truth.time_s, frames["bar_height"], frames["bar_forward"], truth, i)
              for i in sorted(pairs)]
    errors = [[e, 0.0] for e in errors if np.isfinite(e)]
    return {"bar_path_cm": errors} if errors else {}


# ---------------------------------------------------------------- pooled statistics
@dataclass
class SizeStats:
    """Detection of one check at one rendered fault size: reps, flagged, as fault, withheld, true values."""

    reps: int = 0
    found: int = 0
    found_fault: int = 0
    withheld: int = 0
    truth: list = field(default_factory=list)

    @property
    def detection(self) -> float:
        return self.found / self.reps if self.reps else float("nan")

    @property
    def true_value(self) -> float:
        """Median true value of what the check measures, over these reps."""
        return float(np.median(self.truth)) if self.truth else float("nan")


@dataclass
class CheckStats:
    """One check's record over a set of clips.

    Attributes
    ----------
    exercise, code : str
    clean : int
        Counted clean reps (rendered without any fault) on which the check judged.
    clean_withheld : int
        Counted clean reps on which it was withheld.
    caution, fault : int
        Of the judged clean reps, those with a caution / a fault (false alarms).
    phantom : int
        Reps the analyser counted that are not reps.
    phantom_alarms : int
        Of those, the ones with this check's caution or fault.
    positives : int
        Truth reps rendered with this check's fault (counted or not).
    found, found_fault : int
        Of those, the ones flagged (caution or fault) / with a fault.
    positives_withheld : int
        Of those, the counted ones on which the check was withheld.
    sizes : list of str
        The rendered fault sizes (``"knob=severity"``).
    by_size : dict
        Rendered size → :class:`SizeStats` (the same counts, per size).
    value_errors : list of float
        Check value − true value, on every judged rep with both.
    reasons : dict
        Reasons for withholding → count.
    """

    exercise: str
    code: str
    clean: int = 0
    clean_withheld: int = 0
    caution: int = 0
    fault: int = 0
    phantom: int = 0
    phantom_alarms: int = 0
    positives: int = 0
    found: int = 0
    found_fault: int = 0
    positives_withheld: int = 0
    positive_truth: list = field(default_factory=list)
    sizes: list = field(default_factory=list)
    by_size: dict = field(default_factory=dict)
    value_errors: list = field(default_factory=list)
    reasons: dict = field(default_factory=dict)

    def rate(self, n: int, d: int) -> float:
        return n / d if d else float("nan")

    @property
    def caution_rate(self) -> float:
        """False cautions per judged clean rep."""
        return self.rate(self.caution, self.clean)

    @property
    def fault_rate(self) -> float:
        """False faults per judged clean rep."""
        return self.rate(self.fault, self.clean)

    @property
    def alarm_rate(self) -> float:
        return self.rate(self.caution + self.fault, self.clean)

    @property
    def detection(self) -> float:
        """Share of the fault reps flagged (caution or fault); missed and withheld reps count as not found."""
        return self.rate(self.found, self.positives)

    @property
    def value_mae(self) -> float:
        return float(np.mean(np.abs(self.value_errors))) if self.value_errors else float("nan")

    @property
    def value_bias(self) -> float:
        return float(np.mean(self.value_errors)) if self.value_errors else float("nan")

    def main_reason(self) -> str:
        return max(self.reasons, key=self.reasons.get) if self.reasons else ""


def _mapped_faults(exercise: str, faults: Iterable[str]) -> set[str]:
    return {check_for_fault(exercise, f) for f in faults}


def fault_size(spec: Mapping, exercise: str, code: str, truth_faults: Iterable[str]) -> str:
    """How a rep's fault for ``code`` was rendered: ``"knob=severity"`` (squat depth: ``"depth=…"``).

    >>> fault_size({"faults": {"bar_drift": 15.0}}, "deadlift", "bar_drift", ("bar_drift",))
    'bar_drift=15'
    >>> fault_size({"depth": 0.77, "faults": {}}, "squat", "shallow_depth", ("shallow_depth",))
    'depth=0.77'
    """
    faults = dict(spec.get("faults", {}))
    knobs = [f for f in truth_faults if check_for_fault(exercise, f) == code]
    parts = [f"{k}={faults[k]:g}" for k in knobs if k in faults]
    if code == "shallow_depth" and "shallow_depth" not in faults:
        parts.append(f"depth={float(spec.get('depth', 1.0)):g}")
    return ", ".join(parts)


def check_stats(clips: Iterable) -> dict[tuple[str, str], CheckStats]:
    """Pool :class:`~formcheck.apps.synth_eval.ClipEval` results into one :class:`CheckStats`
    per (exercise, check), for the checks of each clip's true exercise."""
    stats: dict[tuple[str, str], CheckStats] = {}
    for clip in clips:
        exercise = clip.exercise
        codes = check_codes(exercise)
        for code in codes:
            stats.setdefault((exercise, code), CheckStats(exercise, code))
        for rep in clip.reps:
            if not rep.checks and not rep.truth_faults:
                continue
            present = _mapped_faults(exercise, rep.truth_faults)
            clean = not rep.truth_faults
            counted = rep.report_index > 0
            for code in codes:
                s = stats[(exercise, code)]
                v = rep.checks.get(code, {"severity": "", "value": float("nan"), "withheld": ""})
                withheld = v.get("withheld", "")
                if withheld and counted:
                    s.reasons[withheld] = s.reasons.get(withheld, 0) + 1
                if clean and counted:
                    if withheld:
                        s.clean_withheld += 1
                    else:
                        s.clean += 1
                        s.caution += v["severity"] == "caution"
                        s.fault += v["severity"] == "fault"
                key = truth_measure(exercise, code)
                true = rep.truth_measures.get(key, float("nan")) if key else float("nan")
                if code in present:
                    found, as_fault = v["severity"] in ALARMS, v["severity"] == "fault"
                    s.positives += 1
                    s.found += found
                    s.found_fault += as_fault
                    s.positives_withheld += bool(withheld) and counted
                    size = fault_size(clip.spec, exercise, code, rep.truth_faults)
                    if size not in s.sizes:
                        s.sizes.append(size)
                    at = s.by_size.setdefault(size, SizeStats())
                    at.reps += 1
                    at.found += found
                    at.found_fault += as_fault
                    at.withheld += bool(withheld) and counted
                    if np.isfinite(true):
                        s.positive_truth.append(true)
                        at.truth.append(true)
                if not withheld and np.isfinite(v["value"]) and np.isfinite(true):
                    s.value_errors.append(float(v["value"]) - float(true))
        for extra in clip.extra_reps:
            for code in codes:
                s = stats[(exercise, code)]
                s.phantom += 1
                s.phantom_alarms += extra.get(code, "") in ALARMS
    return stats
