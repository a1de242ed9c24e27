"""The live session loop: check a squat or deadlift set as it happens, from a camera.

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
checks), and the overlay from the annotators of :mod:`formcheck.render.annotators`:
:class:`~formcheck.render.annotators.LiveStateAnnotator`, the one that draws
``annotated.mp4`` in ``analyze``, and
:class:`~formcheck.render.annotators.LiveExtrasAnnotator` for what only the
window shows (back angle, dorsal edge, hip-below-knee gauge, set-up notice, fps).

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

The parts: :class:`LiveSession` (this module) runs the loop;
:class:`~formcheck.apps.live.recorder.SessionRecorder` keeps the recording;
:class:`~formcheck.apps.live.result.LiveResult` is what the session did;
:mod:`formcheck.apps.live.command` is the command line.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from formcheck.analysis.streaming import LiveState, StreamingAnalyzer
from formcheck.apps.live.display import Display
from formcheck.apps.live.framing import READY, READY_BANNER_S, FramingCheck
from formcheck.apps.live.recorder import SessionRecorder
from formcheck.apps.live.result import LiveResult, rep_line, spoken_cue
from formcheck.apps.live.voice import Voice
from formcheck.io.camera import LatestFrameSource, PacedFileSource
from formcheck.pose.estimator import LifterFollower, PoseOptions
from formcheck.measure.bar import DEFAULT_PLATE_DIAMETER_M
from formcheck.pose.plate.finder import PlateFinder
from formcheck.pose.track import PoseFrame
from formcheck.render.annotators import Banner, BannerAnnotator, LiveExtras, LiveExtrasAnnotator, LiveStateAnnotator

#: Frames larger than this (longest side) are shrunk for display and recording.
DISPLAY_MAX_SIDE = 960
#: Exercises for which the barbell's plate is looked for: 8-16 ms per frame, which with
#: ``auto`` pushed a live window past a 30 fps camera's 33 ms (frames dropped, a rep lost),
#: so only when the lifter says it is a deadlift.
PLATE_EXERCISES = ("deadlift",)



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
    plate_diameter_m : float
        The barbell's plates (scale of the bar's speed), looked for in ``PLATE_EXERCISES``.
    """

    exercise: str = "auto"
    voice: bool = False
    record_dir: Path | None = None
    pace: bool = True
    pose: PoseOptions = PoseOptions()
    display_max_side: int = DISPLAY_MAX_SIDE
    plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M



class LiveSession:
    """Runs the live loop over a :class:`~formcheck.io.video.LatestFrameSource`.

    Parameters
    ----------
    source : LatestFrameSource
        Already started (camera or paced file).
    options : LiveOptions
    estimator : LifterFollower
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
        estimator: LifterFollower,
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
        self.analyzer = StreamingAnalyzer(options.exercise, plate_diameter_m=options.plate_diameter_m)
        self._plates = PlateFinder() if options.exercise in PLATE_EXERCISES else None
        self.framing = FramingCheck()
        self.result = LiveResult(exercise=options.exercise)
        self.overlay = LiveStateAnnotator()  # keeps the last rep's cue banner for a few seconds
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
        pose = self.estimator.follow(frame, t)
        if self._plates is not None:
            pose = self._plates(frame, pose)  # the barbell's near plate (formcheck.pose.plate)
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
        self.overlay.scale = scale
        self.overlay.annotate(canvas, state)
        self._tell_guidance(guidance, state.time_s)
        extras = LiveExtras(state, self._notice(guidance, state.time_s), self._panel_lines(state))
        LiveExtrasAnnotator(scale=scale).annotate(canvas, extras)
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
        if self.overlay.showing_cue(t):
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
            self.estimator.reset()
            self.overlay.reset()
            self._guidance_said = (None, -1e9)
            self._ready_at = None
            self.say("Reset: counting from zero")
        elif command == "pause":
            now = time.monotonic()
            if self._paused_since is None:
                self._paused_since = now
                self.say("Paused (space to go on)")
                if self._last_canvas is not None and self.display is not None:
                    paused = BannerAnnotator().annotate(self._last_canvas.copy(), Banner("Paused - press space to go on"))
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
