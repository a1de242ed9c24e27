"""SIGTERM and SIGKILL at random points of ``formcheck analyze``: the output folder always holds one
whole set (the previous one, or the new one if the kill came after the swap), and nothing else is left
beside it. After SIGTERM nothing at all is left; SIGKILL cannot be caught, so it may leave the run's
staging folder, which the next run removes."""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from formcheck.apps.outputs import MARKER, set_files
from formcheck.synth import SynthSpec, write_clip

pytestmark = pytest.mark.pose_model

KILLS = 20
STAGING = re.compile(r"\.out\.formcheck-new-\d+-[0-9a-f]{8}")  # a killed run's staging folder


def analyze(clip: Path, out: Path, *extra: str) -> subprocess.Popen:
    # Outside the checkout, so the installed package (with its bundled model) runs.
    return subprocess.Popen(
        [sys.executable, "-m", "formcheck", "analyze", str(clip), "--out", str(out), "--quiet", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=Path.home(),
    )


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_sigterm_and_sigkill_at_random_points_leave_one_whole_set(tmp_path):
    clip = tmp_path / "squat.mp4"
    write_clip(clip, SynthSpec("squat", reps=2, setup_s=0.5, image_size=(320, 240), focal_px=400.0, supersample=1))
    for truth in tmp_path.glob("*.truth.*"):
        truth.unlink()
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    # The previous set: made without the annotated video, so a folder holding one can only be the new set.
    first = analyze(clip, out, "--no-video")
    assert first.wait(timeout=600) == 0, first.stderr.read().decode()
    previous = files(out)
    started = time.monotonic()
    full = analyze(clip, work / "full")
    assert full.wait(timeout=600) == 0, full.stderr.read().decode()
    whole_run_s = time.monotonic() - started
    new = files(work / "full")
    shutil.rmtree(work / "full")
    assert "annotated.mp4" in new and "annotated.mp4" not in previous

    rng = random.Random(19)
    outcomes = []
    for i in range(KILLS):
        how = signal.SIGTERM if i % 2 == 0 else signal.SIGKILL
        delay = rng.uniform(0.05, whole_run_s * 1.15)  # some after the run ends: the new set, whole
        run = analyze(clip, out)
        time.sleep(delay)
        run.send_signal(how)
        code = run.wait(timeout=600)
        stderr = run.stderr.read().decode()
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        now = files(out)
        if "annotated.mp4" in now:  # the kill came after the swap: the new set, whole
            assert set_files(out) == set(now) - {MARKER}
            for name in ("report.json", "angles.csv"):  # the analysis is the same; the encoded video may differ
                assert now[name] == new[name], name
            shutil.rmtree(out)  # the next kill starts from the previous set again
            out.mkdir()
            for name, data in previous.items():
                (out / name).write_bytes(data)
            outcome = "new set"
        else:
            assert now == previous, f"kill {i} ({how.name} after {delay:.2f} s) changed the previous set"
            outcome = "previous set"
        extra = sorted(p.name for p in work.iterdir() if p.name != "out")
        assert all(STAGING.fullmatch(name) for name in extra), extra  # staging folders, nothing else
        own = [name for name in extra if f"-new-{run.pid}-" in name]
        if how == signal.SIGTERM:  # cleans up after itself (a run stopped before it got to the folder
            # leaves the staging folder of an earlier SIGKILL to the next run)
            assert own == [], f"SIGTERM after {delay:.2f} s left {own}"
            assert code in (143, -signal.SIGTERM, 0), (code, stderr)
        outcomes.append((how.name, round(delay, 2), code, outcome, len(extra)))
    # The next run removes what the killed ones left, and writes its set.
    last = analyze(clip, out)
    assert last.wait(timeout=600) == 0, last.stderr.read().decode()
    assert sorted(p.name for p in work.iterdir()) == ["out"], outcomes
    assert set_files(out) == set(files(out)) - {MARKER}
    report = json.loads((out / "report.json").read_text())
    assert report["rep_count"] == json.loads(new["report.json"])["rep_count"]
    print("\n".join(map(str, outcomes)))
