"""``formcheck eval``: run the analysis over a labelled clip set and compare.

The labels file is a CSV with at least the columns ``clip`` (path relative to
the CSV), ``exercise``, ``view`` and ``rep_count``; ``faults_seen`` is shown
beside what was found. Exercise labels are mapped to plug-ins by keyword
(:func:`expected_exercise`: swings, good mornings, Romanian deadlifts, other
deadlifts, squats); anything else (rows, walking) is expected to come out
"unknown". Exercise accuracy is counted on clips with at least one labelled
rep.

Per-fault confusion table
-------------------------
``faults_seen`` is free text ("rounded back (caption …)"); :data:`LABEL_WORDS`
maps it to fault codes. For each fault code, over the clips with at least one
labelled rep whose labelled exercise has that check:

* a clip is *labelled positive* when its ``faults_seen`` maps to the code;
* it is *labelled negative* when a careful viewer saw no fault at all
  (``faults_seen`` empty and the source did not call the clip bad) or saw
  only other faults;
* clips from a "bad" folder with no fault named are left out (some fault, we
  don't know which);
* *flagged* means at least one rep had the fault at caution or fault level;
  clips where the view could not support the check count as *withheld*.
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from formcheck.analysis.offline import AnalysisOptions, analyze_track
from formcheck.exercises import EXERCISES, exercise_named_in
from formcheck.errors import FormcheckError, InputError
from formcheck.pose.estimator import estimate_track
from formcheck.io.video import prefetch, read_frames
from formcheck.pose.track import PoseTrack


#: Patterns in ``faults_seen`` → fault code, per exercise ("*" = any exercise).
LABEL_WORDS: tuple[tuple[str, dict[str, str]], ...] = (
    (r"round|hunch|flexed back", {"squat": "butt_wink", "*": "lumbar_flexion"}),
    (r"butt wink|tuck", {"squat": "butt_wink"}),
    (r"hyperext|extended|lean(ing|ed|s)? back|over-?arch",
     {"deadlift": "lockout_hyperextension", "rdl": "lockout_hyperextension", "*": "lumbar_hyperextension"}),
    (r"squat-like start|squatting deadlift|hips too low|squatted start", {"deadlift": "squatted_start"}),
    (r"hips? (rise|rising|rose|shoot|first)|stripper", {"deadlift": "hips_rise_early"}),
    (r"bar (drift|away|forward)|bar path", {"deadlift": "bar_drift", "rdl": "bar_drift"}),
    (r"soft lockout|not locked|incomplete lockout", {"deadlift": "soft_lockout"}),
    (r"shallow|depth", {"squat": "shallow_depth"}),
    (r"knees? (cave|caving|in\b)|valgus", {"squat": "knee_valgus"}),
    (r"heels? (rise|up|lift)", {"squat": "heel_rise"}),
    (r"forward lean|lean(ing|s)? forward|chest (fall|drop)", {"squat": "excessive_forward_lean"}),
    (r"shift|asymmetr", {"squat": "lateral_shift"}),
    (r"squat(ting|ted)? (the )?swing", {"kettlebell_swing": "squatting_the_swing"}),
    (r"knees too bent|became a squat", {"rdl": "knees_too_bent", "good_morning": "knees_too_bent"}),
    (r"insufficient hinge|not enough hinge", {"rdl": "insufficient_hinge", "good_morning": "insufficient_hinge"}),
    (r"too fast|rushed|dropp", {"*": "tempo"}),
)


def expected_exercise(label: str) -> str:
    """The plug-in a labelled exercise should be recognised as (or ``"unknown"``):
    the first whose ``label_words`` appear in it (:func:`formcheck.exercises.exercise_named_in`)."""
    return exercise_named_in(label)


def labelled_codes(faults_seen: str, exercise: str) -> set[str]:
    """Fault codes named by a free-text ``faults_seen`` label for ``exercise``."""
    text = faults_seen.lower()
    codes = set()
    for pattern, by_exercise in LABEL_WORDS:
        if re.search(pattern, text):
            code = by_exercise.get(exercise, by_exercise.get("*"))
            if code:
                codes.add(code)
    return codes


@dataclass(frozen=True)
class ClipResult:
    clip: str
    label_exercise: str
    label_view: str
    expected_reps: int
    found_reps: int
    exercise: str
    view: str
    faults: str
    faults_seen: str
    error: str = ""
    source_label: str = ""
    flagged: frozenset = field(default_factory=frozenset)  # codes at caution or fault in some rep
    flagged_fault: frozenset = field(default_factory=frozenset)  # codes at fault level in some rep
    withheld: frozenset = field(default_factory=frozenset)  # codes the view could not support

    @property
    def reps_ok(self) -> bool:
        return not self.error and self.expected_reps == self.found_reps

    @property
    def expected_exercise(self) -> str:
        return expected_exercise(self.label_exercise)


def track_for(video: Path, cache: Path | None) -> PoseTrack:
    """Pose track of a video, cached under ``cache`` by the file's content hash."""
    cached = None
    if cache is not None:
        digest = hashlib.sha256(video.read_bytes()).hexdigest()[:20]
        cached = cache / f"{video.stem}-{digest}.npz"
        if cached.exists():
            return PoseTrack.load(cached)
    track = estimate_track(prefetch(read_frames(video)), meta={"source": str(video)})
    if cached is not None:
        track.save(cached)
    return track


def evaluate_clip(video: Path, row: dict, cache: Path | None, thresholds=None) -> ClipResult:
    base = dict(
        clip=row["clip"],
        label_exercise=row.get("exercise", ""),
        label_view=row.get("view", ""),
        expected_reps=int(row["rep_count"]),
        faults_seen=row.get("faults_seen", ""),
        source_label=row.get("source_label", ""),
    )
    try:
        report = analyze_track(track_for(video, cache), AnalysisOptions(thresholds=thresholds))
    except FormcheckError as exc:
        return ClipResult(**base, found_reps=0, exercise="error", view="", faults="", error=str(exc))
    faults = " ".join(f"r{f.rep}:{f.code}({f.severity[0]}{f.value:.0f})" for f in report.faults)
    return ClipResult(
        **base, found_reps=report.rep_count, exercise=report.exercise, view=report.view, faults=faults,
        flagged=frozenset(f.code for f in report.faults),
        flagged_fault=frozenset(f.code for f in report.faults if f.severity == "fault"),
        withheld=frozenset(report.not_assessable),
    )


@dataclass
class Confusion:
    """Clip counts of one fault code (see the module docstring)."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    tp_fault: int = 0  # true positives flagged at fault level
    fp_fault: int = 0  # false positives at fault level
    withheld_pos: int = 0
    withheld_neg: int = 0
    positives: list = field(default_factory=list)  # clip names labelled with the fault


def fault_confusion(results: list[ClipResult]) -> dict[str, Confusion]:
    """Per-fault clip-level confusion counts over labelled clips with reps."""
    table: dict[str, Confusion] = {}
    for r in results:
        exercise = r.expected_exercise
        if r.error or r.expected_reps <= 0 or exercise not in EXERCISES:
            continue
        seen = labelled_codes(r.faults_seen, exercise)
        unknown_fault = not seen and (r.faults_seen.strip() or r.source_label.strip().lower() == "bad")
        for code in EXERCISES[exercise].codes:
            if code not in EXERCISES[exercise].thresholds or code == "knees_forward":
                continue
            c = table.setdefault(code, Confusion())
            positive = code in seen
            if not positive and unknown_fault:
                continue  # a bad clip whose fault nobody named: neither positive nor negative
            if positive:
                c.positives.append(r.clip)
            if code in r.withheld:
                if positive:
                    c.withheld_pos += 1
                else:
                    c.withheld_neg += 1
                continue
            flagged, at_fault = code in r.flagged, code in r.flagged_fault
            if positive:
                c.tp += flagged
                c.fn += not flagged
                c.tp_fault += at_fault
            else:
                c.fp += flagged
                c.tn += not flagged
                c.fp_fault += at_fault
    return table


def print_confusion(table: dict[str, Confusion], out=sys.stdout) -> None:
    """The per-fault confusion table: flagged = caution or fault in any rep of a clip."""
    print("", file=out)
    print("per-fault confusion over labelled clips (clip level; flagged = caution or fault in any rep)", file=out)
    print(f"{'fault':24s} {'TP':>3s} {'FN':>3s} {'FP':>3s} {'TN':>3s}  {'TP@fault':>8s} {'FP@fault':>8s}  "
          f"{'withheld +/-':>12s}  labelled positive", file=out)
    for code in sorted(table, key=lambda c: (-len(table[c].positives), c)):
        c = table[code]
        print(f"{code:24s} {c.tp:3d} {c.fn:3d} {c.fp:3d} {c.tn:3d}  {c.tp_fault:8d} {c.fp_fault:8d}  "
              f"{f'{c.withheld_pos}/{c.withheld_neg}':>12s}  {', '.join(Path(p).stem for p in c.positives)}", file=out)


def run_eval(
    labels: Path, cache: str | None = None, only: list[str] | None = None, out=sys.stdout, thresholds=None
) -> int:
    if not labels.is_file():
        raise InputError(f"{labels} does not exist")
    with labels.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"clip", "rep_count"} <= set(rows[0]):
        raise InputError(f"{labels}: expected a CSV with columns clip, exercise, view, rep_count")
    cache_dir = Path(cache) if cache else None
    if cache_dir:
        cache_dir.mkdir(parents=True, exist_ok=True)
    results = []
    header = f"{'clip':44s} {'label view':12s} {'exp':>3s} {'got':>3s}  {'exercise (label→found)':26s} {'view':8s} faults found | faults labelled"
    print(header, file=out)
    for row in rows:
        if only and not any(pattern in row["clip"] for pattern in only):
            continue
        result = evaluate_clip(labels.parent / row["clip"], row, cache_dir, thresholds)
        results.append(result)
        mark = "ok" if result.reps_ok else "XX"
        exercise = f"{result.expected_exercise}→{result.exercise}"
        detail = result.error or f"{result.faults} | {result.faults_seen}"
        print(
            f"{result.clip[:44]:44s} {result.label_view[:12]:12s} {result.expected_reps:3d} {result.found_reps:3d} {mark} "
            f"{exercise:26s} {result.view:8s} {detail}",
            file=out,
            flush=True,
        )
    _print_totals(results, out)
    print_confusion(fault_confusion(results), out)
    return 0


def _print_totals(results: list[ClipResult], out) -> None:
    n = len(results)
    if not n:
        print("no clips evaluated", file=out)
        return
    exact = sum(r.reps_ok for r in results)
    with_reps = [r for r in results if r.expected_reps > 0]
    ex_ok = sum(r.exercise == r.expected_exercise for r in with_reps)
    expected_total = sum(r.expected_reps for r in results)
    found_total = sum(r.found_reps for r in results)
    errors = sum(bool(r.error) for r in results)
    print("", file=out)
    print(f"exact rep count: {exact}/{n} clips ({exact / n:.0%}); reps labelled {expected_total}, found {found_total}", file=out)
    if with_reps:
        print(f"exercise recognised: {ex_ok}/{len(with_reps)} clips with reps ({ex_ok / len(with_reps):.0%})", file=out)
    if errors:
        print(f"errors: {errors}", file=out)
