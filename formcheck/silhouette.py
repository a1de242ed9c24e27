"""Silhouette geometry: where the person's mask ends on each side of the trunk."""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.track import TRUNK_STATIONS

_STEP_PX = 0.5


def trunk_edges_from_mask(
    mask: np.ndarray, hip_xy, shoulder_xy, stations: int = TRUNK_STATIONS
) -> np.ndarray:
    """Mask boundary points on both sides of the hip→shoulder line.

    Parameters
    ----------
    mask : ndarray, shape (H, W)
        Person mask, float in [0, 1] (or bool/uint8 0/1).
    hip_xy, shoulder_xy : array-like, shape (2,)
        Hip and shoulder midpoints in the mask's pixel coordinates.
    stations : int
        Evenly spaced stations from the hip (0) to the shoulder (last).

    Returns
    -------
    ndarray, shape (stations, 2, 2)
        ``[station, side] → (x, y)``; side 0 lies along the +normal (the
        hip→shoulder direction turned 90° clockwise on screen), side 1 along
        −normal. NaN where the mask has no edge within one trunk length, or
        the axis point itself is outside the mask.
    """
    hip = np.asarray(hip_xy, np.float64)
    shoulder = np.asarray(shoulder_xy, np.float64)
    out = np.full((stations, 2, 2), np.nan, np.float32)
    axis = shoulder - hip
    length = float(np.hypot(*axis))
    if not np.isfinite(length) or length < 4:
        return out
    along = axis / length
    normal = np.array([-along[1], along[0]])
    base = hip + np.linspace(0.0, 1.0, stations)[:, None] * axis  # (S, 2)
    steps = np.arange(0.0, length, _STEP_PX)  # (K,)
    values = np.asarray(mask, np.float32)
    for side, sign in enumerate((1.0, -1.0)):
        points = base[:, None, :] + sign * steps[None, :, None] * normal  # (S, K, 2)
        sampled = cv2.remap(
            values, points[..., 0].astype(np.float32), points[..., 1].astype(np.float32),
            cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
        )
        outside = sampled < 0.5
        first = np.argmax(outside, axis=1)  # first step outside the mask
        found = outside.any(axis=1) & (first > 0)
        rows = np.flatnonzero(found)
        k = first[rows]
        inside_value = sampled[rows, k - 1]
        outside_value = sampled[rows, k]
        # Sub-pixel: linear interpolation of where the mask crosses 0.5.
        frac = (inside_value - 0.5) / np.maximum(inside_value - outside_value, 1e-6)
        distance = steps[k - 1] + np.clip(frac, 0.0, 1.0) * _STEP_PX
        out[rows, side] = base[rows] + sign * distance[:, None] * normal
    return out
