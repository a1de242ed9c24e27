"""Does analysing a 60 fps video at 30 Hz change the results? (issue 18)

The pose model detects every frame afresh (no state from frame to frame:
``formcheck.pose.estimator.LifterFollower``), so a track posed at 30 Hz is
the 60 fps track with every second frame left out, which is what this
compares, clip by clip:

* **rendered**: the synthetic grid's ``fps60`` condition (tracks saved by
  ``benchmarks/synthetic_grid.py``, with their truth): reps found, rep start /
  bottom / end times, peak lumbar flexion, the faults and the lumbar-flexion
  error against the truth, analysed at 60 Hz and at 30 Hz;
* **real**: 60 fps clips given on the command line (e.g. the pose2sim demo
  videos), posed once at 60 Hz, then the same comparison without truth.

Usage::

    python benchmarks/bench_analysis_rate.py [--grid /tmp/formcheck-synthetic-grid] [CLIP.mp4 ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

import numpy as np

from formcheck.analysis.offline import analyze_track
from formcheck.apps.synth_eval import evaluate
from formcheck.io.video import read_frames
from formcheck.pose.estimator import PoseOptions, estimate_track
from formcheck.pose.track import PoseTrack
from formcheck.spine import with_placed_hip
from formcheck.synth import SynthTruth


def every_second(track: PoseTrack) -> PoseTrack:
    """The track as posed at half the rate: every second frame, with its source frame numbers."""
    half = track[::2]
    return dataclasses.replace(half, meta={**track.meta, "source_frames": len(track), "source_fps": track.fps})


def summary(report) -> tuple[int, list, list, list]:
    # A rep's timing as reported: the way down and the way up, each timed over
    # 5-95 % of its range (rep start, end and a deadlift's bottom sit in flat
    # stretches, waiting at the floor or standing, and wander by design).
    times = [(r.metrics.get("descent_s", float("nan")), r.metrics.get("ascent_s", float("nan"))) for r in report.reps]
    peaks = [r.metrics.get("peak_lumbar_flexion_deg", float("nan")) for r in report.reps]
    faults = [sorted(f"{f.code}:{f.severity}" for f in r.faults) for r in report.reps]
    return report.rep_count, times, peaks, faults


def compare(name: str, full_track: PoseTrack, truth=None) -> dict:
    full_track = with_placed_hip(full_track)  # as analyze stores it, at each rate
    half_track = with_placed_hip(every_second(full_track))
    full, half = analyze_track(full_track), analyze_track(half_track)
    n_full, t_full, p_full, f_full = summary(full)
    n_half, t_half, p_half, f_half = summary(half)
    same_reps = n_full == n_half
    gaps = np.abs(np.array(t_full, float) - np.array(t_half, float)) if same_reps and n_full else np.array([np.nan])
    dt = float(np.nanmax(gaps)) if np.isfinite(gaps).any() else float("nan")
    diffs = np.abs(np.array(p_full, float) - np.array(p_half, float)) if same_reps and n_full else np.array([np.nan])
    dp = float(np.nanmax(diffs)) if np.isfinite(diffs).any() else float("nan")
    row = {"clip": name, "reps": f"{n_full}/{n_half}", "exercise": f"{full.exercise}/{half.exercise}",
           "max |Δ down, up time| s": dt, "max |Δ peak flexion| °": dp, "faults same": f_full == f_half}
    if f_full != f_half:
        row["faults 60 → 30"] = f"{f_full} → {f_half}"
    if truth is not None:
        row["lumbar RMSE 60/30 °"] = (evaluate(full, truth).lumbar_rmse_deg, evaluate(half, truth).lumbar_rmse_deg)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path, help="real 60 fps videos")
    parser.add_argument("--grid", type=Path, default=Path(tempfile.gettempdir()) / "formcheck-synthetic-grid")
    args = parser.parse_args(argv)
    rows = []
    for path in sorted((args.grid / "tracks").glob("fps60-*.npz")):
        if path.name.endswith(".truth.npz"):
            continue
        truth = SynthTruth.load(path.with_name(path.stem + ".truth.npz"))
        rows.append(compare(path.stem, PoseTrack.load(path), truth))
    for clip in args.clips:
        track = estimate_track(read_frames(clip), PoseOptions(analysis_fps=0), meta={"source": str(clip)})
        rows.append(compare(clip.name, track))
    if not rows:
        print("nothing to compare: no fps60 tracks under --grid and no clips given", file=sys.stderr)
        return 2
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print(" | ".join(keys))
    for r in rows:
        cells = []
        for k in keys:
            v = r.get(k, "")
            if isinstance(v, tuple):
                cells.append("/".join(f"{x:.2f}" for x in v))
            elif isinstance(v, float):
                cells.append(f"{v:.3f}")
            else:
                cells.append(str(v))
        print(" | ".join(cells))
    same = sum(r["faults same"] and r["reps"].split("/")[0] == r["reps"].split("/")[1] for r in rows)
    print(f"same reps and faults at 30 Hz as at 60 Hz: {same}/{len(rows)} clips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
