"""Throughput of ``formcheck analyze`` against the pose-only ceiling and a naive loop.

Video analysis and re-analysis are timed with their JSON/CSV/video outputs;
report.html (plots and key frames) is timed on its own and printed beside.
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
from dataclasses import replace
from pathlib import Path

import av
import cv2

from formcheck.analysis.offline import analyze_track
from formcheck.render.draw import draw_skeleton
from formcheck.apps.analyze import OVERLAY_MAX_SIDE, analyze_video
from formcheck.pose.estimator import PoseEstimator, PoseOptions
from formcheck.pose.lifter import LifterSelector
from formcheck.io.video import prefetch, read_frames
from formcheck.spine import with_placed_hip
from formcheck.pose.track import PoseFrame, PoseTrack
from formcheck.io.writer import frame_size_for

# A vertical phone video (608×1080), the common case.
SHARED_CLIP = Path(__file__).resolve().parents[2] / "shared/clips/squat/gym_back_squat_side_reps.mp4"


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
    """decode → pose → draw → write, one after the other on one thread, writing
    the same H.264 (libx264 veryfast, ≤ 960 px) that ``analyze`` writes."""
    start = time.perf_counter()
    container = stream = selector = None
    frames = []
    size = None
    with PoseEstimator(PoseOptions()) as estimator:
        for time_s, frame in read_frames(video):
            if container is None:
                size = frame_size_for(frame.shape[1], frame.shape[0], OVERLAY_MAX_SIDE)
                container = av.open(str(out), "w")
                stream = container.add_stream("libx264", rate=30, options={"preset": "veryfast", "crf": "23"})
                stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
                selector = LifterSelector((frame.shape[1], frame.shape[0]))
            pose = selector.choose(estimator.detect(frame, time_s)) or PoseFrame.empty(time_s)
            frames.append(pose)
            small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            if pose.detected:
                draw_skeleton(small, pose.xy * (size[0] / frame.shape[1]), pose.visibility)
            for packet in stream.encode(av.VideoFrame.from_ndarray(small, format="bgr24")):
                container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
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
        report = analyze_video(video, tmp / "full", html=False)
        full_s = time.perf_counter() - full_start
        html_start = time.perf_counter()
        from formcheck.render.html import write_html_report

        write_html_report(tmp / "full")
        html_s = time.perf_counter() - html_start
        naive_s = naive_loop(video, tmp / "naive.mp4")
        track = PoseTrack.load(tmp / "full" / "landmarks.npz")
        # After the pose model the pipeline places the hip once (stored with the
        # landmarks), then analyses: time both, from a track without the stored hip.
        fresh = replace(track, derived={}, meta={k: v for k, v in track.meta.items() if k != "derived"})
        analysis_start = time.perf_counter()
        for _ in range(5):
            analyze_track(with_placed_hip(fresh))
        analysis_s = (time.perf_counter() - analysis_start) / 5
        reanalyze_start = time.perf_counter()
        analyze_video(tmp / "full" / "landmarks.npz", tmp / "again", html=False)
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
        ("report.html (plots + key frames) / analyze", html_s / full_s, ""),
    ]
    for name, value, goal in rows:
        print(f"{name:44s} {value:10.3f} {goal:>8s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
