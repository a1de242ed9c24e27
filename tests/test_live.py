"""``formcheck live``: the causal live path against offline analysis, the real window
under Xvfb (keys included), the refusals (no display, no camera), voice and framing.

The live runs use a rendered squat set played at its own frame rate, like a
camera. Its good reps go clearly below parallel (``depth=1.2``): the demo
clip's reps sit exactly at parallel, where a degree of landmark noise decides
the depth caution either way.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from formcheck.analysis.streaming import StreamingAnalyzer
from formcheck.apps.live import command as live
from formcheck.apps.live import display
from formcheck.apps.live import framing
from formcheck.apps.live.framing import FramingCheck, framing_problem
from formcheck.apps.live.voice import Voice
from formcheck.apps.analyze import analyze_video
from formcheck.render.annotators import hip_above_knee_deg
from formcheck.io.video import probe
from formcheck.synth import SynthSpec, SynthTruth, write_clip
from formcheck.pose.track import PoseFrame, PoseTrack

from conftest import cycle, stick_track

SPEC = SynthSpec("squat", reps=3, depth=1.2, faults={"shallow_depth": 1.0}, fault_reps=(2,))


@pytest.fixture(scope="module")
def squat_clip(tmp_path_factory) -> Path:
    clip = tmp_path_factory.mktemp("live") / "squat.mp4"
    write_clip(clip, SPEC)
    return clip


@pytest.fixture(scope="module")
def offline(squat_clip) -> dict:
    """``analyze`` of the same clip (zero-lag smoothing, whole clip at once)."""
    return analyze_video(squat_clip, None, video=False).to_dict()


def run_live(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "formcheck.apps.live", *args],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=Path.home(),
    )


def faults_by_rep(reps: list[dict]) -> list[tuple[int, list[tuple[str, str]]]]:
    return [(rep["index"], sorted((f["code"], f["severity"]) for f in rep["faults"])) for rep in reps]


def env_without_display(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(extra)
    return env


# ---------------------------------------------------------------------------- live vs offline
def test_live_agrees_with_offline_and_records_the_session(squat_clip, offline, tmp_path):
    truth = SynthTruth.load(squat_clip)
    # A stand-in speech engine on PATH: records what it is asked to say.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    spoken_log = tmp_path / "spoken.txt"
    fake = bin_dir / "espeak-ng"
    fake.write_text(f'#!/bin/sh\nfor last; do :; done\nprintf "%s\\n" "$last" >> "{spoken_log}"\n')
    fake.chmod(0o755)
    out = tmp_path / "session"

    # Every frame handed over (--no-pace): what the live analysis makes of the frames it
    # gets does not depend on how loaded the machine is (pacing: the next test).
    result = run_live(
        "--source", str(squat_clip), "--no-pace", "--headless", "--voice", "--record", str(out),
        env=env_without_display(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}"),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr

    # The offline analysis sees what was rendered (the reference is right) ...
    assert offline["rep_count"] == truth.rep_count
    shallow_reps = [i + 1 for i, codes in enumerate(truth.rep_faults) if "shallow_depth" in codes]
    assert [index for index, faults in faults_by_rep(offline["reps"]) if ("shallow_depth", "fault") in faults] == shallow_reps
    # ... and the live (causal) analysis agrees with it: reps and every fault.
    told = json.loads((out / "live.json").read_text())
    assert told["rep_count"] == offline["rep_count"]
    assert faults_by_rep(told["reps"]) == faults_by_rep(offline["reps"])
    for live_rep, offline_rep in zip(told["reps"], offline["reps"]):
        # The same rep: the deepest moment differs only by the causal filter's
        # lag and where in the ~0.6 s pause at the bottom it falls.
        assert abs(live_rep["bottom_s"] - offline_rep["bottom_s"]) < 0.6

    assert told["frames"]["dropped"] == 0 and told["frames"]["processed"] == told["frames"]["captured"]
    assert told["latency_ms"]["p50"] > 0

    # One line and one spoken cue per rep, as it happened.
    rep_lines = [line for line in result.stdout.splitlines() if line.startswith("Rep ")]
    assert rep_lines == [f"Rep {rep['index']}: {rep['cue'] or 'good'}" for rep in told["reps"]]
    spoken = spoken_log.read_text().splitlines()
    spoken_reps = [line for line in spoken if line.startswith("Rep ")]
    assert [line.split()[1].rstrip(".,") for line in spoken_reps] == [str(i) for i in range(1, told["rep_count"] + 1)]
    for line, rep in zip(spoken_reps, told["reps"]):
        assert (rep["cue"] in line) if rep["cue"] else "good" in line

    # --record wrote what analyze writes, from the poses seen live.
    recorded = json.loads((out / "report.json").read_text())
    assert set(recorded) == set(offline)
    assert faults_by_rep(recorded["reps"]) == faults_by_rep(offline["reps"])
    assert PoseTrack.load(out / "landmarks.npz").detected.mean() > 0.9
    assert (out / "angles.csv").read_text().count("\n") > told["frames"]["processed"] // 2
    video = probe(out / "annotated.mp4")
    assert abs(video.frame_count - told["frames"]["processed"]) <= 2


def test_a_video_source_is_played_like_a_camera(squat_clip, offline, tmp_path):
    """Without --no-pace the clip plays at its own rate, like a camera: frames the analyser
    cannot keep up with are dropped (never queued), and the reps are still counted from the
    frames it did analyse (on a loaded machine a dropped stretch may cost a rep)."""
    started = time.monotonic()
    result = run_live("--source", str(squat_clip), "--headless", "--record", str(tmp_path / "session"),
                      env=env_without_display())
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    told = json.loads((tmp_path / "session" / "live.json").read_text())
    assert elapsed >= 0.95 * probe(squat_clip).duration_s
    assert told["frames"]["max_waiting"] <= 1
    assert told["frames"]["processed"] + told["frames"]["dropped"] == told["frames"]["captured"]
    assert told["latency_ms"]["p50"] > 0
    assert 1 <= told["rep_count"] <= offline["rep_count"]


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_a_session_stopped_midway_keeps_its_recording(squat_clip, tmp_path, monkeypatch, stop):
    """Ctrl-C ends a session normally; an unexpected error still leaves the recording."""
    original = StreamingAnalyzer.update
    calls = {"n": 0}

    def update_then_stop(self, pose, frame_size=(0, 0)):
        calls["n"] += 1
        if calls["n"] == 40:
            raise stop("stopped by the test")
        return original(self, pose, frame_size)

    monkeypatch.setattr(StreamingAnalyzer, "update", update_then_stop)
    out = tmp_path / "session"
    parser = argparse.ArgumentParser()
    live.add_arguments(parser)
    args = parser.parse_args(["--source", str(squat_clip), "--no-pace", "--headless", "--record", str(out)])
    if stop is KeyboardInterrupt:
        assert live.run(args) == 0
    else:
        with pytest.raises(RuntimeError):
            live.run(args)
    report = json.loads((out / "report.json").read_text())
    told = json.loads((out / "live.json").read_text())
    assert told["frames"]["processed"] == 39 and report["video"]["frames"] == 39
    assert told["latency_ms"]["p50"] > 0
    assert probe(out / "annotated.mp4").frame_count == 39
    assert any("stopped on an error" in note for note in report["notes"]) == (stop is RuntimeError)


# ---------------------------------------------------------------------------- the window
class _Lines:
    """Reads a process's stdout on a thread so the test can wait for a line."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r} within {timeout} s; got {self.lines}")

    def rest(self, timeout: float = 5.0) -> list[str]:
        try:
            while (line := self._queue.get(timeout=timeout)) is not None:
                self.lines.append(line)
        except queue.Empty:
            pass
        return self.lines


@pytest.fixture
def xvfb_display():
    """A private X server (``Xvfb``) for the window; yields its DISPLAY value."""
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        pytest.skip("Xvfb and xdotool are not installed (apt-get install xvfb xauth xdotool) to test the window")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as announced:
            number = announced.readline().strip()  # Xvfb writes its display number once ready
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def xdotool(display: str, *args: str) -> str:
    return subprocess.run(
        ["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()


def test_window_shows_the_overlay_and_obeys_keys(squat_clip, xvfb_display, tmp_path):
    out = tmp_path / "session"
    env = {**os.environ, "DISPLAY": xvfb_display}
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "formcheck.apps.live", "--source", str(squat_clip), "--record", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=Path.home(),
    )
    try:
        stdout = _Lines(proc.stdout)
        window = xdotool(xvfb_display, "search", "--sync", "--name", display.WINDOW_TITLE).splitlines()[0]
        xdotool(xvfb_display, "windowfocus", "--sync", window)
        # The window exists before its first frame is shown (and sized): wait for that.
        deadline = time.monotonic() + 20
        while True:
            geometry = xdotool(xvfb_display, "getwindowgeometry", window)
            width, height = (int(v) for v in geometry.split("Geometry:")[1].split()[0].split("x"))
            if (width >= 640 and height >= 480) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert width >= 640 and height >= 480  # the frames are shown at full size

        # space pauses during the set-up and again goes on
        xdotool(xvfb_display, "key", "space")
        stdout.wait_for("Paused", timeout=10)
        time.sleep(1.0)
        xdotool(xvfb_display, "key", "space")
        stdout.wait_for("Going on", timeout=10)
        # r resets the count: the rep after it is rep 1 again
        stdout.wait_for("Rep 1:", timeout=20)
        xdotool(xvfb_display, "key", "r")
        stdout.wait_for("Reset", timeout=10)
        assert stdout.wait_for("Rep ", timeout=20).startswith("Rep 1:")
        # q quits before the clip ends, keeping the recording
        xdotool(xvfb_display, "key", "q")
        proc.wait(timeout=30)
        lines = stdout.rest()
        stderr = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert any(line.startswith("Live session:") for line in lines)
    told = json.loads((out / "live.json").read_text())
    assert told["quit_by_user"] is True
    assert told["paused_s"] >= 0.9 and told["frames"]["skipped_paused"] > 0
    assert told["rep_count"] == 1  # counted again from zero after the reset
    assert told["frames"]["captured"] < probe(squat_clip).frame_count  # quit before the end
    assert (out / "report.json").is_file() and probe(out / "annotated.mp4").frame_count > 0


# ---------------------------------------------------------------------------- refusals
def test_without_a_display_it_refuses_instead_of_aborting(squat_clip):
    result = run_live("--source", str(squat_clip), env=env_without_display(), timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "--headless" in result.stderr


def test_an_unreachable_display_is_refused_not_fatal(squat_clip):
    # DISPLAY set but no server: OpenCV's Qt would abort (SIGABRT) on imshow.
    result = run_live("--source", str(squat_clip), env=env_without_display(DISPLAY=":87"), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "cannot open a window" in result.stderr and result.stderr.count("\n") == 1


def test_no_camera_is_one_clear_line_and_a_nonzero_exit():
    result = run_live("--camera", "9", "--headless", env=env_without_display(), timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "no camera at index 9" in result.stderr and "--source" in result.stderr


# ---------------------------------------------------------------------------- voice
def test_missing_speech_engine_is_a_warning(monkeypatch):
    import importlib.util

    if importlib.util.find_spec("pyttsx3") is not None:
        pytest.skip("pyttsx3 is installed, so there is always an engine")
    warnings: list[str] = []
    assert Voice.open(warnings.append, path="") is None
    assert len(warnings) == 1 and "espeak-ng" in warnings[0]


def test_a_failing_speech_engine_warns_once_and_goes_quiet(tmp_path):
    failing = tmp_path / "espeak-ng"
    failing.write_text("#!/bin/sh\necho 'no audio device' >&2\nexit 1\n")
    failing.chmod(0o755)
    warnings: list[str] = []
    voice = Voice.open(warnings.append, path=str(tmp_path))
    assert voice is not None
    voice.say("Rep 1, good.")
    voice.say("Rep 2, good.")
    voice.close(finish=True, timeout=10)
    assert len(warnings) == 1 and "no audio device" in warnings[0]


def test_set_up_guidance_never_replaces_a_waiting_rep_cue(tmp_path):
    log = tmp_path / "said.txt"
    slow = tmp_path / "espeak-ng"
    slow.write_text(f'#!/bin/sh\nfor last; do :; done\nsleep 0.3\nprintf "%s\\n" "$last" >> "{log}"\n')
    slow.chmod(0o755)
    voice = Voice.open(lambda m: None, path=str(tmp_path))
    voice.say("turn side-on to the camera", urgent=False)
    time.sleep(0.1)  # being spoken now
    voice.say("Rep 1. Sit deeper: hips below the knees.")
    voice.say("step back, your feet are out of frame", urgent=False)  # must not push out the cue
    voice.close(finish=True, timeout=10)
    assert log.read_text().splitlines() == ["turn side-on to the camera", "Rep 1. Sit deeper: hips below the knees."]


# ---------------------------------------------------------------------------- framing check
def _standing(px_per_m: float = 200.0, view: str = "side", frames: int = 40) -> PoseTrack:
    return stick_track(np.full(frames, 5.0), np.full(frames, 5.0), px_per_m=px_per_m, view=view)


def _shifted(pose: PoseFrame, dx: float = 0.0, dy: float = 0.0) -> PoseFrame:
    from dataclasses import replace

    return replace(pose, xy=pose.xy + np.array([dx, dy], np.float32))


def test_framing_accepts_a_lifter_fully_in_frame_side_on_even_in_the_hole():
    squat = stick_track(cycle(60, 1, 5, 140), cycle(60, 1, 5, 110), px_per_m=200.0, arms_down=False)
    for i in range(len(squat)):
        assert framing_problem(squat[i], squat.frame_size, 85.0) is None


def test_framing_says_what_to_fix():
    track = _standing()
    pose, size = track[0], track.frame_size
    assert framing_problem(pose, size, 85.0) is None
    assert framing_problem(_shifted(pose, dy=120), size, 85.0) == framing.FEET_OUT
    assert framing_problem(_shifted(pose, dy=-160), size, 85.0) == framing.HEAD_OUT
    assert framing_problem(_shifted(pose, dx=300), size, 85.0) == framing.AT_EDGE
    assert framing_problem(_standing(px_per_m=60.0)[0], size, 85.0) == framing.TOO_FAR
    assert framing_problem(PoseFrame.empty(0.0), size) == framing.NOT_SEEN
    assert framing_problem(pose, size, 10.0) == framing.NOT_SIDE_ON
    assert framing_problem(pose, size, 45.0) is None  # oblique is still assessable


def test_framing_check_tells_a_front_view_to_turn_and_ignores_a_glitch():
    check = FramingCheck(hold_s=0.5)
    front = _standing(view="front", frames=30)
    messages = [check.update(front[i], front.frame_size) for i in range(len(front))]
    assert messages[0] is None and messages[-1] == framing.NOT_SIDE_ON  # after 0.5 s, not at once

    check = FramingCheck(hold_s=0.5)
    side = _standing(frames=60)
    messages = []
    for i in range(len(side)):
        pose = side[i]
        if i == 30:  # one frame with the feet cut off
            pose = _shifted(pose, dy=120)
        messages.append(check.update(pose, side.frame_size))
    assert all(m is None for m in messages) and check.ready


def test_hip_above_knee_is_positive_standing_and_negative_below_parallel():
    standing = stick_track([5.0], [5.0], px_per_m=200.0)
    deep = stick_track([140.0], [110.0], px_per_m=200.0, arms_down=False)
    assert hip_above_knee_deg(standing.xy[0]) > 60
    assert hip_above_knee_deg(deep.xy[0]) < 0
