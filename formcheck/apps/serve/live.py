"""The live check in the browser: camera frames over a WebSocket, the overlay back as data.

The page grabs the camera with ``getUserMedia`` (localhost is a secure
context), shrinks each frame to at most 640×480, encodes it as JPEG and sends
it as one binary WebSocket message: 8 bytes of the capture time (float64
milliseconds, little-endian), 4 bytes of a frame number (uint32), then the
JPEG. The server runs the pose model and the same
:class:`~formcheck.analysis.streaming.StreamingAnalyzer` as ``formcheck live``
(with its framing check) and answers with JSON describing what to draw: the
skeleton, the back line, the knee and hip angles, the rep counter, the depth
and back gauges, the banner with the last rep's cue or the set-up advice,
and the words to speak when a rep ends. The page draws it over the frame it
sent.

**Frames are dropped, never queued.** The page sends a frame only when the
answer to the previous one has arrived; and a frame that reaches the server
while it is still busy with one is answered ``{"dropped": n}`` and thrown
away, so the wait for an answer can never grow.
"""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass

import cv2
import numpy as np

from formcheck.analysis.streaming import LiveState, StreamingAnalyzer
from formcheck.apps.live.framing import FramingCheck
from formcheck.apps.live.result import spoken_cue
from formcheck.exercises import EXERCISES
from formcheck.pose import landmarks as lm
from formcheck.pose.lifter import LifterSelector
from formcheck.pose.track import PoseFrame
from formcheck.render.annotators import BANNER_S, key_angles

HEADER = struct.Struct("<dI")
#: Landmarks less visible than this are not drawn (as in the annotated video).
MIN_VISIBILITY = 0.5
#: Largest frame accepted (the page sends 640×480).
MAX_FRAME_PIXELS = 1920 * 1080


class FrameError(ValueError):
    """A message that is not a frame the server can read."""


def parse_frame(message: bytes) -> tuple[float, int, np.ndarray]:
    """``(capture time ms, frame number, BGR image)`` from one binary message.

    >>> import cv2, numpy as np
    >>> ok, jpeg = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))
    >>> t, n, image = parse_frame(HEADER.pack(1234.5, 7) + jpeg.tobytes())
    >>> t, n, image.shape
    (1234.5, 7, (48, 64, 3))
    """
    if len(message) <= HEADER.size:
        raise FrameError("a frame message is a 12-byte header and a JPEG image")
    time_ms, number = HEADER.unpack_from(message)
    image = cv2.imdecode(np.frombuffer(message, np.uint8, offset=HEADER.size), cv2.IMREAD_COLOR)
    if image is None or image.shape[0] * image.shape[1] > MAX_FRAME_PIXELS:
        raise FrameError("the frame is not a JPEG image the server can read (at most 1920×1080)")
    if not np.isfinite(time_ms):
        raise FrameError("the frame's time is not a number")
    return float(time_ms), int(number), image


@dataclass
class Banner:
    text: str
    severity: str
    time_s: float


class LiveCheck:
    """One browser's live session: frames in, overlay descriptions out.

    Parameters
    ----------
    estimator : PoseEstimator
        Its own (VIDEO mode needs one clock per stream).
    exercise : str
        ``"auto"`` or an exercise name.
    """

    def __init__(self, estimator, exercise: str = "auto"):
        self.estimator = estimator
        self.analyzer = StreamingAnalyzer(exercise)
        self.framing = FramingCheck()
        self.selector: LifterSelector | None = None
        self.banner: Banner | None = None
        self._t0: float | None = None
        self._last_t = -1.0

    def reset(self) -> None:
        """Count from zero (the ``reset`` button)."""
        self.analyzer.reset()
        self.framing.reset()
        if self.selector is not None:
            self.selector.reset()
        self.banner = None

    def set_exercise(self, exercise: str) -> None:
        """Count another exercise from zero (``"auto"`` detects it)."""
        self.analyzer = StreamingAnalyzer(exercise)
        self.reset()

    def process(self, image: np.ndarray, time_ms: float) -> dict:
        """Analyse one frame; returns what to draw (see :func:`describe`)."""
        if self._t0 is None:
            self._t0 = time_ms
        t = max((time_ms - self._t0) / 1000.0, self._last_t + 1e-3)  # strictly increasing, as the model needs
        self._last_t = t
        size = (image.shape[1], image.shape[0])
        if self.selector is None:
            self.selector = LifterSelector(size)
        started = time.perf_counter()
        pose = self.selector.choose(self.estimator.detect(image, t)) or PoseFrame.empty(t)
        posed = time.perf_counter()
        state = self.analyzer.update(pose, size)
        guidance = self.framing.update(pose, size)
        speak = None
        if state.finished_rep is not None:
            rep = state.finished_rep
            severity = max((f.severity for f in rep.faults), key=lambda s: s == "fault", default="info")
            self.banner = Banner(f"Rep {rep.index}: {rep.cue}" if rep.cue else f"Rep {rep.index}: good", severity, t)
            speak = spoken_cue(rep)
        out = describe(state, size, self._banner_now(t, guidance))
        out["speak"] = speak
        out["ms"] = {"pose": round(1000 * (posed - started), 1), "analysis": round(1000 * (time.perf_counter() - posed), 1)}
        return out

    def _banner_now(self, t: float, guidance: str | None) -> dict | None:
        if self.banner is not None and t - self.banner.time_s < BANNER_S:
            return {"text": self.banner.text, "severity": self.banner.severity}
        if guidance:
            return {"text": guidance[:1].upper() + guidance[1:], "severity": "caution"}
        return None

    def close(self) -> None:
        self.estimator.close()


def describe(state: LiveState, size: tuple[int, int], banner: dict | None) -> dict:
    """The overlay for one frame as plain JSON data, in the frame's pixels.

    Keys: ``size``, ``points`` (33 ``[x, y]`` or null when not seen well),
    ``back`` (the dorsal line, a list of points, or null), ``angles``
    (``{"label", "at", "deg"}``), ``reps``, ``phase``, ``exercise``, ``view``,
    ``depth`` and ``back_gauge`` (``{"value", "lo", "hi", "caution",
    "fault"}`` or null), ``last_rep`` (``{"index", "cue", "faults"}``) and
    ``banner``.
    """
    pose = state.pose
    points = None
    angles = []
    if pose is not None and pose.detected:
        visible = np.nan_to_num(pose.visibility, nan=0.0) >= MIN_VISIBILITY
        points = [_point(p) if v else None for p, v in zip(pose.xy.astype(float), visible)]
        for angle in key_angles(pose.xy.astype(float), state.angles):
            if np.isfinite(angle.vertex).all():
                angles.append({"label": angle.label, "at": _point(angle.vertex), "deg": round(float(angle.degrees))})
    back = None
    if state.back_points is not None and np.isfinite(state.back_points).all(axis=1).sum() >= 2:
        back = [_point(p) for p in state.back_points if np.isfinite(p).all()]
    last = state.last_rep
    peak = last.metrics.get("peak_lumbar_flexion_deg", float("nan")) if last is not None else float("nan")
    return {
        "size": list(size),
        "points": points,
        "back": back,
        "angles": angles,
        "reps": state.rep_count,
        "phase": state.phase,
        "exercise": state.exercise,
        "view": state.view,
        # The same ranges and colour limits as the annotated video's gauges (LiveStateAnnotator).
        "depth": _gauge(state.depth, 0.0, 1.2, (0.4, 1.0)) if np.isfinite(state.depth) else None,
        "back_gauge": _gauge(peak, -10.0, 50.0, state.back_limits) if np.isfinite(peak) else None,
        "last_rep": None if last is None else {
            "index": last.index, "cue": last.cue, "faults": [f.code for f in last.faults],
        },
        "banner": banner,
    }


def edges() -> list[list[int]]:
    """The skeleton's bones as landmark index pairs (sent once when the page connects)."""
    return [list(e) for e in lm.EDGES]


def hello(exercise: str) -> str:
    """The first message of a session: the bones and the exercises to choose from."""
    return json.dumps({"hello": True, "edges": edges(), "exercise": exercise, "exercises": ["auto", *EXERCISES]})


def _point(p) -> list[float]:
    return [round(float(p[0]), 1), round(float(p[1]), 1)]


def _gauge(value: float, lo: float, hi: float, limits: tuple[float, float]) -> dict:
    return {"value": round(float(value), 3), "lo": lo, "hi": hi, "caution": limits[0], "fault": limits[1]}
