"""Annotators: one small class per thing drawn on a frame, each with one verb.

Every annotator has ``annotate(scene, data) -> scene``: it draws ``data`` on
``scene`` (an ``(H, W, 3)`` uint8 BGR image) in place and returns it, so
annotators chain like those of Roboflow's *supervision*::

    scene = SkeletonAnnotator().annotate(scene, pose)
    scene = BackCurveAnnotator().annotate(scene, back_points)
    scene = BannerAnnotator().annotate(scene, Banner("Rep 3: chest up", "fault"))

The settings (colour, corner, range, scale) are the annotator's; the data is
what changes from frame to frame. ``None`` data (no pose, no back line)
draws nothing, and NaN points are skipped. The OpenCV drawing itself is in
:mod:`formcheck.render.draw`.

Point annotators (:class:`SkeletonAnnotator`, :class:`BackCurveAnnotator`,
:class:`AngleAnnotator`) take ``scale``: data given in the pose's pixels is
multiplied by it (a float, or ``(sx, sy)``) to land on a resized scene.
:class:`HaloAnnotator` uses that to draw any of them bolder, on a smaller
layer blended in with a dark rim.

Three consumers compose them:

* the annotated video (``annotated.mp4``) and the live window draw the
  streaming analyser's state with :class:`LiveStateAnnotator`; the window adds
  :class:`LiveExtrasAnnotator` (back angle, dorsal edge, hip-below-knee gauge,
  set-up notice, fps panel);
* the key-frame stills of ``report.html`` (:mod:`formcheck.render.stills`)
  draw the graded back line and the skeleton through :class:`HaloAnnotator`.

Example: a back line across a small synthetic scene.

>>> import numpy as np
>>> from formcheck.render.annotators import BackCurveAnnotator
>>> scene = np.zeros((40, 60, 3), np.uint8)
>>> points = np.array([[10.0, 20.0], [30.0, 20.0], [np.nan, np.nan], [50.0, 20.0]])
>>> BackCurveAnnotator().annotate(scene, points) is scene
True
>>> drawn = scene.any(axis=2)                    # the pixels the line touched
>>> bool(drawn[20, 10:31].all()), bool(drawn[20, 35:46].any())    # x = 10 to 30, broken at the NaN
(True, False)
>>> small = BackCurveAnnotator(scale=0.5).annotate(np.zeros((20, 30, 3), np.uint8), points)
>>> bool(small.any(axis=2)[10, 5:16].all())     # the same line on a scene half the size
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import cv2
import numpy as np

from formcheck.analysis.streaming import LiveState
from formcheck.exercises import EXERCISES
from formcheck.measure.kinematics import midpoint
from formcheck.pose import landmarks as lm
from formcheck.render import draw
from formcheck.render.draw import AMBER, CYAN, MAGENTA, WHITE

#: Scale from data pixels to scene pixels: one factor, or ``(sx, sy)``.
Scale = Any

#: Seconds a finished rep's cue stays in the banner.
BANNER_S = 3.0


# ============================================================================ data
class Keypoints(NamedTuple):
    """A skeleton to draw: what :class:`SkeletonAnnotator` needs of a pose.

    A :class:`~formcheck.pose.track.PoseFrame` has the same two attributes
    and can be passed instead.
    """

    xy: np.ndarray  #: (33, 2) pixels; NaN rows are skipped
    visibility: np.ndarray | None = None  #: (33,) 0–1; None draws every finite landmark


class JointAngle(NamedTuple):
    """An angle at ``vertex`` between the rays to ``a`` and ``b``, and its value to print."""

    vertex: np.ndarray
    a: np.ndarray
    b: np.ndarray
    degrees: float
    label: str = ""


class RepCount(NamedTuple):
    """The rep counter's text: the count and the phase under it (e.g. ``"bottom"``)."""

    count: int
    phase: str = ""


class Banner(NamedTuple):
    """A message across the top, coloured by ``severity`` (``info``, ``caution``, ``fault``)."""

    text: str
    severity: str = "info"


class BarPath(NamedTuple):
    """The barbell to draw: its recent path and the plate now (frame pixels)."""

    path: np.ndarray | None  #: (k, 2) the bar's centre over time; NaN breaks the line
    plate: np.ndarray | None = None  #: (x, y, radius) of the plate now, or None


class LiveExtras(NamedTuple):
    """What the live window draws besides the analyser's state (:class:`LiveExtrasAnnotator`)."""

    state: LiveState
    #: The set-up guidance as ``(text, severity)``, drawn as the banner; None while a rep's cue shows there.
    notice: tuple[str, str] | None
    #: Small text for the bottom-left panel (fps, latency, exercise and view).
    panel: Sequence[str]


# ============================================================================ single annotators
@dataclass(frozen=True)
class SkeletonAnnotator:
    """The 35 BlazePose bones and the joints seen well enough.

    Parameters
    ----------
    color : BGR tuple
    min_visibility : float
        Landmarks less visible than this are left out.
    hidden : tuple of int
        Landmarks never drawn (e.g. eyes and fingers on a small still).
    scale : float or (sx, sy)
    """

    color: tuple[int, int, int] = CYAN
    min_visibility: float = 0.5
    hidden: tuple[int, ...] = ()
    scale: Scale = 1.0

    def annotate(self, scene: np.ndarray, pose: Keypoints | Any | None) -> np.ndarray:
        """Draw ``pose`` (anything with ``xy`` and ``visibility``, e.g. a ``PoseFrame``)."""
        if pose is None:
            return scene
        visibility = pose.visibility
        if self.hidden:
            shown = np.array(visibility, np.float32, copy=True) if visibility is not None else np.ones(len(pose.xy), np.float32)
            shown[list(self.hidden)] = 0.0
            visibility = shown
        return draw.draw_skeleton(scene, pose.xy * self.scale, visibility, self.min_visibility, self.color)


@dataclass(frozen=True)
class BackCurveAnnotator:
    """A polyline along the back (the dorsal edge of the trunk); NaN points break it."""

    color: tuple[int, int, int] = MAGENTA
    scale: Scale = 1.0

    def annotate(self, scene: np.ndarray, points: np.ndarray | None) -> np.ndarray:
        """Draw ``points`` ``(k, 2)``; None draws nothing."""
        if points is None:
            return scene
        return draw.draw_back_curve(scene, points * self.scale, self.color)


@dataclass(frozen=True)
class BarPathAnnotator:
    """The bar's path (a line through the plate's recent centres) and the plate now.

    >>> import numpy as np
    >>> scene = np.zeros((60, 80, 3), np.uint8)
    >>> path = np.array([[40.0, 50.0], [40.0, 30.0], [41.0, 10.0]])
    >>> _ = BarPathAnnotator().annotate(scene, BarPath(path, np.array([41.0, 10.0, 8.0])))
    >>> bool(scene[20:40, 39:42].any()), bool(scene[10, 49:52].any())    # the path; the plate's rim
    (True, True)
    """

    color: tuple[int, int, int] = AMBER
    scale: Scale = 1.0

    def annotate(self, scene: np.ndarray, bar: BarPath | None) -> np.ndarray:
        """Draw ``bar``; None (no bar followed) draws nothing."""
        if bar is None:
            return scene
        if bar.path is not None and len(bar.path):
            draw.draw_back_curve(scene, np.asarray(bar.path, np.float64) * self.scale, self.color)
        if bar.plate is not None:
            x, y, radius = bar.plate
            factor = float(np.mean(self.scale)) if np.ndim(self.scale) else float(self.scale)
            draw.draw_plate(scene, np.array([x, y]) * self.scale, radius * factor, self.color)
        return scene


@dataclass(frozen=True)
class AngleAnnotator:
    """An arc at a joint between two rays, with the angle's value (and label) beside it."""

    color: tuple[int, int, int] = WHITE
    scale: Scale = 1.0

    def annotate(self, scene: np.ndarray, angles: JointAngle | Sequence[JointAngle] | None) -> np.ndarray:
        """Draw one :class:`JointAngle` or several; a NaN point or value draws nothing."""
        if angles is None:
            return scene
        for angle in [angles] if isinstance(angles, JointAngle) else angles:
            vertex, a, b = (np.asarray(p) * self.scale for p in angle[:3])
            draw.draw_angle(scene, vertex, a, b, angle.degrees, angle.label, color=self.color)
        return scene


@dataclass(frozen=True)
class GaugeAnnotator:
    """A vertical bar filled from ``lo`` to the value, green / amber / red by ``thresholds``.

    Parameters
    ----------
    lo, hi : float
        Range of the bar.
    label : str
        Name above the bar.
    thresholds : (caution, fault), optional
        ``caution > fault`` makes low values the bad ones.
    position : "right", "left" or (x, y)
    """

    lo: float
    hi: float
    label: str
    thresholds: tuple[float, float] | None = None
    position: str | tuple[int, int] = "right"

    def annotate(self, scene: np.ndarray, value: float) -> np.ndarray:
        """Draw the gauge at ``value`` (NaN: an empty bar reading ``--``)."""
        return draw.draw_gauge(scene, value, self.lo, self.hi, self.label, self.thresholds, self.position)


@dataclass(frozen=True)
class RepCounterAnnotator:
    """A boxed ``REPS n`` with the phase under it, in a corner."""

    corner: str = "bottom-right"

    def annotate(self, scene: np.ndarray, count: RepCount) -> np.ndarray:
        """Draw the count and the phase under it."""
        return draw.draw_rep_counter(scene, count.count, count.phase, self.corner)


@dataclass(frozen=True)
class BannerAnnotator:
    """A full-width message across the top (wrapped on narrow scenes)."""

    def annotate(self, scene: np.ndarray, banner: Banner | None) -> np.ndarray:
        """Draw ``banner`` (None draws nothing)."""
        if banner is None:
            return scene
        return draw.draw_banner(scene, banner.text, banner.severity)


@dataclass(frozen=True)
class TextPanelAnnotator:
    """Lines of small text on a darkened box in a corner."""

    corner: str = "bottom-left"

    def annotate(self, scene: np.ndarray, lines: Sequence[str]) -> np.ndarray:
        """Draw ``lines`` (none: nothing)."""
        return draw.draw_text_panel(scene, lines, self.corner)


@dataclass(frozen=True)
class HaloAnnotator:
    """Another point annotator's shapes, bolder and with a dark rim, for small stills.

    The shapes are drawn on a layer ``factor`` times smaller than the scene
    (the inner annotator's ``scale`` is multiplied accordingly), scaled up and
    blended in, with a darkened rim around them so the lines read on light
    and dark backgrounds alike. The inner annotator needs ``color`` and
    ``scale`` fields (:class:`SkeletonAnnotator`, :class:`BackCurveAnnotator`,
    :class:`AngleAnnotator`).
    """

    annotator: Any
    factor: int = 2

    def annotate(self, scene: np.ndarray, data: Any) -> np.ndarray:
        """Draw ``data`` as the inner annotator would, bolder (None draws nothing)."""
        if data is None:
            return scene
        h, w = scene.shape[:2]
        small = (max(2, w // self.factor), max(2, h // self.factor))
        scale = np.array([small[0] / w, small[1] / h]) * self.annotator.scale
        color = np.zeros((small[1], small[0], 3), np.uint8)
        mask = np.zeros_like(color)
        dataclasses.replace(self.annotator, scale=scale).annotate(color, data)
        # The same shapes in white: the layer's alpha.
        dataclasses.replace(self.annotator, scale=scale, color=WHITE).annotate(mask, data)
        rim = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))

        def up(layer):
            return cv2.resize(layer, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0

        alpha = up(mask)
        out = scene.astype(np.float32) * (1.0 - 0.6 * up(rim))
        out = out * (1.0 - alpha) + up(color) * 255.0 * alpha
        scene[:] = np.clip(out, 0, 255).astype(np.uint8)
        return scene


# ============================================================================ composites
class LiveStateAnnotator:
    """The streaming analyser's state over a frame: ``annotated.mp4`` and the live window.

    Skeleton, knee and hip angles, the back line, the bar's path and plate
    (when the bar is followed), the rep counter with its phase, the depth
    gauge (right), the last rep's peak rounding (back gauge, left, and a small
    panel, with its bar speed) and, for ``BANNER_S`` seconds after a rep ends,
    its cue in the banner.

    Parameters
    ----------
    scale : float
        Scene pixels per pose pixel (the frame may be shrunk for drawing);
        may be changed between frames.

    Attributes
    ----------
    banner : (text, severity, time_s) or None
        The last finished rep's banner and when it was set (kept across frames).
    """

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self.banner: tuple[str, str, float] | None = None

    def reset(self) -> None:
        """Forget the last rep's banner (the count was reset)."""
        self.banner = None

    def showing_cue(self, time_s: float) -> bool:
        """A rep's cue is in the banner at ``time_s``."""
        return self.banner is not None and time_s - self.banner[2] < BANNER_S

    def annotate(self, scene: np.ndarray, state: LiveState) -> np.ndarray:
        """Draw the analyser's ``state`` after one frame (and remember a finished rep's banner)."""
        scale = self.scale
        pose = state.pose
        if pose is not None and pose.detected:
            SkeletonAnnotator(scale=scale).annotate(scene, pose)
            AngleAnnotator().annotate(scene, key_angles(pose.xy * scale, state.angles))
        BackCurveAnnotator(scale=scale).annotate(scene, state.back_points)
        if state.bar_path is not None:
            BarPathAnnotator(scale=scale).annotate(scene, BarPath(state.bar_path, state.bar))
        RepCounterAnnotator().annotate(scene, RepCount(state.rep_count, state.phase))
        if np.isfinite(state.depth):
            GaugeAnnotator(0.0, 1.2, "depth", thresholds=(0.4, 1.0)).annotate(scene, state.depth)
        last = state.last_rep
        peak = last.metrics.get("peak_lumbar_flexion_deg", float("nan")) if last is not None else float("nan")
        if np.isfinite(peak):
            # The spine is judged per finished rep: show that rep's peak rounding.
            GaugeAnnotator(-10.0, 50.0, "back", thresholds=state.back_limits, position="left").annotate(scene, peak)
            hinge = last.metrics.get("hinge_ratio", float("nan"))
            lines = [f"rep {last.index}: back {peak:+.0f} deg", f"hinge ratio {hinge:.2f}"]
            speed = state.last_rep_bar.get("mean_concentric_velocity_m_s", float("nan"))
            if np.isfinite(speed):
                lines.append(f"bar speed {speed:.2f} m/s")
            TextPanelAnnotator().annotate(scene, lines)
        if state.finished_rep is not None:
            rep = state.finished_rep
            if rep.faults:
                worst = max(rep.faults, key=lambda f: f.severity == "fault")
                self.banner = (f"Rep {rep.index}: {rep.cue}", worst.severity, state.time_s)
            else:
                self.banner = (f"Rep {rep.index}: good", "info", state.time_s)
        if self.showing_cue(state.time_s):
            BannerAnnotator().annotate(scene, Banner(self.banner[0], self.banner[1]))
        return scene


@dataclass(frozen=True)
class LiveExtrasAnnotator:
    """What the live window adds to :class:`LiveStateAnnotator`.

    The back angle (trunk from vertical) at the hip with the dorsal edge of
    the trunk seen in this frame (the spine-curve indicator), a
    hip-below-knee gauge for squats (the thigh's angle below parallel as the
    offline ``shallow_depth`` check measures it: 0 = parallel, + deeper), the
    set-up notice as the banner and a small panel (fps, latency).
    """

    scale: float = 1.0

    def annotate(self, scene: np.ndarray, extras: LiveExtras) -> np.ndarray:
        """Draw what only the window shows for this frame."""
        state, scale = extras.state, self.scale
        pose = state.pose
        if pose is not None and pose.detected:
            xy = pose.xy.astype(np.float64) * scale
            AngleAnnotator(color=AMBER).annotate(scene, trunk_lean_angle(xy, state.angles.get("trunk_inclination")))
            BackCurveAnnotator(scale=scale).annotate(scene, dorsal_edge(pose))
            if state.exercise in ("squat", "auto"):
                # Filled upward as the hips drop: green once the hip crease is below the
                # knee, by the squat's own shallow_depth thresholds. The offline check's
                # measure when known (vertical drop over the thigh length), else the sagittal angle.
                below = -state.angles.get("thigh_drop", hip_above_knee_deg(xy))
                limit = EXERCISES["squat"].thresholds["shallow_depth"]
                gauge = GaugeAnnotator(-90.0, 30.0, "hip<knee", thresholds=(-limit.caution, -limit.fault), position="left")
                gauge.annotate(scene, below)
        if extras.notice is not None:
            text, severity = extras.notice
            BannerAnnotator().annotate(scene, Banner(text[:1].upper() + text[1:], severity))
        TextPanelAnnotator(corner="bottom-left").annotate(scene, extras.panel)
        return scene


# ============================================================================ what to draw
def key_angles(xy: np.ndarray, angles: dict[str, float]) -> list[JointAngle]:
    """The knee and hip angles to draw, at the midpoints of the left/right landmarks ``xy`` (33, 2).

    ``angles`` holds the analyser's values (``knee_flexion``, ``hip_flexion``);
    a missing one is left out.
    """

    def mid(pair: str) -> np.ndarray:
        a, b = lm.PAIRS[pair]
        return 0.5 * (xy[a] + xy[b])

    hip, knee, ankle, shoulder = mid("hip"), mid("knee"), mid("ankle"), mid("shoulder")
    out = []
    if "knee_flexion" in angles:
        out.append(JointAngle(knee, hip, ankle, angles["knee_flexion"], "knee"))
    if "hip_flexion" in angles:
        out.append(JointAngle(hip, shoulder, knee, angles["hip_flexion"], "hip"))
    return out


def trunk_lean_angle(xy: np.ndarray, lean: float | None) -> JointAngle | None:
    """The trunk's lean from vertical as an angle at the hip (None if unknown)."""
    hip, shoulder = _midpoint(xy, "hip"), _midpoint(xy, "shoulder")
    if lean is None or not (np.isfinite(hip).all() and np.isfinite(shoulder).all()):
        return None
    above = hip - np.array([0.0, np.hypot(*(shoulder - hip))])
    return JointAngle(hip, above, shoulder, abs(lean), "back")


def hip_above_knee_deg(xy: np.ndarray) -> float:
    """Angle of the knee→hip line above horizontal, degrees (image plane, side view).

    Positive while the hip crease is above the knee; 0 at parallel; negative
    below: the squat depth rule as a number.

    Parameters
    ----------
    xy : ndarray, shape (33, 2)
        One frame's landmarks in pixels (image y points down).

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.zeros((33, 2))
    >>> xy[[23, 24]] = (100.0, 200.0)   # hips
    >>> xy[[25, 26]] = (150.0, 250.0)   # knees, lower in the image
    >>> round(hip_above_knee_deg(xy))
    45
    """
    hip, knee = _midpoint(xy, "hip"), _midpoint(xy, "knee")
    dx, dy = hip - knee
    if not (np.isfinite(dx) and np.isfinite(dy)) or (dx == 0 and dy == 0):
        return float("nan")
    return float(np.degrees(np.arctan2(-dy, abs(dx))))  # image y points down


def dorsal_edge(pose, min_visibility: float = 0.5) -> np.ndarray | None:
    """The back's silhouette edge in this frame, hip to shoulder, in the pose's pixels.

    The back is the trunk edge away from where the toes point; None when
    the facing or the edge is unknown.

    Parameters
    ----------
    pose : PoseFrame
        Needs ``xy``, ``visibility`` and ``trunk_edges``.
    min_visibility : float
        Toes and heels must be at least this visible to tell the facing.
    """
    facing = _facing(pose.xy, np.nan_to_num(pose.visibility, nan=0.0), min_visibility)
    edges = pose.trunk_edges
    if facing == 0 or edges is None or not np.isfinite(edges).any():
        return None
    # trunk_edges side 0 lies on the normal (-a_y, a_x) of the hip→shoulder
    # axis a: for an upright trunk that is image right, i.e. the front of a
    # lifter facing right. So the back is side 1 when facing right.
    side = 1 if facing > 0 else 0
    return edges[:, side, :].astype(np.float64)


def _facing(xy: np.ndarray, visibility: np.ndarray, min_visibility: float) -> int:
    """+1 if the lifter faces image right, -1 left, 0 unknown (toes ahead of heels)."""
    for toe, heel in ((lm.LEFT_FOOT_INDEX, lm.LEFT_HEEL), (lm.RIGHT_FOOT_INDEX, lm.RIGHT_HEEL)):
        if visibility[toe] >= min_visibility and visibility[heel] >= min_visibility:
            dx = xy[toe, 0] - xy[heel, 0]
            if np.isfinite(dx) and abs(dx) > 1.0:
                return 1 if dx > 0 else -1
    return 0


def _midpoint(xy: np.ndarray, pair: str) -> np.ndarray:
    return midpoint(xy[None], pair)[0]
