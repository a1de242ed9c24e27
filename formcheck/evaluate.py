"""``formcheck eval``: run the analysis over a labelled clip set and compare.

The labels file is a CSV with at least the columns ``clip`` (path relative to
the CSV), ``exercise``, ``view`` and ``rep_count``; ``faults_seen`` is shown
beside what was found. Exercise labels containing "deadlift" or "squat" are
expected to be recognised as such; anything else (rows, swings, walking, good
mornings) is expected to come out "unknown". Exercise accuracy is counted on
clips with at least one labelled rep.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from formcheck.analysis import analyze_track
from formcheck.errors import FormcheckError, InputError
from formcheck.pose import estimate_track
from formcheck.source import prefetch, read_frames
from formcheck.track import PoseTrack


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

    @property
    def reps_ok(self) -> bool:
        return not self.error and self.expected_reps == self.found_reps

    @property
    def expected_exercise(self) -> str:
        label = self.label_exercise.lower()
        for name in ("deadlift", "squat"):
            if name in label:
                return name
        return "unknown"


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


def evaluate_clip(video: Path, row: dict, cache: Path | None) -> ClipResult:
    base = dict(
        clip=row["clip"],
        label_exercise=row.get("exercise", ""),
        label_view=row.get("view", ""),
        expected_reps=int(row["rep_count"]),
        faults_seen=row.get("faults_seen", ""),
    )
    try:
        report = analyze_track(track_for(video, cache))
    except FormcheckError as exc:
        return ClipResult(**base, found_reps=0, exercise="error", view="", faults="", error=str(exc))
    faults = " ".join(f"r{f.rep}:{f.code}({f.severity[0]}{f.value:.0f})" for f in report.faults)
    return ClipResult(**base, found_reps=report.rep_count, exercise=report.exercise, view=report.view, faults=faults)


def run_eval(labels: Path, cache: str | None = None, only: list[str] | None = None, out=sys.stdout) -> int:
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
        result = evaluate_clip(labels.parent / row["clip"], row, cache_dir)
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
