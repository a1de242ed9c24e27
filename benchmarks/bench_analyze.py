"""Throughput of ``formcheck analyze`` against the pose-only ceiling and a naive loop.

Prints ratios measured in one run (absolute times drift on a shared machine;
ratios hold). Goals (issue 2): analyze ≥ 0.9× the pose-only ceiling, ≥ 1.3×
the naive sequential loop, analysis after pose ≤ 5 % of pose time, and
re-analysis from a saved track ≥ 100× faster than with pose.

Usage: python benchmarks/bench_analyze.py [VIDEO]
(default: a real side-view deadlift from ../shared/clips, else a rendered one)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import cv2

from formcheck.analysis import analyze_track
from formcheck.overlay import draw_skeleton
from formcheck.pipeline import analyze_video
from formcheck.pose import LifterSelector, PoseEstimator, PoseOptions
from formcheck.source import prefetch, read_frames
from formcheck.track import PoseFrame, PoseTrack

SHARED_CLIP = Path(__file__).resolve().parents[2] / "shared/clips/deadlift/studio_deadlift_female.mp4"


def pose_only(video: Path) -> tuple[float, int]:
    """Decode (prefetched, as analyze does) and run the pose model: nothing else."""
    start = time.perf_counter()
    n = 0
    with PoseEstimator(PoseOptions()) as estimator:
        for time_s, frame in prefetch(read_frames(video)):
            estimator.detect(frame, time_s)
            n += 1
    return time.perf_counter() - start, n


def naive_loop(video: Path, out: Path) -> float:
    """decode → pose → draw → write, one after the other on one thread."""
    start = time.perf_counter()
    writer = None
    selector = None
    frames = []
    with PoseEstimator(PoseOptions()) as estimator:
        for time_s, frame in read_frames(video):
            if writer is None:
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30, (frame.shape[1], frame.shape[0]))
                selector = LifterSelector((frame.shape[1], frame.shape[0]))
            pose = selector.choose(estimator.detect(frame, time_s)) or PoseFrame.empty(time_s)
            frames.append(pose)
            if pose.detected:
                draw_skeleton(frame, pose.xy, pose.visibility)
            writer.write(frame)
    writer.release()
    analyze_track(PoseTrack.from_frames(frames, (frame.shape[1], frame.shape[0])))
    return time.perf_counter() - start


def main() -> int:
    video = Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED_CLIP
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not video.exists():
            from formcheck.synth import SynthSpec, write_clip

            video = tmp / "synthetic_deadlift.mp4"
            write_clip(video, SynthSpec("deadlift", reps=3))
        pose_s, n = pose_only(video)
        full_start = time.perf_counter()
        report = analyze_video(video, tmp / "full")
        full_s = time.perf_counter() - full_start
        naive_s = naive_loop(video, tmp / "naive.mp4")
        track = PoseTrack.load(tmp / "full" / "landmarks.npz")
        analysis_start = time.perf_counter()
        for _ in range(5):
            analyze_track(track)
        analysis_s = (time.perf_counter() - analysis_start) / 5
        reanalyze_start = time.perf_counter()
        analyze_video(tmp / "full" / "landmarks.npz", tmp / "again")
        reanalyze_s = time.perf_counter() - reanalyze_start

    print(f"clip: {video.name}, {n} frames, {report.rep_count} reps")
    print(f"{'measure':44s} {'value':>10s} {'goal':>8s}")
    rows = [
        ("pose-only ceiling (ms/frame)", 1000 * pose_s / n, ""),
        ("analyze incl. annotated video (ms/frame)", 1000 * full_s / n, ""),
        ("naive sequential loop (ms/frame)", 1000 * naive_s / n, ""),
        ("analyze throughput / pose-only ceiling", pose_s / full_s, ">= 0.9"),
        ("analyze throughput / naive loop", naive_s / full_s, ">= 1.3"),
        ("analysis after pose / pose time", analysis_s / pose_s, "<= 0.05"),
        ("re-analysis speed-up from saved track", full_s / reanalyze_s, ">= 100"),
    ]
    for name, value, goal in rows:
        print(f"{name:44s} {value:10.3f} {goal:>8s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
