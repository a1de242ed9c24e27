"""The bar in metres: scale from the plate, path, speed and the events of a rep.

The pose stage follows the barbell's near plate in pixels
(:mod:`formcheck.pose.plate`; ``PoseTrack.plate``). A standard plate is
450 mm across (``DEFAULT_PLATE_DIAMETER_M``; ``--plate-diameter`` for
others), and it moves in a plane parallel to itself, so its radius in pixels
is the scale of the bar's own plane: vertical distances from the ellipse's
major (vertical) axis, horizontal ones from its minor axis (an oblique camera
shortens both the plate and the path across the picture by the same factor).

Per-frame signals (:func:`bar_signals`, keys and units in :data:`UNITS`):

``bar_x``, ``bar_y``      the plate's centre in the picture (px).
``bar_height``            height of the bar above the floor (m): the plate's
                          centre rests one plate radius above it, at the
                          lowest level it is seen at.
``bar_forward``           horizontal position (m), + toward where the lifter
                          faces, from where the bar is first seen.
``bar_velocity``          vertical speed (m/s, + up), from the height after
                          outlier rejection and a zero-lag 6 Hz low-pass.

Per rep (:func:`rep_bar_metrics`, pure functions of time and height, so the
synthetic truth computes its own with the same code): the bar **leaves the
floor** when it first rises ``LIFT_OFF_M`` above its set-up height, reaches
**lockout** when it comes within ``LOCKOUT_M`` of the rep's highest point, and is
**back down** when it returns within ``LIFT_OFF_M`` of its set-up height. The
**mean concentric velocity** is the rise between those two crossings over the
time between them (crossing times interpolated between frames); the **peak
concentric velocity** the highest vertical speed between them; the **bar
drift** the largest horizontal distance from the set-up position while the bar
is off the floor (cm, + forward, − back toward the lifter).

>>> t = np.arange(0, 4, 1 / 30)
>>> h = 0.225 + 0.5 * np.clip(np.minimum(t - 0.5, 3.0 - t), 0, 1)   # up 0.5 m at 0.5 m/s, held, lowered
>>> m = rep_bar_metrics(t, h, np.zeros_like(t), 0, len(t) - 1)
>>> round(m["mean_concentric_velocity_m_s"], 3), round(m["peak_concentric_velocity_m_s"], 3), m["bar_drift_cm"]
(0.5, 0.5, 0.0)
"""

from __future__ import annotations

import numpy as np

from formcheck.measure.held import hold_frames, sustained_max, sustained_min
from formcheck.pose.filters import smooth_offline
from formcheck.pose.track import PoseTrack

#: Diameter of a standard (20 kg / 45 lb, bumper or iron) plate, and the range accepted.
DEFAULT_PLATE_DIAMETER_M = 0.45
PLATE_DIAMETER_RANGE_MM = (150.0, 600.0)
#: The bar has left the floor (and is back down) this far above (within) its set-up height.
LIFT_OFF_M = 0.02
#: Lockout: within this of the rep's highest point.
LOCKOUT_M = 0.02
#: Low-pass cut-off for the bar's height and position (Hz).
CUTOFF_HZ = 6.0
#: The top and set-up heights are levels the bar holds this long (s): a few frames of
#: a wrong circle must not move them (the set-up's hold is short: a rep's window may
#: hold only a few frames of the bar resting before the pull).
TOP_HOLD_S, SETUP_HOLD_S = 0.1, 0.05
#: The drift is a deviation the bar holds this long (s): one noisy frame must not set it (or its sign).
DRIFT_HOLD_S = 0.1
#: Speed and drift are withheld where the plate says its scale cannot be trusted: seen at an
#: angle (minor/major axis below this: a camera turned off the side, or low and tilted up,
#: where the plate's distance changes through the pull), or small in the picture (radius in px).
MIN_TRUSTED_ASPECT = 0.955
MIN_TRUSTED_RADIUS_PX = 35.0
#: The per-rep metrics that rest on the scale (withheld together; the rise and the events stay).
SCALED_METRICS = ("mean_concentric_velocity_m_s", "peak_concentric_velocity_m_s", "bar_drift_cm")
#: How the report's note on a withheld scale ends (scorers look for it).
SCALE_WITHHELD = "bar speed and drift not reported"

UNITS: dict[str, str] = {
    "bar_x": "px",
    "bar_y": "px",
    "bar_height": "m",
    "bar_forward": "m",
    "bar_velocity": "m_s",
}
#: Per-rep metrics and their units.
REP_METRICS = {
    "mean_concentric_velocity_m_s": "m/s",
    "peak_concentric_velocity_m_s": "m/s",
    "bar_drift_cm": "cm",
    "bar_rise_m": "m",
}


def plate_diameter_m(millimetres: float) -> float:
    """A plate diameter given in millimetres, in metres; ValueError outside ``PLATE_DIAMETER_RANGE_MM``.

    >>> plate_diameter_m(450)
    0.45
    """
    low, high = PLATE_DIAMETER_RANGE_MM
    if not low <= float(millimetres) <= high:
        raise ValueError(f"a plate diameter of {millimetres:g} mm is not a barbell plate ({low:g}–{high:g} mm)")
    return float(millimetres) / 1000.0


def plate_radius_px(track: PoseTrack) -> float:
    """The plate's radius in pixels: the clip radius the pose stage found, else the
    median of the per-frame radii (a live track), NaN without a plate."""
    info = track.meta.get("plate") or {}
    radius = info.get("radius_px")
    if radius and not info.get("refused"):
        return float(radius)
    radii = track.plate[:, 2]
    return float(np.nanmedian(radii)) if np.isfinite(radii).any() else float("nan")


def plate_aspect(track: PoseTrack) -> float:
    """Minor/major axis ratio of the plate's ellipse (1 when not known)."""
    aspect = (track.meta.get("plate") or {}).get("aspect")
    return float(aspect) if aspect else 1.0


def scale_withheld_reason(track: PoseTrack) -> str:
    """Why the bar's speed and drift cannot be trusted in this clip ("" when they can),
    from the plate's own evidence: its ellipse's aspect and its radius in pixels.

    Rendered deadlifts (``synthetic_grid.py --rescore``): a phone on the floor close by,
    tilted up, sees the plate at aspect 0.91–0.95 and read speeds up to 0.99 m/s wrong; a
    camera turned 30° at 0.95 gave 5–9 cm path errors; a plate 29 px in radius read 0.68
    m/s wrong. Square-on side views see 0.96–0.99.

    >>> from formcheck.pose.track import PoseTrack
    >>> scale_withheld_reason(PoseTrack.empty((640, 480), {"plate": {"radius_px": 30.0, "aspect": 0.98}}))
    'the plate is small in the picture (30 px across its radius): bar speed and drift not reported'
    >>> scale_withheld_reason(PoseTrack.empty((640, 480), {"plate": {"radius_px": 60.0, "aspect": 0.98}}))
    ''
    """
    radius, aspect = plate_radius_px(track), plate_aspect(track)
    if not np.isfinite(radius):
        return ""
    if aspect < MIN_TRUSTED_ASPECT:
        return (f"the plate is seen at an angle (its outline {aspect:.2f} as wide as tall: camera turned or "
                f"tilted): {SCALE_WITHHELD}")
    if radius < MIN_TRUSTED_RADIUS_PX:
        return f"the plate is small in the picture ({radius:.0f} px across its radius): {SCALE_WITHHELD}"
    return ""


def bar_signals(track: PoseTrack, facing: int, plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M) -> dict[str, np.ndarray]:
    """Per-frame bar signals (module docstring); empty when the track has no plate.

    Parameters
    ----------
    track : PoseTrack
        With ``plate`` from the pose stage.
    facing : int
        +1 when the lifter faces image right, −1 left, 0 unknown (then
        ``bar_forward`` is + to the image right).
    plate_diameter_m : float
        The plates' diameter.

    >>> from formcheck.pose.track import PoseTrack
    >>> bar_signals(PoseTrack.empty((640, 480)), 1)
    {}
    """
    xy = np.asarray(track.plate[:, :2], np.float64)
    seen = np.isfinite(xy[:, 0])
    radius = plate_radius_px(track)
    if seen.sum() < 3 or not np.isfinite(radius) or radius <= 0:
        return {}
    t = np.asarray(track.time_s, np.float64)
    metres_per_px = 0.5 * plate_diameter_m / radius
    across = metres_per_px / max(plate_aspect(track), 1e-3)
    smooth = smooth_offline(xy, t, CUTOFF_HZ, max_gap_s=0.25) if len(t) >= 4 else xy.copy()
    smooth[~seen] = np.nan
    floor_y = float(np.nanmax(smooth[:, 1]))
    height = (floor_y - smooth[:, 1]) * metres_per_px + 0.5 * plate_diameter_m
    first_x = smooth[np.flatnonzero(seen)[0], 0]
    forward = (1 if facing >= 0 else -1) * (smooth[:, 0] - first_x) * across
    return {
        "bar_x": xy[:, 0],
        "bar_y": xy[:, 1],
        "bar_height": height,
        "bar_forward": forward,
        "bar_velocity": vertical_velocity(t, height),
    }


def vertical_velocity(time_s: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Time derivative of ``height`` (central differences; NaN where a neighbour is missing).

    >>> vertical_velocity(np.array([0.0, 0.1, 0.2, 0.3]), np.array([0.0, 0.1, 0.2, 0.3]))
    array([1., 1., 1., 1.])
    """
    if len(height) < 2:
        return np.full(len(height), np.nan)
    return np.gradient(np.asarray(height, np.float64), np.asarray(time_s, np.float64))


def crossing_time(time_s: np.ndarray, values: np.ndarray, level: float, start: int, rising: bool) -> tuple[float, int]:
    """First time from frame ``start`` on at which ``values`` crosses ``level``
    (upward when ``rising``), interpolated between frames, and the frame after
    the crossing; (NaN, −1) when it never does.

    >>> crossing_time(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 3.0]), 2.0, 0, True)
    (1.5, 2)
    """
    v = np.asarray(values, np.float64)
    for i in range(max(start, 1), len(v)):
        a, b = v[i - 1], v[i]
        if not (np.isfinite(a) and np.isfinite(b)):
            continue
        if (a < level <= b) if rising else (a > level >= b):
            return float(time_s[i - 1] + (level - a) / (b - a) * (time_s[i] - time_s[i - 1])), i
    return float("nan"), -1


def rep_bar_events(time_s: np.ndarray, height: np.ndarray, start: int, end: int) -> dict[str, float]:
    """The bar's events in frames ``start``…``end`` of a rep (times in s, NaN when not seen):
    ``floor_s`` (leaves the floor), ``lockout_s``, ``down_s`` (back down), and the
    levels they were judged against (``setup_m``, ``top_m``)."""
    nan = float("nan")
    out = {"floor_s": nan, "lockout_s": nan, "down_s": nan, "setup_m": nan, "top_m": nan}
    h = np.asarray(height, np.float64)
    end = min(end, len(h) - 1)
    window = h[start : end + 1]
    if end - start < 3 or np.isfinite(window).sum() < 3:
        return out
    t = np.asarray(time_s, np.float64)
    hold = hold_frames(t, TOP_HOLD_S)
    top, top_frame = sustained_max(h, np.arange(start, end + 1), hold)
    if top_frame < 0:
        return out
    top_frame += int(np.nanargmax(h[top_frame : top_frame + hold]))
    setup, low = sustained_min(h, np.arange(start, top_frame + 1), hold_frames(t, SETUP_HOLD_S))
    if low < 0:
        return out
    out.update(setup_m=setup, top_m=top)
    if top - setup < LIFT_OFF_M + LOCKOUT_M:
        return out
    # It leaves the floor for good where it last rises through the level before the top
    # (jitter of a bar resting on the floor crosses it too).
    with np.errstate(invalid="ignore"):
        below = np.flatnonzero(h[low : top_frame + 1] <= setup + LIFT_OFF_M)
    if len(below) == 0:
        return out
    out["floor_s"], leave = crossing_time(time_s, h, setup + LIFT_OFF_M, low + int(below[-1]), rising=True)
    if leave < 0:
        return out
    out["lockout_s"], _ = crossing_time(time_s, h, top - LOCKOUT_M, leave, rising=True)
    down_s, down = crossing_time(time_s, h[: end + 1], setup + LIFT_OFF_M, top_frame, rising=False)
    out["down_s"] = down_s
    return out


def rep_bar_metrics(time_s: np.ndarray, height: np.ndarray, forward: np.ndarray, start: int, end: int) -> dict[str, float]:
    """Mean and peak concentric velocity (m/s), drift (cm) and rise (m) of one rep
    (frames ``start``…``end``; module docstring). NaN where the bar was not seen."""
    t = np.asarray(time_s, np.float64)
    h = np.asarray(height, np.float64)
    nan = float("nan")
    out = {key: nan for key in REP_METRICS}
    ev = rep_bar_events(t, h, start, end)
    if not (np.isfinite(ev["floor_s"]) and np.isfinite(ev["lockout_s"])) or ev["lockout_s"] <= ev["floor_s"]:
        return out
    rise = (ev["top_m"] - LOCKOUT_M) - (ev["setup_m"] + LIFT_OFF_M)
    out["mean_concentric_velocity_m_s"] = rise / (ev["lockout_s"] - ev["floor_s"])
    out["bar_rise_m"] = ev["top_m"] - ev["setup_m"]
    concentric = (t >= ev["floor_s"]) & (t <= ev["lockout_s"])
    v = vertical_velocity(t, h)
    if np.isfinite(v[concentric]).any():
        out["peak_concentric_velocity_m_s"] = float(np.nanmax(v[concentric]))
    # Drift: from the set-up position (where it left the floor) while the bar is off the floor.
    f = np.asarray(forward, np.float64)
    off_floor = (t >= ev["floor_s"]) & (t <= (ev["down_s"] if np.isfinite(ev["down_s"]) else t[min(end, len(t) - 1)]))
    leave = int(np.searchsorted(t, ev["floor_s"]))
    reference = f[max(leave - 1, 0)] if np.isfinite(f[max(leave - 1, 0)]) else np.nan
    moved = np.where(off_floor, f - reference, np.nan)
    frames = np.flatnonzero(off_floor)
    hold = hold_frames(t, DRIFT_HOLD_S)
    ahead, _ = sustained_max(moved, frames, hold)
    behind, _ = sustained_min(moved, frames, hold)
    if np.isfinite(ahead) and np.isfinite(behind):  # the larger of the two held deviations, with its sign
        out["bar_drift_cm"] = 100.0 * (ahead if abs(ahead) >= abs(behind) else behind)
    return out
