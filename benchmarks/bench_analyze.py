"""Throughput of ``formcheck analyze`` against the pose model's own speed (issue 18).

Times whole processes, back to back, and prints ratios measured in one run
(absolute times drift on a shared machine; ratios hold):

* **ceiling**: sequential decode (PyAV) plus MediaPipe's PoseLandmarker in VIDEO
  mode with its default options (one person, no segmentation mask), nothing
  else — the honest ceiling: what the pose model alone costs;
* **analyze**: ``formcheck analyze CLIP --out DIR`` with the annotated video on;
  goal ≥ 0.9 × the ceiling's speed at 30 fps, ≥ 1.6 × at 60 fps (it analyses
  about every second frame there);
* **re-analysis**: ``analyze_video`` on the saved ``landmarks.npz``, in process
  (whole processes would time Python's start-up): goal ≥ 100 × faster than
  the video analysis;
* **start-up**: ``formcheck --help`` vs ``python -c "import numpy"``: goal ≤ 2 ×.

Usage::

    python benchmarks/bench_analyze.py                       # a real 30 fps clip and a 60 fps one
    python benchmarks/bench_analyze.py --clip30 A.mp4 --clip60 B.mp4 --repeats 2

Without ``--clip60`` a 60 fps side-view deadlift is rendered (``formcheck synth``).
Batch throughput: ``benchmarks/bench_batch.py``; memory over video length:
``benchmarks/bench_memory.py``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "clips"
#: A vertical phone video (608×1080, 30 fps), the common case.
DEFAULT_30 = SHARED / "squat" / "gym_back_squat_side_reps.mp4"

CEILING = r"""
import sys, time
import numpy as np, cv2, mediapipe as mp
from mediapipe.tasks.python import BaseOptions
from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode
from formcheck.io.video import read_frames
from formcheck.pose.estimator import default_model_path
options = PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(default_model_path())),
                                running_mode=RunningMode.VIDEO)
last = -1
with PoseLandmarker.create_from_options(options) as landmarker:
    for time_s, frame in read_frames(sys.argv[1]):
        ms = max(int(round(time_s * 1000)), last + 1)
        last = ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
        landmarker.detect_for_video(image, ms)
"""


def timed(command: list[str], **kwargs) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def bench_clip(clip: Path, tmp: Path, repeats: int) -> dict[str, float]:
    ceiling, analyze = [], []
    for i in range(repeats):  # alternate, so drift on a shared machine hits both alike
        ceiling.append(timed([sys.executable, "-c", CEILING, str(clip)], cwd=tmp))
        out = tmp / f"{clip.stem}-{i}"
        analyze.append(timed([sys.executable, "-m", "formcheck", "analyze", str(clip), "--out", str(out), "--quiet"], cwd=tmp))
    from formcheck.apps.analyze import analyze_video

    start = time.perf_counter()
    for _ in range(3):
        analyze_video(out / "landmarks.npz", tmp / "again", html=False)
    reanalysis = (time.perf_counter() - start) / 3
    return {"ceiling": statistics.median(ceiling), "analyze": statistics.median(analyze), "reanalysis": reanalysis}


def startup(repeats: int = 7) -> tuple[float, float]:
    help_s = statistics.median(timed([sys.executable, "-m", "formcheck", "--help"]) for _ in range(repeats))
    numpy_s = statistics.median(timed([sys.executable, "-c", "import numpy"]) for _ in range(repeats))
    return help_s, numpy_s


def render_60fps(tmp: Path) -> Path:
    clip = tmp / "deadlift60.mp4"
    subprocess.run([sys.executable, "-m", "formcheck", "synth", "deadlift", "--implement", "barbell", "--reps", "3",
                    "--fps", "60", "--out", str(clip)], check=True, capture_output=True)
    return clip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip30", type=Path, default=DEFAULT_30 if DEFAULT_30.exists() else None)
    parser.add_argument("--clip60", type=Path)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    from formcheck.io.video import probe

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        clips = [c for c in (args.clip30, args.clip60 or render_60fps(tmp)) if c is not None]
        print(f"{'clip':34s} {'size':>10s} {'fps':>5s} {'frames':>6s} {'ceiling s':>9s} {'analyze s':>9s} "
              f"{'speed vs ceiling':>16s} {'re-analysis':>11s}")
        for clip in clips:
            info = probe(clip)
            r = bench_clip(clip, tmp, args.repeats)
            goal = 1.6 if info.fps > 45 else 0.9
            speed = r["ceiling"] / r["analyze"]
            print(f"{clip.name[:34]:34s} {info.width:>4d}×{info.height:<5d} {info.fps:5.1f} {info.frame_count:6d} "
                  f"{r['ceiling']:9.2f} {r['analyze']:9.2f} {speed:9.2f} (≥{goal}) {r['analyze'] / r['reanalysis']:8.0f}× (≥100)")
        help_s, numpy_s = startup()
        print(f"start-up: formcheck --help {help_s:.3f} s, import numpy {numpy_s:.3f} s: ratio {help_s / numpy_s:.2f} (≤ 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
