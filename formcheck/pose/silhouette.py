"""Trunk outline from a person mask: the edge points stored in ``PoseTrack.trunk_edges``
and the contours stored in ``PoseTrack.trunk_outlines``.

Used on MediaPipe's segmentation mask by the pose stage and on the exact
rendered silhouette by the synthetic-data factory, so both produce the same
kind of numbers.
"""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.pose.track import OUTLINE_POINTS, TRUNK_STATIONS


def trunk_edges_from_mask(
    mask: np.ndarray,
    hip_xy: np.ndarray,
    shoulder_xy: np.ndarray,
    stations: int = TRUNK_STATIONS,
    threshold: float = 0.5,
    step_px: float = 0.5,
) -> np.ndarray:
    """Silhouette edge points on both sides of the hip→shoulder axis.

    At ``stations`` evenly spaced points from ``hip_xy`` (station 0) to
    ``shoulder_xy`` (last station), march perpendicular to the axis, on each
    side, until the mask drops below ``threshold``; the crossing is located to
    sub-pixel precision by linear interpolation between bilinear samples.

    Parameters
    ----------
    mask : ndarray (H, W)
        Person mask: float in [0, 1], bool, or uint8 (0/255 or 0/1).
        Pixel centres are at integer coordinates.
    hip_xy, shoulder_xy : array-like (2,)
        Image points (x right, y down), usually landmark midpoints.
    stations : int
    threshold : float
    step_px : float
        Sampling step along each ray.

    Returns
    -------
    ndarray (stations, 2, 2) float32
        ``[k, side] = (x, y)``. With ``a`` the unit hip→shoulder vector, side 0
        is the +normal side, normal ``(-a_y, a_x)`` (``a`` turned 90°
        clockwise on screen), side 1 the opposite. NaN where the station point
        itself lies outside the mask, where no edge is met within one trunk
        length, or when the axis is undefined.

    Examples
    --------
    A 20 px wide upright trunk (columns 20–39), hip below the shoulder:

    >>> mask = np.zeros((100, 60), np.float32)
    >>> mask[10:90, 20:40] = 1.0
    >>> edges = trunk_edges_from_mask(mask, (30, 80), (30, 20), stations=3)
    >>> edges[:, 0]  # side 0: +x here, the axis points up the screen
    array([[39.5, 80. ],
           [39.5, 50. ],
           [39.5, 20. ]], dtype=float32)
    >>> edges[:, 1, 0]
    array([19.5, 19.5, 19.5], dtype=float32)
    """
    out = np.full((stations, 2, 2), np.nan, np.float32)
    frame = _trunk_axis(hip_xy, shoulder_xy)
    if frame is None or stations < 1:
        return out
    hip, axis, normal, length = frame
    values = _as_float_mask(mask)

    base = hip + np.linspace(0.0, 1.0, stations)[:, None] * axis             # (K, 2)
    dist = np.arange(0.0, length + step_px, step_px)                           # (M,)
    signs = np.array([1.0, -1.0])
    rays = (base[None, :, None, :]
            + signs[:, None, None, None] * dist[None, None, :, None] * normal)  # (2, K, M, 2)
    flat = rays.reshape(2 * stations, len(dist), 2).astype(np.float32)
    samples = cv2.remap(values, flat[..., 0], flat[..., 1], cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)      # (2K, M)
    inside = samples >= threshold
    first_out = np.argmax(~inside, axis=1)
    found = inside[:, 0] & (~inside).any(axis=1)
    rows = np.nonzero(found)[0]
    j = first_out[rows]
    v0, v1 = samples[rows, j - 1], samples[rows, j]
    frac = (v0 - threshold) / np.maximum(v0 - v1, 1e-12)
    d = (j - 1 + frac) * step_px
    side, station = rows // stations, rows % stations
    points = base[station] + (signs[side] * d)[:, None] * normal
    out[station, side] = points.astype(np.float32)
    return out


def _trunk_axis(hip_xy, shoulder_xy) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """``(hip, axis, normal, length)`` of the hip→shoulder line: the hip→shoulder
    vector, the unit normal turned clockwise from it (side 0) and its length in
    pixels; None when the line is undefined or shorter than a pixel."""
    hip = np.asarray(hip_xy, np.float64).reshape(2)
    axis = np.asarray(shoulder_xy, np.float64).reshape(2) - hip
    length = float(np.hypot(*axis))
    if not np.isfinite(length) or length < 1.0:
        return None
    along = axis / length
    return hip, axis, np.array([-along[1], along[0]]), length


def _as_float_mask(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    if mask.dtype == np.float32:
        return mask
    if mask.dtype == np.bool_:
        return mask.astype(np.float32)
    if mask.dtype == np.uint8:
        scale = 255.0 if mask.max(initial=0) > 1 else 1.0
        return mask.astype(np.float32) / np.float32(scale)
    return mask.astype(np.float32)


#: Where each outline starts (fraction of the hip→shoulder line) and how much
#: contour it follows from there towards the hips (trunk lengths of arc): on
#: the back, down over the sacrum and buttock to the back of the thigh.
OUTLINE_START = 0.85
OUTLINE_ARC = 1.8


def trunk_outlines_from_mask(
    mask: np.ndarray,
    hip_xy: np.ndarray,
    shoulder_xy: np.ndarray,
    points: int = OUTLINE_POINTS,
    threshold: float = 0.5,
) -> np.ndarray:
    """The silhouette's contour on each side of the trunk, from shoulder level down past the hip.

    On each side of the hip→shoulder axis (sides as in
    :func:`trunk_edges_from_mask`), start at the contour point at
    ``OUTLINE_START`` of the way to the shoulder that lies nearest the axis,
    and follow the mask's outer contour towards the hips for ``OUTLINE_ARC``
    trunk lengths. On the back this is the lower back, the sacrum, the
    buttock and the back of the thigh: the shape the spine stage registers to
    place the hip (:mod:`formcheck.spine.pelvis`).

    Parameters
    ----------
    mask : ndarray (H, W)
        Person mask (as for :func:`trunk_edges_from_mask`).
    hip_xy, shoulder_xy : array-like (2,)
    points : int
        Points per outline, evenly spaced along the contour.
    threshold : float

    Returns
    -------
    ndarray (2, points, 2) float32
        ``[side, i] = (x, y)``; NaN for a side without such a contour.
    """
    out = np.full((2, points, 2), np.nan, np.float32)
    frame = _trunk_axis(hip_xy, shoulder_xy)
    contour = _outer_contour(_as_float_mask(mask) >= threshold) if frame is not None else None
    if contour is None:
        return out
    hip, axis, normal, length = frame
    along = axis / length
    s = (contour - hip) @ along / length
    d = (contour - hip) @ normal / length
    step = np.linalg.norm(np.diff(contour, axis=0, append=contour[:1]), axis=1)
    count = len(contour)
    for side, sign in enumerate((1.0, -1.0)):
        start = np.nonzero((sign * d > 0) & (np.abs(s - OUTLINE_START) < 0.05))[0]
        if not len(start):
            continue
        i0 = int(start[np.argmin(sign * d[start])])
        # Walk the way the contour heads towards the hips.
        probe = max(2, int(0.1 * length))
        direction = 1 if s[(i0 + probe) % count] < s[(i0 - probe) % count] else -1
        walk = (i0 + direction * np.arange(count)) % count
        arc = np.concatenate([[0.0], np.cumsum(step[walk[:-1]] if direction > 0 else step[walk[1:]])])
        if arc[-1] < OUTLINE_ARC * length:
            continue
        target = np.linspace(0.0, OUTLINE_ARC * length, points)
        out[side] = np.stack([np.interp(target, arc, contour[walk, j]) for j in range(2)], axis=1)
    return out


def _outer_contour(inside: np.ndarray) -> np.ndarray | None:
    """Largest outer contour of a boolean mask, (N, 2), lightly smoothed along the curve."""
    contours, _ = cv2.findContours(inside.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)[:, 0, :].astype(np.float64)
    if len(contour) < 50:
        return None
    # Circular Gaussian (sigma 1.5 px) removes the pixel staircase.
    kernel = np.exp(-0.5 * (np.arange(-5, 6) / 1.5) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([contour[-5:], contour, contour[:5]])
    return np.stack([np.convolve(padded[:, j], kernel, mode="valid") for j in range(2)], axis=1)
