"""Small annotators that draw on a BGR frame, in place.

Each function does one thing, draws on ``frame`` (an ``(H, W, 3)`` uint8 BGR
array), and returns it, so calls compose::

    draw_banner(draw_skeleton(frame, xy, vis), "Knees caving in", "fault")

They take only plain values (arrays, strings, numbers), so this module depends
on no analysis stage. Sizes (fonts, lines, margins) scale with the frame, and
coordinates that are NaN are skipped rather than drawn or raising. Text uses
OpenCV's Hershey font, which is ASCII only; a ``°`` is drawn as a small ring.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from formcheck.pose.landmarks import EDGES

# Colours are BGR.
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREEN = (80, 200, 60)
AMBER = (0, 170, 255)
RED = (50, 50, 230)
CYAN = (230, 200, 40)
MAGENTA = (220, 60, 220)
SEVERITY_COLORS = {"info": (150, 100, 35), "caution": AMBER, "fault": RED}
_SEVERITY_TEXT = {"info": WHITE, "caution": BLACK, "fault": WHITE}

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_SHIFT = 4  # sub-pixel precision (1/16 px) for lines and circles: steadier in video
_SUBPIXEL = 1 << _SHIFT
_CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


# ---------------------------------------------------------------------------- annotators
def draw_skeleton(
    frame: np.ndarray,
    xy: np.ndarray,
    visibility: np.ndarray | None = None,
    min_visibility: float = 0.5,
    color: tuple[int, int, int] = CYAN,
) -> np.ndarray:
    """Draw the 35 BlazePose bones and the joints that are seen well enough.

    Parameters
    ----------
    xy : ndarray, shape (33, 2)
        Landmarks in pixels; NaN rows are skipped.
    visibility : ndarray, shape (33,), optional
        Landmarks below ``min_visibility`` (or NaN) are skipped.
    """
    xy = np.asarray(xy, dtype=np.float64)
    shown = np.isfinite(xy).all(axis=1)
    if visibility is not None:
        with np.errstate(invalid="ignore"):
            shown &= np.asarray(visibility, dtype=np.float64) >= min_visibility
    points = _fixed(xy)
    thickness = _thickness(frame)
    for a, b in EDGES:
        if shown[a] and shown[b]:
            cv2.line(frame, tuple(points[a]), tuple(points[b]), color, thickness, cv2.LINE_AA, _SHIFT)
    radius = (thickness + 2) * _SUBPIXEL
    for i in np.flatnonzero(shown):
        cv2.circle(frame, tuple(points[i]), radius, WHITE, -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(frame, tuple(points[i]), radius, color, max(1, thickness // 2), cv2.LINE_AA, _SHIFT)
    return frame


def draw_angle(
    frame: np.ndarray,
    vertex_xy: Sequence[float],
    a_xy: Sequence[float],
    b_xy: Sequence[float],
    degrees: float,
    label: str = "",
    color: tuple[int, int, int] = WHITE,
) -> np.ndarray:
    """Draw an arc at ``vertex_xy`` between the rays towards ``a_xy`` and ``b_xy``, and its value.

    The arc spans the smaller angle between the rays; the text (``label``
    and ``degrees`` rounded) sits outside the arc on its bisector. Nothing is
    drawn if any point or ``degrees`` is NaN.
    """
    vertex, a, b = (np.asarray(p, dtype=np.float64)[:2] for p in (vertex_xy, a_xy, b_xy))
    if not (np.isfinite(vertex).all() and np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(degrees)):
        return frame
    to_a, to_b = a - vertex, b - vertex
    arm = min(np.hypot(*to_a), np.hypot(*to_b))
    if arm < 1.0:
        return frame
    scale = _scale(frame)
    radius = float(np.clip(0.5 * arm, 8.0 * scale, 45.0 * scale))
    # Image y points down, so atan2 gives the clockwise angles cv2.ellipse expects.
    start = np.degrees(np.arctan2(to_a[1], to_a[0]))
    span = (np.degrees(np.arctan2(to_b[1], to_b[0])) - start) % 360.0
    if span > 180.0:
        start, span = start + span, 360.0 - span
    center = tuple(_fixed(vertex))
    axes = (int(radius * _SUBPIXEL), int(radius * _SUBPIXEL))
    cv2.ellipse(frame, center, axes, 0.0, start, start + span, color, _thickness(frame), cv2.LINE_AA, _SHIFT)

    bisector = np.radians(start + span / 2.0)
    direction = np.array([np.cos(bisector), np.sin(bisector)])
    text = f"{label} {degrees:.0f}°".strip()
    font_scale, thickness = _font_scale(frame), _thickness(frame)
    width, height = _text_size(text, font_scale, thickness)
    # Put the text's centre beyond the arc, far enough that its box clears it.
    distance = radius + 4.0 * scale + 0.5 * np.hypot(width, height) * max(abs(direction[0]), abs(direction[1]))
    center_xy = vertex + direction * distance
    _put_text(frame, text, (center_xy[0] - width / 2.0, center_xy[1] + height / 2.0), font_scale, color, thickness)
    return frame


def draw_rep_counter(frame: np.ndarray, count: int, phase: str = "", corner: str = "bottom-right") -> np.ndarray:
    """Draw a boxed rep count with the current phase (e.g. "descent") under it."""
    font_scale, thickness = _font_scale(frame), _thickness(frame)
    count_text = f"REPS {int(count)}"
    count_scale = 1.6 * font_scale
    count_w, count_h = _text_size(count_text, count_scale, thickness + 1)
    phase_w, phase_h = _text_size(phase, font_scale, thickness) if phase else (0, 0)
    pad = int(8 * _scale(frame)) + 2
    gap = pad if phase else 0
    box_w = max(count_w, phase_w) + 2 * pad
    box_h = count_h + gap + phase_h + 2 * pad
    x, y = _anchor(frame, box_w, box_h, corner)
    _darken(frame, x, y, box_w, box_h)
    _put_text(frame, count_text, (x + pad, y + pad + count_h), count_scale, WHITE, thickness + 1)
    if phase:
        _put_text(frame, phase, (x + pad, y + pad + count_h + gap + phase_h), font_scale, AMBER, thickness)
    return frame


def draw_banner(frame: np.ndarray, text: str, severity: str = "info") -> np.ndarray:
    """Draw a full-width banner across the top, coloured by ``severity``.

    ``severity`` is "info", "caution" or "fault". Long text wraps onto more
    lines so it stays readable on narrow (e.g. 360 px wide) frames.
    """
    if severity not in SEVERITY_COLORS:
        raise ValueError(f"severity must be one of {sorted(SEVERITY_COLORS)}, got {severity!r}")
    if not text:
        return frame
    font_scale, thickness = 1.15 * _font_scale(frame), _thickness(frame)
    pad = int(8 * _scale(frame)) + 2
    lines = _wrap(text, frame.shape[1] - 2 * pad, font_scale, thickness)
    line_h = _text_size("Ag", font_scale, thickness)[1]
    line_gap = max(2, line_h // 2)
    banner_h = 2 * pad + len(lines) * line_h + (len(lines) - 1) * line_gap
    cv2.rectangle(frame, (0, 0), (frame.shape[1] - 1, banner_h), SEVERITY_COLORS[severity], -1)
    for i, line in enumerate(lines):
        baseline_y = pad + line_h + i * (line_h + line_gap)
        _put_text(frame, line, (pad, baseline_y), font_scale, _SEVERITY_TEXT[severity], thickness, outline=False)
    return frame


def draw_back_curve(
    frame: np.ndarray, points: np.ndarray, color: tuple[int, int, int] = MAGENTA
) -> np.ndarray:
    """Draw a polyline through ``points`` (k, 2), e.g. the dorsal edge of the trunk.

    NaN points break the line into separate pieces.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    finite = np.isfinite(points).all(axis=1)
    thickness = _thickness(frame)
    for run in _runs(finite):
        piece = _fixed(points[run])
        if len(piece) == 1:
            cv2.circle(frame, tuple(piece[0]), thickness * _SUBPIXEL, color, -1, cv2.LINE_AA, _SHIFT)
        else:
            cv2.polylines(frame, [piece.reshape(-1, 1, 2)], False, color, thickness, cv2.LINE_AA, _SHIFT)
    return frame


def draw_plate(frame: np.ndarray, centre: np.ndarray, radius: float, color: tuple[int, int, int] = AMBER) -> np.ndarray:
    """Outline the barbell's plate: a circle of ``radius`` about ``centre`` and a dot at the bar."""
    centre = np.asarray(centre, np.float64).reshape(2)
    if not (np.isfinite(centre).all() and np.isfinite(radius) and radius > 0):
        return frame
    c = tuple(_fixed(centre[None])[0])
    thickness = _thickness(frame)
    cv2.circle(frame, c, int(round(radius * _SUBPIXEL)), color, thickness, cv2.LINE_AA, _SHIFT)
    cv2.circle(frame, c, 2 * thickness * _SUBPIXEL, color, -1, cv2.LINE_AA, _SHIFT)
    return frame


def draw_gauge(
    frame: np.ndarray,
    value: float,
    lo: float,
    hi: float,
    label: str,
    thresholds: tuple[float, float] | None = None,
    position: str | tuple[int, int] = "right",
) -> np.ndarray:
    """Draw a vertical bar gauge filled from ``lo`` (bottom) to ``value``.

    Parameters
    ----------
    value : float
        Shown as a number under the bar; NaN leaves the bar empty ("--").
    lo, hi : float
        Range of the bar; values outside are drawn at the end.
    label : str
        Name above the bar (e.g. "lumbar").
    thresholds : (caution, fault), optional
        The fill is green before ``caution``, amber before ``fault`` and red
        beyond. If ``caution > fault``, *low* values are the bad ones (e.g.
        hip depth). Ticks mark both thresholds.
    position : "right", "left" or (x, y)
        Middle of the left or right edge, or the bar's top-left pixel.
    """
    if not hi > lo:
        raise ValueError(f"gauge range must have hi > lo, got lo={lo}, hi={hi}")
    scale = _scale(frame)
    font_scale, thickness = _font_scale(frame), _thickness(frame)
    bar_w, bar_h = max(8, int(22 * scale)), max(40, int(0.4 * frame.shape[0]))
    margin = int(12 * scale) + 4
    label_w, text_h = _text_size(label, font_scale, thickness)
    if isinstance(position, str):
        if position not in ("left", "right"):
            raise ValueError(f"position must be 'left', 'right' or (x, y), got {position!r}")
        x = margin + max(0, (label_w - bar_w) // 2)
        if position == "right":
            x = frame.shape[1] - x - bar_w
        y = (frame.shape[0] - bar_h) // 2
    else:
        x, y = int(position[0]), int(position[1])

    def y_of(v: float) -> int:
        return int(round(y + bar_h - (np.clip(v, lo, hi) - lo) / (hi - lo) * bar_h))

    _darken(frame, x, y, bar_w, bar_h)
    if np.isfinite(value):
        cv2.rectangle(frame, (x, y_of(value)), (x + bar_w, y + bar_h), _gauge_color(value, thresholds), -1)
    cv2.rectangle(frame, (x, y), (x + bar_w, y + bar_h), WHITE, max(1, thickness // 2), cv2.LINE_AA)
    if thresholds is not None:
        for threshold, tick_color in zip(thresholds, (AMBER, RED)):
            if np.isfinite(threshold) and lo <= threshold <= hi:
                tick_y = y_of(threshold)
                overhang = bar_w // 3
                cv2.line(frame, (x - overhang, tick_y), (x + bar_w + overhang, tick_y), tick_color, thickness, cv2.LINE_AA)
    center_x = x + bar_w / 2.0
    _put_text(frame, label, (center_x - label_w / 2.0, y - text_h // 2 - 2), font_scale, WHITE, thickness)
    value_text = f"{value:.0f}" if np.isfinite(value) else "--"
    value_w, value_h = _text_size(value_text, font_scale, thickness)
    value_origin = (center_x - value_w / 2.0, y + bar_h + value_h + text_h // 2 + 2)
    _put_text(frame, value_text, value_origin, font_scale, WHITE, thickness)
    return frame


def draw_text_panel(frame: np.ndarray, lines: Sequence[str], corner: str = "bottom-left") -> np.ndarray:
    """Draw lines of small text on a darkened box in a corner (fps, latency, key angles)."""
    lines = [str(line) for line in lines]
    if not lines:
        return frame
    font_scale, thickness = 0.85 * _font_scale(frame), _thickness(frame)
    pad = int(6 * _scale(frame)) + 2
    line_h = _text_size("Ag", font_scale, thickness)[1]
    line_gap = max(2, line_h // 2)
    box_w = max(_text_size(line, font_scale, thickness)[0] for line in lines) + 2 * pad
    box_h = 2 * pad + len(lines) * line_h + (len(lines) - 1) * line_gap
    x, y = _anchor(frame, box_w, box_h, corner)
    _darken(frame, x, y, box_w, box_h)
    for i, line in enumerate(lines):
        baseline_y = y + pad + line_h + i * (line_h + line_gap)
        _put_text(frame, line, (x + pad, baseline_y), font_scale, WHITE, thickness, outline=False)
    return frame


# ---------------------------------------------------------------------------- helpers
def _scale(frame: np.ndarray) -> float:
    """Size of drawings relative to a 720 px frame (by its shorter side)."""
    return min(frame.shape[:2]) / 720.0


def _font_scale(frame: np.ndarray) -> float:
    return max(0.42, 0.7 * _scale(frame))


def _thickness(frame: np.ndarray) -> int:
    return max(1, int(round(2.0 * _scale(frame))))


def _fixed(xy: np.ndarray) -> np.ndarray:
    """Pixel coordinates as int32 fixed point for OpenCV's ``shift`` argument."""
    # Clip so absurd coordinates cannot overflow OpenCV's int arithmetic; NaN
    # rows become 0 here and callers skip them.
    return np.round(np.nan_to_num(np.clip(xy, -1e5, 1e5)) * _SUBPIXEL).astype(np.int32)


def _runs(mask: np.ndarray) -> list[slice]:
    """Slices of consecutive True values."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [slice(start, stop) for start, stop in zip(edges[::2], edges[1::2])]


def _anchor(frame: np.ndarray, box_w: int, box_h: int, corner: str) -> tuple[int, int]:
    if corner not in _CORNERS:
        raise ValueError(f"corner must be one of {_CORNERS}, got {corner!r}")
    margin = int(10 * _scale(frame)) + 4
    x = margin if corner.endswith("left") else frame.shape[1] - margin - box_w
    y = margin if corner.startswith("top") else frame.shape[0] - margin - box_h
    return x, y


def _darken(frame: np.ndarray, x: int, y: int, width: int, height: int, keep: float = 0.35) -> None:
    """Dim a rectangle so text on it reads whatever the video shows."""
    region = frame[max(0, y) : max(0, y + height), max(0, x) : max(0, x + width)]
    np.multiply(region, keep, out=region, casting="unsafe")


def _text_size(text: str, font_scale: float, thickness: int) -> tuple[int, int]:
    """(width, height above baseline) of ``text``, counting each ``°`` as a ring."""
    parts = text.split("°")
    width = sum(cv2.getTextSize(part, _FONT, font_scale, thickness)[0][0] for part in parts if part)
    height = cv2.getTextSize("A", _FONT, font_scale, thickness)[0][1]
    return width + (len(parts) - 1) * _degree_ring_width(font_scale), height


def _degree_ring_width(font_scale: float) -> int:
    return int(round(12 * font_scale)) + 2


def _put_text(
    frame: np.ndarray,
    text: str,
    origin: tuple[float, float],
    font_scale: float,
    color: tuple[int, int, int],
    thickness: int,
    outline: bool = True,
) -> None:
    """Text with its baseline starting at ``origin``, optionally outlined in black."""
    x, y = int(round(origin[0])), int(round(origin[1]))
    ring_w = _degree_ring_width(font_scale)
    height = cv2.getTextSize("A", _FONT, font_scale, thickness)[0][1]
    passes = [(BLACK, thickness + 2), (color, thickness)] if outline else [(color, thickness)]
    for pass_color, pass_thickness in passes:
        cursor = x
        for i, part in enumerate(text.split("°")):
            if i:  # a degree sign before this part
                radius = max(2, ring_w // 3)
                ring_center = (cursor + radius + 1, y - height + radius)
                cv2.circle(frame, ring_center, radius, pass_color, max(1, pass_thickness - 1), cv2.LINE_AA)
                cursor += ring_w
            if part:
                cv2.putText(frame, part, (cursor, y), _FONT, font_scale, pass_color, pass_thickness, cv2.LINE_AA)
                cursor += cv2.getTextSize(part, _FONT, font_scale, thickness)[0][0]


def _wrap(text: str, max_width: int, font_scale: float, thickness: int) -> list[str]:
    """Greedy word wrap to ``max_width`` pixels (a single over-long word keeps its own line)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if current and _text_size(candidate, font_scale, thickness)[0] > max_width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines


def _gauge_color(value: float, thresholds: tuple[float, float] | None) -> tuple[int, int, int]:
    if thresholds is None:
        return CYAN
    caution, fault = thresholds
    if caution > fault:  # low values are the bad ones: mirror the comparison
        value, caution, fault = -value, -caution, -fault
    if value >= fault:
        return RED
    if value >= caution:
        return AMBER
    return GREEN
