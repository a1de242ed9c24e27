"""Spine estimate on the labelled real side-view deadlifts: one row per rep.

Usage::

    python benchmarks/spine_real_clips.py [--clips DIR] [--cache DIR] [--all]

Tracks are read from ``--cache`` (``<folder>__<clip>.npz``, as written by
``PoseTrack.save``) or, when missing, computed from the videos in ``--clips``
(default: ``../shared/clips`` next to the repository) and saved to the cache.
Labels come from ``LABELS.csv`` in the clips folder.

Columns: the lifter's standing kink (personal reference), per rep the neutral
kink at the peak frame and the kink measured there, the peak lumbar flexion
(degrees beyond neutral), the hinge ratio, the verdict of the lumbar-flexion
check, and whether it matches the label (``rounded`` must be flagged, ``good``
must not; other labels are shown but not scored).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formcheck.exercises import EXERCISES  # noqa: E402
from formcheck.faults import RepContext  # noqa: E402
from formcheck.faults.spine import check_lockout_hyperextension, check_lumbar_flexion  # noqa: E402
from formcheck.pose.filters import smooth_track  # noqa: E402
from formcheck.measure.kinematics import compute_kinematics  # noqa: E402
from formcheck.reps.counter import segment_reps  # noqa: E402
from formcheck.spine import estimate_spine, rep_summary  # noqa: E402
from formcheck.pose.track import PoseTrack  # noqa: E402


def clip_label(row: dict) -> str:
    """'rounded', 'hyperextension', 'good', 'bad' (other fault) or '' (unlabelled)."""
    faults = row.get("faults_seen", "").lower()
    if "rounded" in faults or "rounding" in faults:
        return "rounded"
    if "hyperextension" in faults or "extended" in faults:
        return "hyperextension"
    name = Path(row["clip"]).stem
    if row.get("source_label") == "good" or name.startswith("studio_deadlift"):
        return "good"
    return row.get("source_label", "") or ""


def side_view_deadlifts(clips_dir: Path, include_all: bool) -> list[tuple[str, str]]:
    rows = list(csv.DictReader(open(clips_dir / "LABELS.csv", newline="")))
    out = []
    for row in rows:
        if not row["clip"].startswith("deadlift/"):
            continue
        if "side" not in row["view"] or (not include_all and int(row["rep_count"] or 0) < 1):
            continue
        out.append((row["clip"], clip_label(row)))
    return out


def load_track(clip: str, clips_dir: Path, cache: Path) -> PoseTrack:
    folder, name = clip.split("/")
    cached = cache / f"{folder}__{Path(name).stem}.npz"
    if cached.exists():
        return PoseTrack.load(cached)
    from formcheck.pose.estimator import PoseOptions, estimate_track
    from formcheck.io.video import read_frames

    track = estimate_track(read_frames(clips_dir / clip), PoseOptions(), meta={"source": str(clips_dir / clip)})
    track.save(cached)
    return track


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=ROOT.parent / "shared" / "clips")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tracks"))
    parser.add_argument("--all", action="store_true", help="also clips labelled with 0 complete reps")
    args = parser.parse_args(argv)
    if not (args.clips / "LABELS.csv").exists():
        print(f"no labelled clips at {args.clips}", file=sys.stderr)
        return 2
    args.cache.mkdir(parents=True, exist_ok=True)
    exercise = EXERCISES["deadlift"]
    thresholds = exercise.thresholds
    header = (
        f"{'clip':34s} {'label':8s} {'view':6s} {'stand':>6s} {'rep':>3s} {'neut@pk':>7s} {'kink@pk':>7s} "
        f"{'peak°':>6s} {'t_pk':>5s} {'ext°':>5s} {'hinge':>5s} {'L3d':>5s} {'verdict':8s} {'lockout':8s}"
    )
    print(header)
    print("-" * len(header))
    scored = correct = 0
    for clip, label in side_view_deadlifts(args.clips, args.all):
        track = load_track(clip, args.clips, args.cache)
        smoothed = smooth_track(track)
        kin = compute_kinematics(smoothed)
        reps = segment_reps(kin.time_s, exercise.depth(kin.signals), exercise.rule)
        spine = estimate_spine(smoothed, kin, reps, exercise.spine_calibration)
        name = Path(clip).stem
        stand = f"{spine.standing_kink_deg:6.1f}" if np.isfinite(spine.standing_kink_deg) else "     -"
        if spine.reason or not reps:
            why = spine.reason or "no complete rep found"
            print(f"{name:34s} {label:8s} {kin.view:6s} {stand} {'-':>3s}  withheld: {why}")
            continue
        flagged_clip = False
        for rep in reps:
            summary = rep_summary(spine, kin["trunk_inclination"], kin.time_s, rep)
            ctx = RepContext(rep=rep, time_s=kin.time_s, signals=kin.signals, view=kin.view,
                             thresholds=thresholds, spine=spine)
            fault = check_lumbar_flexion(ctx)
            arch = check_lockout_hyperextension(ctx)
            arch_verdict = f"{arch.severity}({arch.value:.0f})" if arch else "ok"
            verdict = fault.severity if fault else ("ok" if summary.assessable else "withheld")
            flagged_clip |= fault is not None
            if summary.assessable:
                pk = int(np.argmin(np.abs(kin.time_s - summary.peak_flexion_time_s)))
                print(
                    f"{name:34s} {label:8s} {kin.view:6s} {stand} {rep.index:3d} {spine.neutral_kink_deg[pk]:7.1f} "
                    f"{spine.back_kink_deg[pk]:7.1f} {summary['peak_lumbar_flexion_deg']:6.1f} "
                    f"{summary['peak_flexion_time_s']:5.2f} {summary['peak_extension_deg']:5.1f} "
                    f"{summary['hinge_ratio']:5.2f} {spine.trunk_length_ratio[pk]:5.2f} {verdict:8s} {arch_verdict}"
                )
            else:
                print(f"{name:34s} {label:8s} {kin.view:6s} {stand} {rep.index:3d}  withheld: {summary['reason']}")
        if label in ("rounded", "good"):
            match = flagged_clip == (label == "rounded")
            scored += 1
            correct += match
            print(f"{'':34s} -> clip verdict {'flagged' if flagged_clip else 'not flagged'}: {'MATCH' if match else 'MISMATCH'}")
    print(f"\nlabelled rounded/good clips with an assessed rep: {scored}; clip verdict matches the label: {correct}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
