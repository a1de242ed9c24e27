"""Throughput of ``formcheck batch`` with 1 and 2 worker processes, and the speed-up of
re-analysing from cached landmarks.

Prints ratios measured in one run, the load average, and for each run the
average number of cores busy (CPU time of this process and its workers / wall
time): a 2-worker ratio means nothing if other programs hold the cores, and a
run that already keeps 1.5 cores busy with one worker cannot double on two.
Goals (issue 6): 2 workers ≥ 1.7× the throughput of 1 worker; re-analysis from
the landmark cache ≥ 100× faster than the first analysis.

Runs, on the same clips (three "clients" of two real side-view clips each):

1. ``--no-video`` with 1 and 2 workers: pose-bound, one thread per process.
2. ``--no-video --force`` (as after a profile change): landmarks come from
   the cache, timed in this process (imports warm; 2 workers, which fork
   from this process, and 1 worker, which runs here) and as a fresh command;
   the time spent on each video's ``report.html`` (with its key frames from
   the still cache, as the batch writes it) is re-timed separately.
3. With annotated videos, 1 and 2 workers: one process already uses a second
   core for drawing and H.264 encoding.
4. ``--force`` with annotated videos: re-drawn and re-encoded from the cache.

Usage: python benchmarks/bench_batch.py [VIDEO ...]
(default: six side-view clips from ../shared/clips, else rendered lifters)
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import formcheck.apps.analyze  # noqa: F401  (imported up front: the in-process timings exclude import time)
from formcheck.apps.coach.batch import CACHE_DIR, run_batch
from formcheck.apps.coach.video import STILLS_DIR
from formcheck.render.html import write_html_report

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "clips"
DEFAULT_CLIPS = (
    "deadlift/studio_deadlift_female.mp4",
    "deadlift/studio_deadlift_reps.mp4",
    "deadlift/bichraix_good008.mp4",
    "squat/studio_back_squat_side.mp4",
    "squat/coach_goblet_squat.mp4",
    "deadlift/bichraix_bad_form_several_reps.mp4",
)


def client_tree(videos: list[Path], root: Path) -> Path:
    """clients/client<k>/<clip> as symlinks, two clips per client."""
    for i, video in enumerate(videos):
        link = root / "clients" / f"client{i // 2 + 1}" / video.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(video.resolve())
    return root / "clients"


def rendered_clips(folder: Path) -> list[Path]:
    from formcheck.synth import SynthSpec, write_clip

    paths = []
    for i, exercise in enumerate(("squat", "deadlift") * 3):
        path = folder / f"synthetic_{exercise}_{i}.mp4"
        write_clip(path, SynthSpec(exercise, reps=3, seed=i))
        paths.append(path)
    return paths


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def machine_busy_seconds() -> float:
    """CPU time all programs on this machine have used since boot (``/proc/stat``; 0 where unavailable)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def timed(label: str, **kwargs):
    """Wall time of one batch run, and the summed per-video work (``seconds`` in each record).

    Also prints the cores this run kept busy and those other programs took
    meanwhile: on a shared machine, a ratio of two runs is only meaningful
    when the others stayed near zero.
    """
    cpu, machine, start = cpu_seconds(), machine_busy_seconds(), time.perf_counter()
    summary = run_batch(**kwargs, quiet=True)
    seconds = time.perf_counter() - start
    busy = (cpu_seconds() - cpu) / seconds
    others = max(0.0, (machine_busy_seconds() - machine) / seconds - busy)
    frames = sum((r.get("summary") or {}).get("frames", 0) for r in summary.records)
    work = sum(r.get("seconds", 0.0) for r in summary.records)
    print(f"{label:42s} {seconds:7.2f} s wall, {busy:4.2f} cores busy (others {others:4.2f}), {work:7.2f} s per-video "
          f"work summed; {len(summary.records)} videos, {frames} frames, {summary.analysed} analysed "
          f"({summary.from_cache} cached), {len(summary.errors)} errors", flush=True)
    return seconds, work, summary


def main() -> int:
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if len(sys.argv) > 1:
            videos = [Path(v) for v in sys.argv[1:]]
        elif all((CLIPS / c).is_file() for c in DEFAULT_CLIPS):
            videos = [CLIPS / c for c in DEFAULT_CLIPS]
        else:
            print("real clips not found; rendering synthetic lifters")
            videos = rendered_clips(tmp / "rendered")
        clients = str(client_tree(videos, tmp))

        one_nv, _, _ = timed("--no-video, 1 worker", inputs=[clients], out=tmp / "nv1", workers=1, video=False)
        first, first_work, _ = timed("--no-video, 2 workers", inputs=[clients], out=tmp / "nv", workers=2, video=False)
        cached, cached_work, summary = timed("--no-video --force, cached (in process)", inputs=[clients],
                                             out=tmp / "nv", workers=2, video=False, force=True)
        serial, _, _ = timed("  the same with 1 worker (no fork)", inputs=[clients], out=tmp / "nv", workers=1,
                             video=False, force=True)
        start = time.perf_counter()
        for record in summary.records:  # the share of re-analysis spent on each video's report.html, as batch writes it
            write_html_report(tmp / "nv" / record["set_id"], still_cache=tmp / "nv" / CACHE_DIR / STILLS_DIR)
        html = time.perf_counter() - start
        print(f"{'  of which report.html pages (re-timed)':42s} {html:7.2f} s")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "formcheck.apps.coach.batch", clients, "--out", str(tmp / "nv"), "--no-video",
                        "--force", "--quiet"], check=False, stdout=subprocess.DEVNULL)
        command = time.perf_counter() - start
        print(f"{'--no-video --force, cached (fresh command)':42s} {command:7.2f} s wall")
        one, _, _ = timed("annotated videos, 1 worker", inputs=[clients], out=tmp / "w1", workers=1)
        two, _, _ = timed("annotated videos, 2 workers", inputs=[clients], out=tmp / "w2", workers=2)
        redraw, _, _ = timed("annotated videos --force, cached", inputs=[clients], out=tmp / "w2", workers=2,
                             force=True)

    print()
    print(f"throughput 2 / 1 workers, --no-video:           {one_nv / first:6.2f}x  (goal >= 1.7x)")
    print(f"throughput 2 / 1 workers, annotated videos:     {one / two:6.2f}x")
    print(f"re-analysis from cache, whole batch:            {first / cached:6.1f}x  (goal >= 100x)")
    print(f"  ... with 1 worker, in this process:           {first / serial:6.1f}x")
    print(f"re-analysis from cache, per-video work:         {first_work / cached_work:6.1f}x")
    print(f"  ... the same without the report.html pages:   {first_work / max(cached_work - html, 1e-6):6.1f}x")
    print(f"re-analysis from cache, as a fresh command:     {first / command:6.1f}x  (Python start + imports included)")
    print(f"re-analysis with annotated videos re-drawn:     {two / redraw:6.1f}x")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
