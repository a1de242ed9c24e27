"""The back's outline in trunk coordinates, and the kink between its lower and upper halves.

Pure functions over a :class:`~formcheck.pose.track.PoseTrack`'s ``trunk_edges``
(see :mod:`formcheck.spine` for the method).
"""

from __future__ import annotations

import numpy as np

from formcheck.measure.kinematics import Kinematics, midpoint
from formcheck.pose.filters import nan_median_filter, odd_window
from formcheck.pose.track import PoseTrack

#: Part of the hip→shoulder line whose back outline is used (fractions).
TRIM = (0.1, 0.9)

#: Where the lower and upper line fits meet (fraction of the hip→shoulder line).
SPLIT = 0.5

#: Edge points are stored in float32: a station at exactly ``TRIM`` or
#: ``SPLIT`` may land this far off (trunk lengths).
STATION_TOLERANCE = 1e-4

#: Fewest valid stations each half needs (of 9 with 21 stations).
MIN_POINTS_PER_HALF = 6

#: Outlier limits for edge points, in trunk lengths.
MAX_FIT_RESIDUAL = 0.03

MAX_TIME_JUMP = 0.05

TIME_JUMP_MEDIAN_S = 0.3

#: A back point must lie this far out from the hip–shoulder line (trunk lengths).
DEPTH_RANGE = (0.02, 0.6)


def dorsal_side(track: PoseTrack, kin: Kinematics) -> tuple[int | None, str]:
    """Which ``trunk_edges`` side is the back (0 or 1), or None with a reason.

    The back is away from where the lifter faces; in a hinge with the hands
    below the hips they hang on the front side, which must not contradict it.
    """
    xy = track.xy.astype(np.float64)
    hip, shoulder, wrist = (midpoint(xy, k) for k in ("hip", "shoulder", "wrist"))
    axis = shoulder - hip
    normal = np.stack([-axis[:, 1], axis[:, 0]], axis=-1)  # side 0 direction (unnormalised)
    hands = np.einsum("nd,nd->n", wrist - hip, normal) / np.maximum(np.sum(axis**2, axis=-1), 1e-9)
    # Hands hang in front only in a hinge with the hands low (not a back squat's bar).
    with np.errstate(invalid="ignore"):
        bent = (np.asarray(kin["trunk_inclination"]) > 30.0) & (kin["wrist_height"] < kin["hip_height"])
    hands_vote = np.sign(np.nanmedian(hands[bent])) if np.isfinite(hands[bent]).sum() >= 3 else 0.0
    hands_side = None if hands_vote == 0 else (1 if hands_vote > 0 else 0)  # back is opposite the hands
    if kin.facing != 0:
        # Facing image right: side 0 (clockwise normal of an upright trunk) points right = front.
        side = 1 if kin.facing > 0 else 0
        if hands_side is not None and hands_side != side:
            return None, "could not tell which side is the back (the hands and the face disagree)"
        return side, ""
    if hands_side is not None:
        return hands_side, ""
    return None, "could not tell which side is the back (the lifter's facing is unknown)"


def back_profile(
    track: PoseTrack, side: int, hip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Back outline in trunk coordinates, with outliers removed.

    ``hip`` (n, 2) replaces the model's hip midpoint as the line's lower end
    (e.g. :func:`formcheck.spine.pelvis.silhouette_hip`).

    Returns
    -------
    s, d : ndarray, shape (n, k)
        Position along the hip→shoulder line and distance out to the back, in
        trunk lengths (NaN where missing, trimmed or rejected).
    points : ndarray, shape (n, k, 2)
        The accepted points in image pixels.
    noise : ndarray, shape (n,)
        RMS distance of the accepted points from a smooth (cubic) outline, in
        trunk lengths: how ragged the edge is.
    """
    s, d, edge = edge_profile(track, side, hip)
    with np.errstate(invalid="ignore"):
        keep = _in_range(_positions(s, hip is not None), TRIM)
        bad = ~keep | ~np.isfinite(d) | (d < DEPTH_RANGE[0]) | (d > DEPTH_RANGE[1])
    d = np.where(bad, np.nan, d)
    d = _reject_time_jumps(d, track.time_s)
    d, noise = _reject_shape_outliers(np.where(np.isfinite(d), s, np.nan), d)
    s = np.where(np.isfinite(d), s, np.nan)
    points = np.where(np.isfinite(d)[..., None], edge, np.nan)
    return s, d, points, noise


def edge_profile(
    track: PoseTrack, side: int, hip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One side's ``trunk_edges`` in trunk coordinates.

    The line runs from the model's hip midpoint, or ``hip`` (n, 2) when
    given, to the shoulder midpoint.

    Returns
    -------
    s, d : ndarray, shape (n, k)
        Distance along the hip→shoulder line and out from it on that side,
        in trunk lengths (NaN where the edge is missing).
    edge : ndarray, shape (n, k, 2)
        The same points in image pixels.
    """
    xy = track.xy.astype(np.float64)
    shoulder = midpoint(xy, "shoulder")
    hip = midpoint(xy, "hip") if hip is None else np.asarray(hip, np.float64)
    axis = shoulder - hip
    length = np.linalg.norm(axis, axis=-1)
    edge = track.trunk_edges[:, :, side].astype(np.float64)
    rel = edge - hip[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        along = axis / length[:, None]
        # Side 0 lies along the clockwise normal (-ay, ax); side 1 opposite.
        outward = np.stack([-along[:, 1], along[:, 0]], axis=-1) * (1.0 if side == 0 else -1.0)
        s = np.einsum("nkd,nd->nk", rel, along) / length[:, None]
        d = np.einsum("nkd,nd->nk", rel, outward) / length[:, None]
    return s, d, edge


def station_fractions(stations: int) -> np.ndarray:
    """Fractions of the hip→shoulder line at which ``trunk_edges`` are sampled."""
    return np.linspace(0.0, 1.0, stations)


def kink_angle(s: np.ndarray, d: np.ndarray, placed_hip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Angle between lines fitted to the lower and upper halves of the back.

    Parameters
    ----------
    s, d : ndarray, shape (n, k)
        Back profile from :func:`back_profile` (NaN = no point).
    placed_hip : bool
        The profile was measured from a placed hip (:func:`back_profile`
        with ``hip``): trim and split by each point's ``s`` rather than by
        its station.

    Returns
    -------
    kink : ndarray, shape (n,)
        Degrees, + convex (rounded), − concave (arched); NaN when a half has
        fewer than ``MIN_POINTS_PER_HALF`` points.
    used : ndarray, shape (n,)
        Share of the trimmed stations that were usable.

    Examples
    --------
    A back bowed outward at mid-trunk (lower half rising out at 0.2 trunk
    lengths per trunk length, upper half coming back in) is convex:

    >>> import numpy as np
    >>> s = station_fractions(21)[None, :]
    >>> d = 0.1 + 0.2 * np.minimum(s, 1 - s)
    >>> kink, used = kink_angle(s, d)
    >>> round(float(kink[0]), 1), float(used[0])
    (22.6, 1.0)
    """
    valid = np.isfinite(s) & np.isfinite(d)
    position = _positions(s, placed_hip)
    with np.errstate(invalid="ignore"):
        trimmed = valid & _in_range(position, TRIM)
        slope_lo, n_lo = _line_slope(s, d, trimmed & _in_range(position, (-np.inf, SPLIT)))
        slope_hi, n_hi = _line_slope(s, d, trimmed & _in_range(position, (SPLIT, np.inf)))
    enough = (n_lo >= MIN_POINTS_PER_HALF) & (n_hi >= MIN_POINTS_PER_HALF)
    kink = np.where(enough, np.degrees(np.arctan(slope_lo) - np.arctan(slope_hi)), np.nan)
    # Stations in the trimmed range on the model's own line (17 of 21).
    expected = int(round((TRIM[1] - TRIM[0]) * (s.shape[1] - 1))) + 1
    used = np.minimum(trimmed.sum(axis=1) / expected, 1.0)
    return kink, used


def _positions(s: np.ndarray, placed_hip: bool) -> np.ndarray:
    """Where each station's point lies along the line, for trimming and splitting.

    From the model's hip, the station's own fraction (the line the pose stage
    sampled, before smoothing moved the landmarks); from a placed hip, the
    point's position ``s`` on the new line.
    """
    return s if placed_hip else np.broadcast_to(station_fractions(s.shape[-1]), s.shape)


def _in_range(s: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """``bounds[0] <= s <= bounds[1]``, with a tolerance for stations stored in float32."""
    return (s >= bounds[0] - STATION_TOLERANCE) & (s <= bounds[1] + STATION_TOLERANCE)


def _line_slope(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope of y against x per row over the masked entries, and the count."""
    x0, y0 = np.where(mask, x, 0.0), np.where(mask, y, 0.0)
    n = mask.sum(axis=1).astype(np.float64)
    sx, sy = x0.sum(axis=1), y0.sum(axis=1)
    den = n * (x0 * x0).sum(axis=1) - sx * sx
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(np.abs(den) > 1e-12, (n * (x0 * y0).sum(axis=1) - sx * sy) / den, np.nan)
    return slope, n


#: Frames fitted at a time (memory of the per-frame cubic fits on long videos).
FRAME_BLOCK = 2048


def _reject_shape_outliers(s: np.ndarray, d: np.ndarray, rounds: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Drop points further than ``MAX_FIT_RESIDUAL`` from a cubic through each
    frame's profile (refitted after each round); also returns the RMS
    residual of the kept points (edge noise, trunk lengths; NaN if too few).
    Each frame stands alone, so long videos go through in blocks of frames
    (bounded memory)."""
    if len(d) > FRAME_BLOCK:
        parts = [_reject_shape_outliers(s[i : i + FRAME_BLOCK], d[i : i + FRAME_BLOCK], rounds)
                 for i in range(0, len(d), FRAME_BLOCK)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    d = d.copy()
    rms = np.full(len(d), np.nan)
    for _ in range(rounds):
        valid = np.isfinite(s) & np.isfinite(d)
        enough = valid.sum(axis=1) >= 8
        if not enough.any():
            break
        x = np.where(valid, s, 0.0)
        basis = np.stack([np.ones_like(x), x, x * x, x * x * x], axis=-1)  # (n, k, 4)
        weighted = basis * valid[..., None]
        ata = np.einsum("nki,nkj->nij", weighted, weighted)[enough] + 1e-9 * np.eye(4)
        atb = np.einsum("nki,nk->ni", weighted, np.where(valid, d, 0.0))[enough]
        coef = np.linalg.solve(ata, atb[..., None])[..., 0]
        resid = np.full(d.shape, np.nan)
        resid[enough] = np.abs(d[enough] - np.einsum("nki,ni->nk", basis[enough], coef))
        with np.errstate(invalid="ignore"):
            kept = resid <= MAX_FIT_RESIDUAL
            d[resid > MAX_FIT_RESIDUAL] = np.nan
            rms[enough] = np.sqrt(np.sum(np.where(kept, resid, 0.0) ** 2, axis=1) / np.maximum(kept.sum(axis=1), 1))[enough]
    return d, rms


def _reject_time_jumps(d: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Drop points that jump away from the same station's running median (≈ 0.3 s)."""
    if len(d) < 5:
        return d
    median = nan_median_filter(d, odd_window(time_s, TIME_JUMP_MEDIAN_S))  # every station at once
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(d - median) > MAX_TIME_JUMP, np.nan, d)
