"""Benchmarks of ``formcheck serve`` (prints figures and ratios; no pass/fail).

1. **Upload + analysis vs ``formcheck analyze``** on the same clip: the wall time from the start of
   ``POST /api/analyses`` to ``status: done`` (server already running, its worker warm) against the
   wall time of the ``formcheck analyze CLIP --out DIR`` command. Goal: ≤ 1.1×.
2. **Live round trip**: Debian's chromium opens ``/live`` with its fake camera playing a real clip
   (YUV4MPEG2, 640×480) and sends frames at 15 fps; the page records, per answered frame, the time
   from capture to the overlay drawn. Prints p50/p95/max, frames answered/skipped/dropped, and the
   latency drift (median of the last third minus the first third: a growing backlog would show as
   a positive drift). Goal: p95 ≤ 100 ms with no growth.

    python benchmarks/bench_serve.py [--clip PATH] [--live-clip PATH] [--runs 2] [--seconds 30]

The machine is shared: the script prints the load average before each part.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the tests' server, browser and fake-camera helpers

from test_serve_helpers import LIVE_CLIP, SQUAT_CLIP, Server, chromium_driver, wait_for, write_y4m  # noqa: E402


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def upload_vs_analyze(clip: Path, runs: int, work: Path) -> None:
    import httpx

    print(f"\n== upload + analysis vs formcheck analyze: {clip.name} (load {load()})")
    import shutil

    cli, served = [], []
    with Server(work / "data") as server, httpx.Client(base_url=server.base, timeout=120) as http:
        time.sleep(3.0)  # the worker process imports once, at server start
        for i in range(runs):  # interleaved, so that other load on the machine hits both alike
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(clip), "--out", str(work / f"cli{i}"),
                            "--quiet"], check=True, stdout=subprocess.DEVNULL)
            cli.append(time.perf_counter() - started)
            # The data folder caches landmarks by content (a re-upload skips the pose model): not measured here.
            shutil.rmtree(work / "data" / ".cache", ignore_errors=True)
            started = time.perf_counter()
            with open(clip, "rb") as fh:
                analysis = http.post("/api/analyses", files={"video": (clip.name, fh, "video/mp4")}, data={"client": "bench"}).json()
            state = wait_for(http, analysis["id"], timeout=600)
            served.append(time.perf_counter() - started)
            assert state["status"] == "done" and not state.get("error"), state
    print(f"formcheck analyze: {', '.join(f'{t:.2f}' for t in cli)} s (median {statistics.median(cli):.2f})")
    print(f"serve upload+analysis: {', '.join(f'{t:.2f}' for t in served)} s (median {statistics.median(served):.2f})")
    print(f"ratio serve / analyze: {statistics.median(served) / statistics.median(cli):.3f} (goal <= 1.1)")


def live_round_trip(clip: Path, seconds: float, work: Path) -> None:
    print(f"\n== live round trip: {clip.name} at 640x480, 15 fps, {seconds:.0f} s (load {load()})")
    camera = work / "camera.y4m"
    frames, fps = write_y4m(clip, camera, (640, 480))
    with Server(work / "live-data") as server:
        driver = chromium_driver(work / "profile", (1280, 800), fake_camera=camera)
        try:
            driver.get(server.base + "/live")
            driver.find_element("id", "start").click()
            deadline = time.monotonic() + 60
            while not driver.execute_script("return window.formcheckLive.answered > 0"):
                assert time.monotonic() < deadline, "the live page never got an answer"
                time.sleep(0.1)
            time.sleep(seconds)
            stats = driver.execute_script("return window.formcheckLive")
        finally:
            driver.quit()
    rtts = stats["rtts"]
    ordered = sorted(rtts)
    third = max(1, len(rtts) // 3)
    drift = statistics.median(rtts[-third:]) - statistics.median(rtts[:third])
    offered = stats["answered"] + stats["skipped"] + stats["dropped"]
    print(f"frames: {stats['answered']} answered, {stats['skipped']} skipped at capture (one in flight), "
          f"{stats['dropped']} dropped by the server, of {offered} ticks ({stats['answered'] / seconds:.1f} fps answered)")
    print(f"round trip capture -> overlay drawn: p50 {ordered[len(ordered) // 2]:.0f} ms, "
          f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.0f} ms, max {ordered[-1]:.0f} ms (goal p95 <= 100)")
    print(f"  of which server (pose + analysis) median {statistics.median(stats['serverMs']):.0f} ms, "
          f"JPEG encode median {statistics.median(stats['encodeMs']):.0f} ms")
    print(f"latency drift (last third - first third, medians): {drift:+.0f} ms (0 = no growing backlog)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=SQUAT_CLIP)
    parser.add_argument("--live-clip", type=Path, default=LIVE_CLIP)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--only", choices=("upload", "live"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        if args.only in (None, "upload"):
            upload_vs_analyze(args.clip, args.runs, Path(tmp))
        if args.only in (None, "live"):
            live_round_trip(args.live_clip, args.seconds, Path(tmp))


if __name__ == "__main__":
    main()
