"""The barbell as measured by formcheck, against rendered truth and on real side-view clips.

Usage::

    python benchmarks/bench_bar.py                    # both parts
    python benchmarks/bench_bar.py --part synth --workers 2 --out /tmp/bench_bar
    python benchmarks/bench_bar.py --part real --show /tmp/plates   # contact sheets of the followed plates

**Rendered barbell deadlifts** (:mod:`formcheck.synth`: side views with 0–30° of
camera yaw, lifters, tempos, distances, rooms, a forward bar drift; every
clip ends with the lifter letting go of the bar and standing up). Each clip
is rendered and run through the pose model once (cached in ``--out``); the
plate is then found again from the video with the cached pose (so a change to
:mod:`formcheck.pose.plate` is measured without the pose model) and the track
analysed (:func:`formcheck.analysis.offline.analyze_track`). Per clip: reps
found vs rendered, mean and peak concentric velocity error (m/s), drift
error (cm), and the bar path error (cm: RMS distance between the measured and
the true bar position, each taken from where the bar left the floor, over
the frames of each rep; :func:`formcheck.apps.synth_checks.rep_path_error_cm`).
The table shows each clip's worst rep; the summary lines count per rep. Goals (issue 16): mean concentric velocity within
0.05 m/s, path within 2 cm, rep count exact on every clip.

**Real side-view barbell deadlifts** in ``../shared/clips/deadlift`` (the
bichraix, jchen and studio sources): the plate followed or refused per clip,
per source, against what a person sees (``PLATE_SEEN``: where a plate is in
view and can be followed, its centre and radius on two frames marked by hand;
``None`` where no plate can be trusted). Tuned on jchen, checked on the others.
Pose tracks come from ``/work/cache/tracks`` when there, else the pose model.

Prints tables; times are per frame on this machine (a shared 2-core box: compare ratios).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import glob
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formcheck.analysis.offline import analyze_track  # noqa: E402
from formcheck.apps.synth_checks import rep_path_error_cm  # noqa: E402
from formcheck.apps.synth_eval import format_table, match_reps  # noqa: E402
from formcheck.io.video import read_frames  # noqa: E402
from formcheck.pose.plate.finder import PlateFinder, with_plate_path  # noqa: E402
from formcheck.pose.track import PoseTrack  # noqa: E402
from formcheck.spine import with_placed_hip  # noqa: E402

CLIPS = ROOT.parent / "shared" / "clips"
TRACK_CACHE = Path("/work/cache/tracks")

#: Rendered cases: (name, SynthSpec keywords). Every one is a barbell deadlift.
SYNTH_CASES = [
    ("yaw0_room", dict(seed=1)),
    ("yaw0_fast_tall", dict(seed=2, tempo=0.8, height_m=1.9)),
    ("yaw0_slow_short_gym", dict(seed=3, tempo=1.3, height_m=1.6, background="gym")),
    ("yaw0_near_plain", dict(seed=4, camera_distance_m=3.3, background="plain")),
    ("yaw0_far", dict(seed=5, camera_distance_m=5.5)),
    ("yaw0_drift10", dict(seed=6, faults={"bar_drift": 10.0})),
    ("yaw10_gym", dict(seed=7, camera_yaw_deg=10.0, background="gym")),
    ("yaw15", dict(seed=8, camera_yaw_deg=15.0)),
    ("yaw-15_slow", dict(seed=9, camera_yaw_deg=-15.0, tempo=1.2)),
    ("yaw20_drift8", dict(seed=10, camera_yaw_deg=20.0, faults={"bar_drift": 8.0})),
    ("yaw25_fast", dict(seed=11, camera_yaw_deg=25.0, tempo=0.85)),
    ("yaw30", dict(seed=12, camera_yaw_deg=30.0)),
    ("yaw30_gym_tall", dict(seed=13, camera_yaw_deg=30.0, background="gym", height_m=1.85)),
]
SYNTH_BASE = dict(exercise="deadlift", implement="barbell", reps=2, setup_s=0.8)

#: Real clips: where a person sees a followable near plate, (frame, x, y, radius) on two
#: frames (display pixels): jchen_good_pull frame 5 read off a pixel grid; the others
#: the followed plate on contact sheets checked by eye (on the rim within ≈ 0.1 radius),
#: kept so a change is caught. None where no plate can be trusted: close, turned
#: cameras with a plate larger than the prior and cut by the frame (bad005, bad006,
#: good004); iron plates with holes among clutter and overlays (bad010, bad011,
#: good016, good018, good019); a ~60° oblique view (bad014); cuts between camera
#: angles (good009). Marked after tuning on jchen and studio (and the probe's three
#: failures); the other bichraix clips were first looked at with these marks.
PLATE_SEEN: dict[str, tuple[tuple[int, float, float, float], ...] | None] = {
    "bichraix_bad_form_several_reps": ((52, 352.0, 115.0, 26.0), (105, 352.0, 185.0, 26.0)),
    "bichraix_good007": ((15, 648.0, 435.0, 70.0),),  # lockout hold, black plate in a dark gym: ± 15 px by eye
    "bichraix_good008": ((65, 669.0, 443.0, 104.0), (130, 673.0, 441.0, 105.0)),
    "bichraix_good011": ((10, 650.0, 565.0, 78.0), (21, 648.0, 475.0, 88.0)),
    "bichraix_good013": ((11, 673.0, 431.0, 77.0), (23, 656.0, 493.0, 76.0)),
    "jchen_bent_arms_small": ((10, 301.0, 325.0, 52.0), (20, 291.0, 266.0, 50.0)),
    "jchen_flat_then_rounded_spliced": ((12, 325.0, 356.0, 83.0), (24, 321.0, 283.0, 83.0)),
    "jchen_good_pull": ((5, 321.0, 522.0, 77.0), (24, 320.0, 470.0, 76.0)),
    "jchen_heel_rise_pull": ((12, 337.0, 483.0, 81.0), (25, 337.0, 428.0, 81.0)),
    "jchen_stiff_leg_rounded_partial": ((10, 298.0, 461.0, 82.0), (21, 302.0, 425.0, 83.0)),
    "jchen_upper_back_rounded_top": ((5, 313.0, 388.0, 81.0), (11, 310.0, 361.0, 83.0)),
    "studio_deadlift_female": ((68, 651.0, 286.0, 49.0), (137, 662.0, 351.0, 50.0)),
    "studio_deadlift_male": ((151, 618.0, 291.0, 63.0), (303, 640.0, 281.0, 63.0)),
    "studio_deadlift_reps": ((55, 266.0, 419.0, 95.0), (111, 242.0, 575.0, 92.0)),
    **{name: None for name in ("bichraix_bad005", "bichraix_bad006", "bichraix_good004", "bichraix_bad010",
                               "bichraix_bad011", "bichraix_good016", "bichraix_good018", "bichraix_good019",
                               "bichraix_bad014", "bichraix_good009")},
}

# ---------------------------------------------------------------- helpers


def replate(track: PoseTrack, video: Path) -> tuple[PoseTrack, float]:
    """``track`` with the plate found again from ``video`` (the track's own poses), and ms per frame."""
    finder = PlateFinder()
    frames = []
    spent = 0.0
    for i, (_, image) in enumerate(read_frames(video)):
        if i >= len(track):
            break
        t0 = time.perf_counter()
        frames.append(finder(image, track[i]))
        spent += time.perf_counter() - t0
    stacked = np.full_like(track.plate_candidates, np.nan)
    stacked[: len(frames)] = np.stack([f.plate_candidates for f in frames])
    track = PoseTrack(**{**track.__dict__, "plate_candidates": stacked,
                         "meta": {k: v for k, v in track.meta.items() if k != "plate"}})
    return with_plate_path(track), 1000.0 * spent / max(len(frames), 1)


def pose_track(video: Path, cache: Path) -> PoseTrack:
    """The pose track of ``video`` (pose model once, cached as ``cache``)."""
    if cache.is_file():
        return PoseTrack.load(cache)
    from formcheck.io.video import prefetch
    from formcheck.pose.estimator import estimate_track

    track = with_placed_hip(estimate_track(prefetch(read_frames(video)), meta={"source": str(video)}))
    track.save(cache)
    return track


# ---------------------------------------------------------------- rendered clips


def _render_and_pose(name: str, spec_kwargs: dict, out: str) -> str:
    from formcheck.synth import SynthSpec, write_clip

    clip = Path(out) / f"{name}.mp4"
    if not clip.is_file():
        write_clip(clip, SynthSpec(**{**SYNTH_BASE, **spec_kwargs}))
    pose_track(clip, clip.with_suffix(".pose.npz"))
    return name


def synth_part(out: Path, workers: int) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    todo = [(n, k) for n, k in SYNTH_CASES if not (out / f"{n}.pose.npz").is_file()]
    if todo:
        print(f"rendering and running the pose model on {len(todo)} clips ({workers} workers)…", flush=True)
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for done in pool.map(_render_and_pose, [n for n, _ in todo], [k for _, k in todo], [str(out)] * len(todo)):
                print("  done", done, flush=True)
    rows = [score_synth(out, name) for name, _ in SYNTH_CASES]
    header = ["clip", "yaw", "reps", "truth", "seen", "refused", "mcv_err", "peak_err", "drift_err_cm",
              "path_cm", "ms/frame"]
    print("\nRendered barbell deadlifts (errors: measured − truth; worst rep)")
    print(format_table([[r[h] for h in header] for r in rows], header, "l" + "r" * (len(header) - 1)))
    goal = [r for r in rows if abs(r["yaw"]) <= 30]
    exact = sum(r["reps"] == r["truth"] for r in goal)
    print(f"\nside views, |yaw| ≤ 30° ({len(goal)} clips, {sum(r['truth'] for r in goal)} reps rendered; "
          f"plate refused on {sum(r['refused'] != '-' for r in goal)} clips)")
    print(f"  rep count exact on {exact}/{len(goal)} clips")
    print(per_rep_summary("mean concentric velocity error", [e for r in goal for e in r["mcv_errors"]], 0.05, "m/s"))
    print(per_rep_summary("peak concentric velocity error", [e for r in goal for e in r["peak_errors"]], 0.05, "m/s"))
    print(per_rep_summary("bar path error (RMS over the rep)", [e for r in goal for e in r["path_errors"]], 2.0, "cm"))
    print(per_rep_summary("bar drift error", [e for r in goal for e in r["drift_errors"]], 2.0, "cm"))
    return rows


def per_rep_summary(what: str, errors: list[float], goal: float, unit: str) -> str:
    """One line: per rep, median and worst |error| and how many reps are within ``goal``."""
    e = np.abs(np.asarray(errors, np.float64))
    if not len(e):
        return f"  {what}: no rep measured"
    return (f"  {what} per rep: median {np.median(e):.3f} {unit}, worst {e.max():.3f} {unit}, "
            f"within {goal:g} {unit} on {int((e <= goal).sum())}/{len(e)} reps")


def score_synth(out: Path, name: str) -> dict:
    from formcheck.synth import SynthTruth

    clip = out / f"{name}.mp4"
    truth = SynthTruth.load(clip)
    track, ms = replate(PoseTrack.load(clip.with_suffix(".pose.npz")), clip)
    report = analyze_track(track)
    found = [(r.start_s, r.end_s) for r in report.reps]
    truth_windows = [(float(a), float(b)) for a, b in zip(truth.rep_start_s, truth.rep_end_s)]
    pairs = match_reps(truth_windows, found)
    frames = report.frames
    mcv_err, peak_err, drift_err, path_err = [], [], [], []
    for i, j in pairs.items():
        true_m = truth.rep_bar_metrics(i)
        got = report.reps[j].metrics
        for key, sink in (("mean_concentric_velocity_m_s", mcv_err), ("peak_concentric_velocity_m_s", peak_err),
                          ("bar_drift_cm", drift_err)):
            a, b = got.get(key), true_m.get(key)
            if a is not None and b is not None and np.isfinite(a):
                sink.append(float(a) - float(b))
        if "bar_height" in frames:
            path = rep_path_error_cm(truth.time_s, frames["bar_height"], frames["bar_forward"], truth, i)
            if np.isfinite(path):
                path_err.append(path)
    info = track.meta.get("plate", {})
    seen = float(np.isfinite(track.plate[:, 0]).mean())

    def worst(errors):
        return max(errors, key=abs) if errors else float("nan")

    return {"clip": name, "yaw": float(truth.camera_yaw_deg), "reps": len(report.reps), "truth": truth.rep_count,
            "seen": seen, "refused": info.get("refused") or "-", "mcv_err": worst(mcv_err), "mcv_errors": mcv_err,
            "peak_err": worst(peak_err), "peak_errors": peak_err, "drift_err_cm": worst(drift_err),
            "drift_errors": drift_err,
            "path_cm": max(path_err) if path_err else float("nan"), "path_errors": path_err, "ms/frame": ms}


# ---------------------------------------------------------------- real clips


def _source(name: str) -> str:
    return name.split("_")[0]


def real_part(show: Path | None, pose_cache: Path) -> list[dict]:
    import csv

    labels = list(csv.DictReader(open(CLIPS / "LABELS.csv")))
    names = sorted({Path(r["clip"]).stem for r in labels if r["clip"].startswith("deadlift/")
                    and _source(Path(r["clip"]).stem) in ("bichraix", "jchen", "studio") and "side" in r["view"]})
    rows = []
    for name in names:
        video = CLIPS / "deadlift" / f"{name}.mp4"
        cached = glob.glob(str(TRACK_CACHE / f"{name}-*.npz"))
        pose_cache.mkdir(parents=True, exist_ok=True)
        track = PoseTrack.load(cached[0]) if cached else pose_track(video, pose_cache / f"{name}.npz")
        track, ms = replate(track, video)
        info = track.meta.get("plate", {})
        refused = info.get("refused") or ""
        seen = np.isfinite(track.plate[:, 0])
        marks = PLATE_SEEN.get(name, "unmarked")
        verdict = _verdict(track, marks)
        rows.append({"clip": name, "source": _source(name), "frames": len(track), "followed": "no" if refused else "yes",
                     "seen": float(seen.mean()), "radius": info.get("radius_px"), "human": _human(marks),
                     "verdict": verdict, "why": refused[:60] or "-", "ms/frame": ms})
        if show is not None:
            _contact_sheet(video, track, show / f"{name}.png")
    header = ["clip", "source", "frames", "human", "followed", "seen", "radius", "verdict", "ms/frame", "why"]
    print("\nReal side-view barbell deadlifts (human: a followable plate is in view; verdict against the marks)")
    print(format_table([[r[h] for h in header] for r in rows], header, "llrllrrlrl"))
    print("\nper source:")
    srows = []
    for source in sorted({r["source"] for r in rows}):
        mine = [r for r in rows if r["source"] == source]
        srows.append([source, len(mine), sum(r["human"] == "plate" for r in mine),
                      sum(r["verdict"] == "right" for r in mine), sum(r["verdict"] == "refused, plate in view" for r in mine),
                      sum(r["verdict"] == "refused, rightly" for r in mine), sum(r["verdict"].startswith("WRONG") for r in mine)])
    print(format_table(srows, ["source", "clips", "plate in view", "followed right", "refused (missed)",
                               "refused rightly", "wrong"]))
    return rows


def _human(marks) -> str:
    return "unmarked" if marks == "unmarked" else "plate" if marks else "none"


def _verdict(track: PoseTrack, marks) -> str:
    followed = np.isfinite(track.plate[:, 0]).any()
    if marks == "unmarked":
        return "unmarked"
    if not marks:
        return "WRONG: followed an untrustworthy plate" if followed else "refused, rightly"
    if not followed:
        return "refused, plate in view"
    errors = []
    for frame, x, y, r in marks:
        px, py, pr = track.plate[frame, :3]
        if not np.isfinite(px):
            errors.append(np.inf)
            continue
        errors.append(max(np.hypot(px - x, py - y) / r, abs(pr - r) / r))
    return "right" if max(errors) <= 0.15 else f"WRONG: off by {max(errors):.2f} radii"


def _contact_sheet(video: Path, track: PoseTrack, path: Path) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [f for _, f in read_frames(video)]
    n = min(len(frames), len(track))
    tiles = []
    for i in np.linspace(0, n - 1, 6).astype(int):
        img = frames[i].copy()
        x, y, r, _ = track.plate[i]
        if np.isfinite(x):
            cv2.circle(img, (int(x), int(y)), int(r), (0, 255, 0), 2)
        pts = track.plate[:n, :2][np.isfinite(track.plate[:n, 0])].astype(np.int32)
        if len(pts) > 1:
            cv2.polylines(img, [pts], False, (255, 255, 0), 1)
        cv2.putText(img, str(i), (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 255), 2)
        scale = 320 / img.shape[0]
        tiles.append(cv2.resize(img, (int(img.shape[1] * scale), 320)))
    cv2.imwrite(str(path), np.hstack(tiles))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=("synth", "real", "both"), default="both")
    p.add_argument("--out", type=Path, default=Path("/tmp/bench_bar"), help="cache of rendered clips and pose tracks")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--show", type=Path, default=None, help="write contact sheets of the real clips here")
    args = p.parse_args(argv)
    if args.part in ("synth", "both"):
        synth_part(args.out / "synth", args.workers)
    if args.part in ("real", "both"):
        real_part(args.show, args.out / "real_tracks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
