"""``formcheck live``: check a squat or deadlift set as it happens, from a camera.

One frame at a time, as fast as the machine allows::

    capture thread ─ newest frame ─▶ pose (VIDEO mode) ─▶ StreamingAnalyzer ─▶ overlay ─▶ window
      (source.py, drops,                                   (the causal analyser,     │      (+ voice,
       never queues)                                        same plug-ins as          │       + recording)
                                                            ``analyze``)              ▼
                                                                            annotated.mp4 / report.json

The capture thread of :mod:`formcheck.io.video` always hands over the newest
frame and drops the rest, so a slow frame never makes later ones late: the
backlog is one frame at most and the latency cannot grow. Reps, faults and
cues come from :class:`~formcheck.analysis.streaming.StreamingAnalyzer`, the causal
form of the offline analyser (One Euro filtering, the same hysteresis
:class:`~formcheck.reps.counter.RepCounter` with its minimum rep time, the same fault
checks), and the overlay from :func:`formcheck.apps.analyze.draw_state`, the one
that draws ``annotated.mp4`` in ``analyze``.

While the lifter sets up, a framing check says what to fix ("step back, your
feet are out of frame", "turn side-on to the camera"); it keeps watching
during the set. Keys in the window: ``q`` (or Esc) quits, ``r`` resets the
count, space pauses. ``--record DIR`` keeps the annotated session and writes
the same ``report.json``/``angles.csv``/``landmarks.npz`` as ``analyze``, from
the poses seen live, so a set can be reviewed later.

A window needs a display: the GUI build of OpenCV aborts the whole process
when ``cv2.imshow`` finds none (NOTES), so one is probed first, in a child
process, and without it the command refuses with a clear message (or runs
``--headless``). See ``docs/live.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from formcheck.pose import landmarks as lm
from formcheck.render import draw as overlay
from formcheck.analysis.offline import AnalysisOptions, analyze_track
from formcheck.apps.live.display import Display, Window, display_problem
from formcheck.apps.common import guarded
from formcheck.errors import InputError, NoPersonError
from formcheck.exercises import EXERCISES, exercise_choices
from formcheck.io.files import write_text_atomic
from formcheck.apps.live.framing import READY, READY_BANNER_S, SEEN_VISIBILITY, FramingCheck, frame_midpoint
from formcheck.apps.analyze import OutputPaths, draw_state
from formcheck.pose.estimator import MODEL_FILE, LifterSelector, PoseEstimator, PoseOptions, native_stderr_silenced
from formcheck.analysis.report import RepResult, Report
from formcheck.io.video import CameraSource, LatestFrameSource, PacedFileSource
from formcheck.analysis.streaming import LiveState, StreamingAnalyzer
from formcheck.pose.track import PoseFrame, PoseTrack
from formcheck.apps.live.voice import Voice
from formcheck.io.writer import VideoWriter

#: ``formcheck live``'s description.
DESCRIPTION = (
    "Check a squat or deadlift set live from a camera (or a video played like one): skeleton, depth and "
    "back gauges, rep counter and one cue per rep, spoken with --voice. Keys in the window: q quits, "
    "r resets the count, space pauses."
)
#: Frames larger than this (longest side) are shrunk for display and recording.
DISPLAY_MAX_SIDE = 960
#: Written beside report.json by ``--record``: the reps as counted and cued live.
LIVE_JSON = "live.json"
#: Seconds a rep's cue stays on screen (as in ``draw_state``).
BANNER_S = 3.0


@dataclass(frozen=True)
class LiveOptions:
    """Settings of a live session.

    Attributes
    ----------
    exercise : str
        ``"auto"``, ``"squat"`` or ``"deadlift"``.
    voice : bool
        Speak each rep's count and cue, and the set-up guidance.
    record_dir : Path or None
        Where to save ``annotated.mp4`` and the report files.
    pace : bool
        For a video file: play it at its own frame rate, like a camera (True),
        or hand over every frame as soon as the previous one is done (False;
        nothing is dropped and frame times come from the frame rate).
    pose : PoseOptions
        The pose stage: by default exactly ``analyze``'s, so that live cues
        and the report of the same set agree. ``num_poses=1`` (``--one-person``)
        saves the person detector on every frame (≈ 7 ms) but shifts the
        landmarks by a pixel or two (the model tracks its own region instead),
        enough to flip a borderline verdict.
    display_max_side : int
        Longest side of the window and of the recorded video.
    """

    exercise: str = "auto"
    voice: bool = False
    record_dir: Path | None = None
    pace: bool = True
    pose: PoseOptions = PoseOptions()
    display_max_side: int = DISPLAY_MAX_SIDE


# ---------------------------------------------------------------------------- display
# ---------------------------------------------------------------------------- overlay extras
def draw_live_extras(
    frame: np.ndarray,
    state: LiveState,
    scale: float,
    notice: tuple[str, str] | None,
    panel: list[str],
) -> np.ndarray:
    """What the live window adds to :func:`~formcheck.apps.analyze.draw_state`.

    The back angle (trunk from vertical) at the hip with the dorsal edge of
    the trunk (the spine-curve indicator), a hip-vs-knee depth gauge for
    squats (the thigh's angle below parallel as the offline ``shallow_depth``
    check measures it: 0 = parallel, + deeper), a ``(text, severity)`` notice such as the set-up guidance
    (drawn as the top banner: pass None while a rep's cue is showing there)
    and a small panel (fps, latency).
    """
    pose = state.pose
    if pose is not None and pose.detected:
        xy = pose.xy.astype(np.float64) * scale
        hip = frame_midpoint(xy, "hip")
        shoulder = frame_midpoint(xy, "shoulder")
        lean = state.angles.get("trunk_inclination")
        if lean is not None and np.isfinite(hip).all() and np.isfinite(shoulder).all():
            above = hip - np.array([0.0, np.hypot(*(shoulder - hip))])
            overlay.draw_angle(frame, hip, above, shoulder, abs(lean), "back", color=overlay.AMBER)
        dorsal = _dorsal_edge(pose, scale)
        if dorsal is not None:
            overlay.draw_back_curve(frame, dorsal)
        if state.exercise in ("squat", "auto"):
            # Filled upward as the hips drop: green once the hip crease is
            # below the knee, by the squat's own shallow_depth thresholds.
            # The offline check's measure when known (vertical drop over the thigh length), else the sagittal angle.
            below = -state.angles.get("thigh_drop", hip_above_knee_deg(xy))
            limit = EXERCISES["squat"].thresholds["shallow_depth"]
            overlay.draw_gauge(
                frame, below, -90.0, 30.0, "hip<knee", thresholds=(-limit.caution, -limit.fault), position="left"
            )
    if notice is not None:
        overlay.draw_banner(frame, notice[0][:1].upper() + notice[0][1:], notice[1])
    overlay.draw_text_panel(frame, panel, corner="bottom-left")
    return frame


def hip_above_knee_deg(xy: np.ndarray) -> float:
    """Angle of the knee→hip line above horizontal, degrees (image plane, side view).

    Positive while the hip crease is above the knee; 0 at parallel; negative
    below: the squat depth rule as a number.
    """
    hip, knee = frame_midpoint(xy, "hip"), frame_midpoint(xy, "knee")
    dx, dy = hip - knee
    if not (np.isfinite(dx) and np.isfinite(dy)) or (dx == 0 and dy == 0):
        return float("nan")
    return float(np.degrees(np.arctan2(-dy, abs(dx))))  # image y points down


def _facing(xy: np.ndarray, visibility: np.ndarray) -> int:
    """+1 if the lifter faces image right, -1 left, 0 unknown (toes ahead of heels)."""
    for toe, heel in ((lm.LEFT_FOOT_INDEX, lm.LEFT_HEEL), (lm.RIGHT_FOOT_INDEX, lm.RIGHT_HEEL)):
        if visibility[toe] >= SEEN_VISIBILITY and visibility[heel] >= SEEN_VISIBILITY:
            dx = xy[toe, 0] - xy[heel, 0]
            if np.isfinite(dx) and abs(dx) > 1.0:
                return 1 if dx > 0 else -1
    return 0


def _dorsal_edge(pose: PoseFrame, scale: float) -> np.ndarray | None:
    """The back's silhouette edge, hip to shoulder, in display pixels (None if unknown)."""
    facing = _facing(pose.xy, np.nan_to_num(pose.visibility, nan=0.0))
    edges = pose.trunk_edges
    if facing == 0 or edges is None or not np.isfinite(edges).any():
        return None
    # trunk_edges side 0 lies on the normal (-a_y, a_x) of the hip→shoulder
    # axis a: for an upright trunk that is image right, i.e. the front of a
    # lifter facing right. So the back is side 1 when facing right.
    side = 1 if facing > 0 else 0
    return edges[:, side, :].astype(np.float64) * scale


# ---------------------------------------------------------------------------- recording
class SessionRecorder:
    """Saves a live session: the annotated frames and, at the end, the report files.

    The report is :func:`~formcheck.analysis.offline.analyze_track` (the offline
    analyser, zero-lag smoothing) over the raw poses seen live, so
    ``report.json``, ``angles.csv`` and ``landmarks.npz`` are the files
    ``formcheck analyze`` writes and ``analyze --landmarks`` can re-run them.
    ``live.json`` keeps what was counted and cued live (:meth:`LiveResult.to_dict`).
    """

    def __init__(self, out_dir: Path, fps: float) -> None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the recording folder {out_dir}: {exc.strerror or exc}") from None
        self.out_dir = out_dir
        self.paths = OutputPaths.in_dir(out_dir)
        self.fps = fps if fps and fps > 0 else 30.0
        self.poses: list[PoseFrame] = []
        self.frame_size = (0, 0)
        self._writer: VideoWriter | None = None

    def add(self, canvas: np.ndarray, pose: PoseFrame, frame_size: tuple[int, int]) -> None:
        self.frame_size = frame_size
        self.poses.append(replace(pose, mask=None))
        if self._writer is None:
            self._writer = VideoWriter(self.paths.video, self.fps, (canvas.shape[1], canvas.shape[0]))
        self._writer.write(canvas, pose.time_s)

    def add_gap(self, empty: PoseFrame) -> None:
        """Mark a stretch with nothing seen (a pause) in the track, without a video frame."""
        self.poses.append(empty)

    def finish(self, exercise: str, meta: dict, notes: list[str], live: dict | None = None) -> Report:
        """Close the video and write the report files (and ``live.json``); returns the report."""
        if self._writer is not None:
            if self._writer.frames_written or self.poses:
                self._writer.close()
            else:
                self._writer.abort()
        track = PoseTrack.from_frames(self.poses, self.frame_size, meta)
        report = analyze_track(track, AnalysisOptions(exercise=exercise))
        report = replace(report, notes=report.notes + tuple(notes))
        track.save(self.paths.landmarks)
        if report.frames:
            report.write_angles_csv(self.paths.angles)
        report.write_json(self.paths.report)
        if live is not None:
            write_text_atomic(self.out_dir / LIVE_JSON, json.dumps(live, indent=2, allow_nan=False) + "\n")
        return report

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()


# ---------------------------------------------------------------------------- the session
@dataclass
class LiveResult:
    """What a live session did, for the summary and the benchmark.

    Attributes
    ----------
    reps : list of RepResult
        Reps as counted live (causal analyser).
    exercise : str
    processed : int
        Frames analysed and drawn.
    captured, dropped : int
        Frames the source delivered, and those replaced by a newer one before
        being taken (the price of never queueing).
    skipped_paused : int
        Frames discarded while paused.
    latencies_ms : ndarray
        Per processed frame: capture → overlay shown (or drawn, headless).
    stage_ms : dict of str → list of float
        The same split into ``wait`` (captured → taken), ``pose``,
        ``analysis`` (analyser + framing check) and ``overlay`` (draw + show).
    pending_max : int
        Largest number of captured frames waiting at any time (the backlog):
        1 at most by construction.
    paused_s : float
    quit_by_user : bool
    person_seen : bool
    report : Report or None
        The recorded session's report (``--record``).
    """

    reps: list[RepResult] = field(default_factory=list)
    exercise: str = "auto"
    processed: int = 0
    captured: int = 0
    dropped: int = 0
    skipped_paused: int = 0
    latencies_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stage_ms: dict[str, list[float]] = field(default_factory=dict)
    pending_max: int = 0
    paused_s: float = 0.0
    quit_by_user: bool = False
    person_seen: bool = False
    report: Report | None = None

    def to_dict(self) -> dict:
        """``live.json``: what the lifter was told, and how the session kept up."""
        lat = self.latencies_ms
        stats = np.percentile(lat, [50, 95]).tolist() + [float(lat.max())] if len(lat) else [None] * 3
        return {
            "exercise": self.exercise,
            "rep_count": len(self.reps),
            "reps": [rep.to_dict() for rep in self.reps],
            "frames": {
                "captured": self.captured, "processed": self.processed, "dropped": self.dropped,
                "skipped_paused": self.skipped_paused, "max_waiting": self.pending_max,
            },
            "latency_ms": dict(zip(("p50", "p95", "max"), (None if v is None else round(v, 1) for v in stats))),
            "paused_s": round(self.paused_s, 2),
            "quit_by_user": self.quit_by_user,
        }

    def latency_summary(self) -> str:
        if not len(self.latencies_ms):
            return "no frames processed"
        p50, p95 = np.percentile(self.latencies_ms, [50, 95])
        return f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {self.latencies_ms.max():.0f} ms"

    def summary(self) -> str:
        n = len(self.reps)
        lines = [
            f"Live session: {n} rep{'s' if n != 1 else ''} ({self.exercise}); "
            f"{self.processed} frames analysed, {self.dropped} dropped to keep up"
            + (f", {self.skipped_paused} skipped while paused ({self.paused_s:.1f} s)" if self.skipped_paused or self.paused_s else "")
            + f"; {self.latency_summary()}"
        ]
        lines += [f"  {rep_line(rep)}" for rep in self.reps]
        return "\n".join(lines)


def rep_line(rep: RepResult) -> str:
    """``Rep 3: Sit deeper: hips below the knees.`` or ``Rep 1: good``."""
    return f"Rep {rep.index}: {rep.cue}" if rep.cue else f"Rep {rep.index}: good"


def spoken_cue(rep: RepResult) -> str:
    return f"Rep {rep.index}. {rep.cue}" if rep.cue else f"Rep {rep.index}, good."


class LiveSession:
    """Runs the live loop over a :class:`~formcheck.io.video.LatestFrameSource`.

    Parameters
    ----------
    source : LatestFrameSource
        Already started (camera or paced file).
    options : LiveOptions
    estimator : PoseEstimator
    display : Display, optional
        None runs headless.
    voice : Voice, optional
    recorder : SessionRecorder, optional
    say : callable
        Receives a line for the terminal (each rep, guidance changes).
    fps : float
        Nominal frame rate of the source (clock for ``pace=False``).
    """

    def __init__(
        self,
        source: LatestFrameSource,
        options: LiveOptions,
        estimator: PoseEstimator,
        *,
        display: Display | None = None,
        voice: Voice | None = None,
        recorder: SessionRecorder | None = None,
        say: Callable[[str], None] = print,
        fps: float = 30.0,
    ) -> None:
        self.source = source
        self.options = options
        self.estimator = estimator
        self.display = display
        self.voice = voice
        self.recorder = recorder
        self.say = say
        self.fps = fps if fps and fps > 0 else 30.0
        self.analyzer = StreamingAnalyzer(options.exercise)
        self.framing = FramingCheck()
        self.result = LiveResult(exercise=options.exercise)
        self._selector: LifterSelector | None = None
        self._banner = None  # set by draw_state: (text, severity, time_s)
        self._latencies: list[float] = []
        self._done_at: deque[float] = deque()  # monotonic times of recent frames, for fps
        self._t0: float | None = None
        self._paused_since: float | None = None
        self._resumed = False
        self._last_canvas: np.ndarray | None = None
        self._guidance_said: tuple[str | None, float] = (None, -1e9)
        self._ready_at: float | None = None
        self._taken = 0

    # ------------------------------------------------------------------ loop
    def run(self) -> LiveResult:
        """Process frames until the source ends, the user quits or Ctrl-C."""
        try:
            while True:
                item = self.source.read_latest(timeout=0.05 if self.display else 0.5)
                if item is not None:
                    self._taken += 1
                    self._note_backlog()
                    if self._paused_since is not None:
                        self.result.skipped_paused += 1
                    else:
                        self._process(*item)
                elif self.source.ended:
                    break
                if self.display is not None and self._handle(self.display.poll(1)):
                    self.result.quit_by_user = True
                    break
        except KeyboardInterrupt:
            self.result.quit_by_user = True
        return self.summarise()

    def summarise(self) -> LiveResult:
        """Bring :attr:`result` up to date (also after an error) and return it."""
        if self._paused_since is not None:
            self.result.paused_s += time.monotonic() - self._paused_since
            self._paused_since = None
        self.result.captured = self.source.captured
        self.result.dropped = self.source.dropped
        self.result.latencies_ms = np.array(self._latencies)
        self.result.reps = list(self.analyzer.reps)
        self.result.exercise = self.analyzer.exercise or self.options.exercise
        return self.result

    def _note_backlog(self) -> None:
        # Frames delivered but neither taken nor dropped are waiting: 0 or 1.
        pending = self.source.captured - self.source.dropped - self._taken
        self.result.pending_max = max(self.result.pending_max, pending)

    def _clock(self, captured_at: float) -> float:
        if not self.options.pace and isinstance(self.source, PacedFileSource):
            return self.result.processed / self.fps  # nothing is dropped: frame number / rate
        if self._t0 is None:
            self._t0 = captured_at
        return captured_at - self._t0

    def _process(self, captured_at: float, frame: np.ndarray) -> None:
        started = time.monotonic()
        t = self._clock(captured_at)
        size = (frame.shape[1], frame.shape[0])
        if self._selector is None:
            self._selector = LifterSelector(size)
        pose = self._selector.choose(self.estimator.detect(frame, t)) or PoseFrame.empty(t)
        posed = time.monotonic()
        if self._resumed:
            # Nothing was seen while paused: say so, so that no rep is stitched
            # across the pause (as offline, where the gap breaks the rep).
            gap = PoseFrame.empty(t - 1e-3)
            self.analyzer.update(gap, size)
            if self.recorder is not None:
                self.recorder.add_gap(gap)
            self._resumed = False
        self.result.person_seen |= pose.detected
        state = self.analyzer.update(pose, size)
        guidance = self.framing.update(pose, size)
        analysed = time.monotonic()

        canvas, scale = _display_canvas(frame, self.options.display_max_side)
        draw_state(canvas, state, scale, self)
        self._tell_guidance(guidance, state.time_s)
        draw_live_extras(canvas, state, scale, self._notice(guidance, state.time_s), self._panel_lines(state))
        if self.display is not None:
            self.display.show(canvas)
        done = time.monotonic()
        self._latencies.append(1000.0 * (done - captured_at))
        for stage, (a, b) in {
            "wait": (captured_at, started), "pose": (started, posed), "analysis": (posed, analysed), "overlay": (analysed, done)
        }.items():
            self.result.stage_ms.setdefault(stage, []).append(1000.0 * (b - a))
        self._done_at.append(done)
        while done - self._done_at[0] > 1.0:
            self._done_at.popleft()
        self._last_canvas = canvas
        self.result.processed += 1

        if self.recorder is not None:
            self.recorder.add(canvas, pose, size)
        if state.finished_rep is not None:
            self.say(rep_line(state.finished_rep))
            if self.voice is not None:
                self.voice.say(spoken_cue(state.finished_rep))

    def _notice(self, guidance: str | None, t: float) -> tuple[str, str] | None:
        """The set-up message for the top banner, unless a rep's cue is showing there."""
        if self._banner is not None and t - self._banner[2] < BANNER_S:
            return None
        if guidance is not None:
            return guidance, "caution"
        if self._ready_at is not None and t - self._ready_at < READY_BANNER_S:
            return READY, "info"
        return None

    def _tell_guidance(self, guidance: str | None, t: float) -> None:
        """Print (and speak) the set-up guidance when it changes, and once when all is set."""
        if self.framing.ready and self._ready_at is None:
            self._ready_at = t
            self.say(f"Set-up: {READY}")
            if self.voice is not None:
                self.voice.say(READY, urgent=False)
        said, at = self._guidance_said
        if guidance == said:
            return
        if guidance is None:
            self._guidance_said = (None, t)
            return
        self.say(f"Set-up: {guidance}")
        if self.voice is not None and t - at > 2.0:
            self.voice.say(guidance, urgent=False)
        self._guidance_said = (guidance, t)

    def _panel_lines(self, state: LiveState) -> list[str]:
        fps = (len(self._done_at) - 1) / (self._done_at[-1] - self._done_at[0]) if len(self._done_at) > 1 else 0.0
        recent = self._latencies[-15:]
        lines = [f"{fps:.0f} fps  {np.median(recent):.0f} ms" if recent else f"{fps:.0f} fps"]
        lines.append(f"{state.exercise} / {state.view} view")
        return lines

    def _handle(self, command: str | None) -> bool:
        """Apply a key command; True means quit."""
        if command == "quit":
            return True
        if command == "reset":
            self.analyzer.reset()
            self.framing.reset()
            if self._selector is not None:
                self._selector.reset()
            self._banner = None
            self._guidance_said = (None, -1e9)
            self._ready_at = None
            self.say("Reset: counting from zero")
        elif command == "pause":
            now = time.monotonic()
            if self._paused_since is None:
                self._paused_since = now
                self.say("Paused (space to go on)")
                if self._last_canvas is not None and self.display is not None:
                    paused = overlay.draw_banner(self._last_canvas.copy(), "Paused - press space to go on", "info")
                    self.display.show(paused)
            else:
                self.result.paused_s += now - self._paused_since
                self._paused_since = None
                self._resumed = True
                self.say("Going on")
        return False


def _display_canvas(frame: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The frame to draw on (shrunk if large) and the pose→canvas scale."""
    longest = max(frame.shape[:2])
    if longest <= max_side:
        return frame, 1.0
    scale = max_side / longest
    size = (max(2, round(frame.shape[1] * scale)), max(2, round(frame.shape[0] * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA), size[0] / frame.shape[1]


# ---------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``formcheck live``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--camera", type=int, metavar="N", help="camera index (default: 0)")
    where.add_argument(
        "--source", metavar="VIDEO_OR_URL",
        help="a video file (played at its own frame rate, like a camera) or a stream URL",
    )
    parser.add_argument("--exercise", choices=exercise_choices(), default="auto", help="skip auto-detection")
    parser.add_argument("--voice", action="store_true", help="speak each rep's count and cue (offline: espeak-ng or pyttsx3)")
    parser.add_argument(
        "--record", metavar="OUT_DIR",
        help="save the annotated session and report.json, angles.csv, landmarks.npz (as analyze does)",
    )
    parser.add_argument("--headless", action="store_true", help="no window: print reps and cues to the terminal")
    parser.add_argument(
        "--no-pace", action="store_true",
        help="with --source VIDEO: hand over every frame as soon as the last is done instead of at the "
        "video's own rate (nothing dropped; for testing)",
    )
    parser.add_argument(
        "--one-person", action="store_true",
        help="look for one person only: ≈ 7 ms faster per frame, for slow machines (borderline verdicts "
        "may then differ from analyze's)",
    )


def run(args: argparse.Namespace) -> int:
    """``formcheck live``; raises FormcheckError subclasses for user errors."""
    options = LiveOptions(
        exercise=args.exercise,
        voice=args.voice,
        record_dir=Path(args.record) if args.record else None,
        pace=not args.no_pace,
        pose=replace(PoseOptions(), num_poses=1) if args.one_person else PoseOptions(),
    )
    if args.no_pace and not args.source:
        raise InputError("--no-pace only applies to --source VIDEO")
    if not args.headless:
        problem = display_problem()
        if problem is not None:
            raise InputError(
                f"{problem}; run with --headless (add --record DIR to keep the session), or from a desktop session"
            )

    def warn(message: str) -> None:
        print(f"formcheck: warning: {message}", file=sys.stderr, flush=True)

    estimator = PoseEstimator(options.pose)
    source = voice = recorder = display = session = None
    label = "the camera"
    try:
        source, label, fps = _open_source(args, options)
        if options.voice:
            voice = Voice.open(warn)
        if options.record_dir is not None:
            recorder = SessionRecorder(options.record_dir, fps)
        if args.headless:
            print(f"Live (headless) from {label}: Ctrl-C stops.", flush=True)
        else:
            display = Window()
        session = LiveSession(
            source, options, estimator, display=display, voice=voice, recorder=recorder,
            say=lambda line: print(line, flush=True), fps=fps,
        )
        result = session.run()
    except BaseException as exc:
        if recorder is not None:
            if session is not None and recorder.poses:
                # Keep what was recorded: the video so far and its report.
                try:
                    _finish_recording(recorder, session.summarise(), label, options, f"the session stopped on an error: {exc}")
                except Exception:  # noqa: BLE001 - the original error is the one to report
                    recorder.abort()
            else:
                recorder.abort()
        raise
    finally:
        if display is not None:
            display.close()
        if source is not None:
            source.close()
        estimator.close()
        if voice is not None:
            voice.close(finish=session is not None and not session.result.quit_by_user)
    if isinstance(source, CameraSource) and not result.quit_by_user:
        warn(f"{label} stopped sending frames")
    print(result.summary())
    if recorder is not None:
        _finish_recording(recorder, result, label, options)
        print(f"Recorded session in {recorder.out_dir}{os.sep} (report: {result.report.rep_count} reps)")
    if not result.person_seen and result.processed:
        raise NoPersonError(f"no person was seen in {label}")
    return 0


def _finish_recording(
    recorder: SessionRecorder, result: LiveResult, label: str, options: LiveOptions, problem: str | None = None
) -> None:
    """Write the recording's files, with a note on how the live session went."""
    notes = [
        f"recorded live from {label}: {result.processed} frames analysed, "
        f"{result.dropped} dropped to keep up; the live count was {len(result.reps)} rep(s)"
    ]
    if problem:
        notes.append(problem)
    meta = {"source": label, "live": True, "frames_dropped": result.dropped,
            "model": MODEL_FILE, "num_poses": options.pose.num_poses, "max_side": options.pose.max_side}
    result.report = recorder.finish(options.exercise, meta, notes, {"source": label, **result.to_dict()})


def _open_source(args, options: LiveOptions) -> tuple[LatestFrameSource, str, float]:
    """The frame source named on the command line, its label and frame rate."""
    if args.source is not None and "://" not in args.source:
        path = Path(args.source)
        source = PacedFileSource(path, realtime=options.pace)
        return source, str(path), source.info.fps or 30.0
    target: int | str = args.source if args.source is not None else (args.camera or 0)
    with native_stderr_silenced():  # OpenCV/FFmpeg print several lines per failed attempt
        try:
            source = CameraSource(target)
        except InputError as exc:
            hint = (
                "check the URL" if isinstance(target, str)
                else "plug one in, choose another with --camera N, or use --source VIDEO"
            )
            raise InputError(f"{exc}: {hint}") from None
    label = f"camera {target}" if isinstance(target, int) else str(target)
    return source, label, source.fps or 30.0


def main(argv: list[str] | None = None) -> int:
    """``python -m formcheck.apps.live.session`` (same as ``formcheck live``)."""
    parser = argparse.ArgumentParser(prog="formcheck live", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
