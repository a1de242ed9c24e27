"""Trunk outline from a person mask: the edge points stored in ``PoseTrack.trunk_edges``.

Used on MediaPipe's segmentation mask by the pose stage and on the exact
rendered silhouette by the synthetic-data factory, so both produce the same
kind of numbers.
"""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.track import TRUNK_STATIONS


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
    """
    out = np.full((stations, 2, 2), np.nan, np.float32)
    hip = np.asarray(hip_xy, np.float64).reshape(2)
    shoulder = np.asarray(shoulder_xy, np.float64).reshape(2)
    axis = shoulder - hip
    length = float(np.hypot(*axis))
    if not np.isfinite(length) or length < 1.0 or stations < 1:
        return out
    a = axis / length
    normal = np.array([-a[1], a[0]])
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
