"""Sweep of bad and unusual input: every kind, each in a ``formcheck`` process of its own.

Runs every kind of ``tests/badinput.py`` (the bad-input suite's, plus those that need the pose
model) as a user would, then the kinds that need signals, timing or a real full disk:
Ctrl-C, SIGTERM and SIGKILL during ``analyze``, Ctrl-C during ``batch``, two runs into one folder
at once, a disk that fills up. Prints one line per kind and the number of defects; exits 1 if
there is any.

    python benchmarks/bad_input_sweep.py                 # every kind (about 10 minutes on 2 cores)
    python benchmarks/bad_input_sweep.py --only camera   # kinds whose name contains "camera"
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import badinput as bad  # noqa: E402  (tests/badinput.py: the kinds, the inputs, the checks)


# ----------------------------------------------------------------------------- kinds needing the pose model
def _rendered(inputs: bad.Inputs) -> Path:
    from formcheck.synth import SynthSpec, write_clip

    def make(path: Path) -> None:
        # H.264 with the index at the front (faststart), as phones write: a cut copy still plays
        write_clip(path, SynthSpec("squat", reps=1, setup_s=0.5, image_size=(320, 240), focal_px=400.0, supersample=1),
                   codec="h264")
        for truth in path.parent.glob(f"{path.stem}.truth.*"):
            truth.unlink()
    return inputs._once("rendered.mp4", make)


def _blank(inputs: bad.Inputs) -> Path:
    return inputs._once("blank.mp4", lambda p: bad.write_video(p, 30, (320, 240)))


def _cut(inputs: bad.Inputs, work: Path) -> str:
    """The rendered set with its index moved to the front (as phones write), cut at two thirds:
    a download that stopped."""
    import av

    whole = work / "whole.mp4"
    with av.open(str(_rendered(inputs))) as source, av.open(str(whole), "w", options={"movflags": "+faststart"}) as copy:
        stream = copy.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                copy.mux(packet)
    data = whole.read_bytes()
    whole.unlink()
    path = work / "cut.mp4"
    path.write_bytes(data[: len(data) * 2 // 3])
    return str(path)


def _scrambled(inputs: bad.Inputs, work: Path) -> str:
    data = bytearray(_rendered(inputs).read_bytes())
    for offset in range(len(data) // 3, len(data) // 3 + 4000, 97):
        data[offset] ^= 0x5A
    path = work / "scrambled.mp4"
    path.write_bytes(bytes(data))
    return str(path)


POSE = [
    bad.Case("video-without-a-person", bad.VIDEO, lambda i, w: ["analyze", str(_blank(i)), "--out", str(w / "prev")],
             bad.NO_PERSON, "no person", check=lambda w, o, e: bad._replaced_whole(w, "angles.csv"), where="pose"),
    bad.Case("rendered-set-into-used-out", bad.SET, lambda i, w: ["analyze", str(_rendered(i)), "--out", str(w / "prev")],
             bad.OK, "1 rep", where="pose"),
    bad.Case("video-truncated", bad.VIDEO, lambda i, w: ["analyze", _cut(i, w), "--out", str(w / "cut.out")], bad.OK,
             "truncated", where="pose"),
    bad.Case("video-damaged-in-the-middle", bad.VIDEO,
             lambda i, w: ["analyze", _scrambled(i, w), "--out", str(w / "damaged.out"), "--no-video"], bad.OK,
             "Results in", where="pose"),
    bad.Case("live-record-into-used-out", bad.SET,
             lambda i, w: ["live", "--source", str(_rendered(i)), "--headless", "--no-pace", "--record", str(w / "prev")],
             bad.OK, "Recorded session", where="pose"),
    bad.Case("live-record-no-person", bad.SET,
             lambda i, w: ["live", "--source", str(_blank(i)), "--headless", "--no-pace", "--record", str(w / "prev")],
             bad.NO_PERSON, "no person", where="pose"),
    bad.Case("demo-into-used-out", bad.SET, lambda i, w: ["demo", "--out", str(w / "prev"), "--quiet"], bad.OK,
             "Rendered: 3 reps", where="pose", progress_on_stderr=True),
]


# ----------------------------------------------------------------------------- kinds needing signals or a real disk
def _popen(argv: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "formcheck", *argv], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _interrupted_analyze(how: signal.Signals, code: int, words: str):
    def run(inputs: bad.Inputs, work: Path) -> tuple[list[str], bad.Case]:
        case = bad.Case(f"analyze-{how.name}", bad.SET, None, code, words)
        snapshot = bad.snapshot_of(work / "prev")
        process = _popen(["analyze", str(_rendered(inputs)), "--out", str(work / "prev")], work)
        _wait_for_staging(work, process)
        process.send_signal(how)
        out, err = process.communicate(timeout=300)
        return bad.defects(case, work, snapshot, process.returncode, out.decode(), err.decode()), case
    return run


def _wait_for_staging(work: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until the run has made its staging folder (so the signal lands mid-analysis)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(".formcheck-new-" in p.name for p in work.iterdir()):
            time.sleep(1.0)
            return
        time.sleep(0.02)


def _killed_then_rerun(inputs: bad.Inputs, work: Path):
    case = bad.Case("analyze-SIGKILL-then-rerun", bad.SET, None, bad.OK, "Results in")
    snapshot = bad.snapshot_of(work / "prev")
    process = _popen(["analyze", str(_rendered(inputs)), "--out", str(work / "prev")], work)
    _wait_for_staging(work, process)
    process.kill()
    process.wait()
    found = [] if bad.snapshot_of(work / "prev") == snapshot else ["SIGKILL changed the previous set"]
    code, out, err = bad.run_in_subprocess(bad.analyze_prev(inputs, work, "--no-video"), work)
    return found + bad.defects(case, work, snapshot, code, out, err), case


def _concurrent_runs(inputs: bad.Inputs, work: Path):
    case = bad.Case("two-runs-into-one-folder-at-once", bad.SET, None, bad.OK, "Results in")
    snapshot = bad.snapshot_of(work / "prev")
    runs = [_popen(bad.analyze_prev(inputs, work, *extra), work) for extra in ((), ("--no-video",))]
    results = [(p.wait(timeout=300), *[s.decode() for s in p.communicate()]) for p in runs]
    found = []
    for code, out, err in results:
        found += bad.defects(case, work, snapshot, code, out, err)
    return found, case


def _batch_interrupted(inputs: bad.Inputs, work: Path):
    case = bad.Case("batch-ctrl-c", bad.BATCH, None, bad.INTERRUPTED, "finished videos are kept")
    for n in range(3):
        client = work / "clients" / "anna" / f"set{n}.mp4"
        client.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(_rendered(inputs), client)
    process = subprocess.Popen(
        [sys.executable, "-m", "formcheck", "batch", str(work / "clients"), "--out", str(work / "coach"),
         "--workers", "2", "--quiet"], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (work / "coach" / ".work").is_dir():
        time.sleep(0.05)
    time.sleep(4.0)  # workers importing and analysing
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole terminal's group
    out, err = process.communicate(timeout=300)
    found = bad.defects(case, work, {}, process.returncode, out.decode(), err.decode())
    found = [f for f in found if "left behind: coach/.work" not in f]  # the next run's to clean
    for record in (work / "coach").rglob("batch.json"):
        data = json.loads(record.read_text())
        if data["status"] == "error":
            found.append(f"{case.kind}: an interrupt saved an error record: {data['error']}")
    code, _, err = bad.run_in_subprocess(["batch", str(work / "clients"), "--out", str(work / "coach"),
                                          "--workers", "2", "--quiet"], work)
    if code != 0:
        found.append(f"{case.kind}: the run after the interrupt ended {code}: {err.strip()[-200:]}")
    found += [f"{case.kind}: left behind {name}" for name in bad.leftovers(work)]
    return found, case


def _real_full_disk(inputs: bad.Inputs, work: Path):
    """A 600 kB tmpfs: the new set does not fit beside the previous one (needs root; skipped otherwise)."""
    case = bad.Case("disk-really-full", bad.SET, None, bad.INPUT, "disk is full")
    disk = work / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(disk)], capture_output=True).returncode:
        return None, case
    try:
        target = ["analyze", str(inputs.video()), "--landmarks", str(inputs.track()), "--out", str(disk / "prev")]
        code, _, err = bad.run_in_subprocess([*target, "--no-video"], work)
        assert code == 0, err  # the previous set fits
        snapshot = bad.snapshot_of(disk / "prev")
        (disk / "filler").write_bytes(b"\0" * (disk_free(disk) - 30_000))  # the new set will not fit
        code, out, err = bad.run_in_subprocess(target, work)
        (disk / "filler").unlink()
        found = bad.defects(case, work, {}, code, out, err)
        if bad.snapshot_of(disk / "prev") != snapshot:
            found.append(f"{case.kind}: the previous set was changed")
        found += [f"{case.kind}: left behind {name}" for name in bad.leftovers(disk)]
        return found, case
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def disk_free(folder: Path) -> int:
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


SPECIAL = {
    "analyze-SIGINT": _interrupted_analyze(signal.SIGINT, bad.INTERRUPTED, "interrupted"),
    "analyze-SIGTERM": _interrupted_analyze(signal.SIGTERM, bad.TERMINATED, "terminated"),
    "analyze-SIGKILL-then-rerun": _killed_then_rerun,
    "two-runs-into-one-folder-at-once": _concurrent_runs,
    "batch-ctrl-c": _batch_interrupted,
    "disk-really-full": _real_full_disk,
}


# ----------------------------------------------------------------------------- the sweep
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="only kinds whose name contains this")
    parser.add_argument("--keep", action="store_true", help="keep the work folders (printed at the end)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="formcheck-sweep-"))
    inputs = bad.Inputs(root / "inputs")
    previous = bad.prepare_previous_set(inputs, root / "previous")
    rows, defects = [], []
    started = time.perf_counter()
    for case in [*bad.CASES, *POSE]:
        if args.only not in case.kind:
            continue
        t0 = time.perf_counter()
        found = bad.run_case(case, inputs, previous, root / "work" / case.kind, subprocess_mode=True)
        rows.append((case, found, time.perf_counter() - t0))
        _print(*rows[-1])
        defects += found
    for kind, special in SPECIAL.items():
        if args.only not in kind:
            continue
        work = bad.new_work(previous, root / "work" / kind)
        t0 = time.perf_counter()
        found, case = special(inputs, work)
        if found is None:
            print(f"  skip   {case.kind} (needs root to mount a small disk)")
            continue
        rows.append((case, found, time.perf_counter() - t0))
        _print(*rows[-1])
        defects += found
    categories = sorted({case.category for case, _, _ in rows})
    print(f"\n{len(rows)} kinds in {len(categories)} categories, {len(defects)} defects "
          f"({time.perf_counter() - started:.0f} s)")
    if args.keep:
        print(f"work folders: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if defects else 0


def _print(case: bad.Case, found: list[str], seconds: float) -> None:
    status = "DEFECT" if found else "ok"
    print(f"  {status:6s} {case.kind:42s} {case.category:38s} exit {case.code}  {seconds:5.1f} s", flush=True)
    for problem in found:
        print(f"         {problem}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
