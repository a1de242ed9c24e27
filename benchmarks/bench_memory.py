"""Peak memory of ``formcheck analyze`` against video length (issue 18: flat within 10 %).

Builds two 1080p H.264 clips by looping a real side-view deadlift (upscaled
to 1920×1080, timestamps continuing): 1 minute and 10 minutes. Then runs
``formcheck analyze CLIP --out DIR`` on each in its own process, annotated
video on, and prints each process's peak resident memory (``ru_maxrss``) and
the ratio. Nothing may hold whole videos in memory: decoded frames, pose
frames and encoded frames stream through bounded queues; what grows with
length is the landmark track (a few kB per analysed frame).

Usage: python benchmarks/bench_memory.py [--source CLIP] [--minutes 1 10] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "clips" / "deadlift" / "bichraix_good008.mp4"


def looped_clip(source: Path, out: Path, seconds: float, size=(1920, 1080), fps: int = 30) -> Path:
    """``source`` resized to ``size`` and repeated until ``seconds`` long, as H.264."""
    frames = []
    with av.open(str(source)) as container:
        for frame in container.decode(video=0):
            frames.append(cv2.resize(frame.to_ndarray(format="bgr24"), size, interpolation=cv2.INTER_LINEAR))
    total = int(seconds * fps)
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        stream.time_base = Fraction(1, fps)
        for i in range(total):
            # Forward then backward, so the loop has no jump cut.
            cycle = i % (2 * len(frames) - 2)
            image = frames[cycle if cycle < len(frames) else 2 * len(frames) - 2 - cycle]
            video_frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            video_frame.pts = i
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out


def peak_rss_mb(command: list[str]) -> tuple[float, float]:
    """Run ``command`` in a fresh process; its peak resident memory (MB) and wall time."""
    script = (
        "import resource, subprocess, sys, json; "
        "r = subprocess.run(sys.argv[1:], capture_output=True); "
        "print(json.dumps([r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, check=True)
    code, kb = eval(done.stdout.strip().splitlines()[-1])
    if code != 0:
        raise SystemExit(f"{' '.join(command)} exited {code}")
    return kb / 1024.0, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--keep", type=Path, help="folder for the built clips (default: a temporary one)")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"no source clip at {args.source}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as name:
        folder = args.keep or Path(name)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for minutes in args.minutes:
            clip = folder / f"loop_{minutes:g}min_1080p.mp4"
            if not clip.exists():
                looped_clip(args.source, clip, minutes * 60.0)
            peak, wall = peak_rss_mb([sys.executable, "-m", "formcheck", "analyze", str(clip), "--out",
                                      str(folder / f"out_{minutes:g}"), "--quiet"])
            rows.append((minutes, peak, wall))
            print(f"{minutes:5.1f} min of 1080p: peak RSS {peak:7.1f} MB, {wall:6.1f} s", flush=True)
        if len(rows) > 1:
            print(f"peak RSS ratio, longest vs shortest: {rows[-1][1] / rows[0][1]:.3f} (goal ≤ 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
