"""Hip from the silhouette: register the pelvis part of the dorsal outline against the lifter's standing outline.

Pure functions over numpy arrays (prototype; not in the repo).

Per frame:
1. ``dorsal_outline(mask, hip, shoulder, knee, dorsal)``: the person mask's outer contour, the stretch from
   the back at shoulder level down to the back of the thigh at mid-thigh, resampled every ``STEP_PX`` px.
2. A reference (standing frames): the outline points within ``TEMPLATE`` (trunk lengths along the
   hip→shoulder axis, relative to the model hip) = sacrum + buttock (+ top of the hamstrings), with the
   model hip, which is accurate when standing.
3. ``register``: 2-D rigid ICP (point to nearest outline point, Kabsch), several starting rotations; the
   standing hip carried by the found transform is the hip estimate.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import cKDTree

STEP_PX = 0.5
#: Template: outline points whose position along the standing hip→shoulder axis lies in this range (trunk lengths).
import os
TEMPLATE = tuple(float(v) for v in os.environ.get("TEMPLATE", "-0.25,0.22").split(","))
#: Only outline points within this distance (trunk lengths) of the predicted hip are matched against.
SEARCH_T = 0.6


def outer_contour(mask: np.ndarray, threshold: int = 128) -> np.ndarray | None:
    """Largest outer contour of the thresholded mask, (N, 2) float, lightly smoothed along the curve."""
    binary = (mask >= threshold).astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)[:, 0, :].astype(np.float64)
    if len(c) < 50:
        return None
    # Circular Gaussian smoothing (sigma 1.5 px) removes the pixel staircase.
    k = np.exp(-0.5 * (np.arange(-5, 6) / 1.5) ** 2)
    k /= k.sum()
    padded = np.concatenate([c[-5:], c, c[:5]])
    return np.stack([np.convolve(padded[:, j], k, mode="valid") for j in range(2)], axis=1)


def resample(poly: np.ndarray, step: float) -> np.ndarray:
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] < step:
        return poly
    s = np.arange(0.0, arc[-1], step)
    return np.stack([np.interp(s, arc, poly[:, j]) for j in range(2)], axis=1)


def dorsal_normal(hip: np.ndarray, shoulder: np.ndarray, dorsal: int) -> tuple[np.ndarray, np.ndarray, float]:
    axis = shoulder - hip
    length = float(np.hypot(*axis))
    a = axis / length
    n = np.array([-a[1], a[0]]) * (1.0 if dorsal == 0 else -1.0)
    return a, n, length


def dorsal_outline(mask, hip, shoulder, knee, dorsal) -> np.ndarray | None:
    """Contour stretch from the back at shoulder level to the back of the mid-thigh, resampled."""
    if not (np.all(np.isfinite(hip)) and np.all(np.isfinite(shoulder)) and np.all(np.isfinite(knee))):
        return None
    c = outer_contour(mask)
    if c is None:
        return None
    a, n, T = dorsal_normal(hip, shoulder, dorsal)
    rel = c - hip
    s, d = rel @ a / T, rel @ n / T
    # Back at shoulder level: dorsal contour points near s = 0.9, nearest the axis-normal line.
    top_cand = np.nonzero((d > 0) & (np.abs(s - 0.85) < 0.05))[0]
    # Back of the thigh at mid-thigh.
    tv = knee - hip
    tl = float(np.hypot(*tv))
    if tl < 1 or not len(top_cand):
        return None
    k = tv / tl
    m = np.array([-k[1], k[0]])
    if m @ a > 0:  # the thigh's posterior side faces away from the trunk (hip angle < 180°)
        m = -m
    u, w = rel @ k / tl, rel @ m / tl
    bot_cand = np.nonzero((w > 0) & (np.abs(u - 0.5) < 0.04))[0]
    if not len(bot_cand):
        return None
    i_top = top_cand[np.argmin(d[top_cand])]
    i_bot = bot_cand[np.argmin(w[bot_cand])]
    N = len(c)
    fwd = (i_bot - i_top) % N
    if fwd <= N - fwd:
        idx = (i_top + np.arange(fwd + 1)) % N
    else:
        idx = (i_top - np.arange(N - fwd + 1)) % N
    return resample(c[idx], STEP_PX)


def make_template(outline, hip, shoulder, dorsal, window=TEMPLATE) -> np.ndarray:
    a, n, T = dorsal_normal(hip, shoulder, dorsal)
    s = (outline - hip) @ a / T
    return outline[(s >= window[0]) & (s <= window[1])]


def _kabsch(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ms, md = src.mean(0), dst.mean(0)
    H = (src - ms).T @ (dst - md)
    U, _, Vt = np.linalg.svd(H)
    D = np.diag([1.0, np.sign(np.linalg.det(Vt.T @ U.T))])
    R = Vt.T @ D @ U.T
    return R, md - R @ ms


def rot(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def icp(template, target_tree, target, R0, t0, iters=40, trim=0.9):
    R, t = R0, t0
    err = np.inf
    for _ in range(iters):
        moved = template @ R.T + t
        dist, j = target_tree.query(moved)
        keep = dist <= np.quantile(dist, trim)  # trimmed ICP: ignore the worst 10 % (arm, bar, plate)
        R, t = _kabsch(template[keep], target[j[keep]])
        new_err = float(np.sqrt(np.mean(dist[keep] ** 2)))
        if abs(err - new_err) < 1e-4:
            err = new_err
            break
        err = new_err
    return R, t, err


def register(template, ref_hip, outline, pred_hip, theta0, T, spread_deg=(-20, -10, 0, 10, 20)):
    """Rigid transform of the template onto the outline; returns (hip estimate, rotation rad, rms px)."""
    near = outline[np.linalg.norm(outline - pred_hip, axis=1) < SEARCH_T * T]
    if len(near) < 20 or len(template) < 20:
        return np.full(2, np.nan), np.nan, np.nan
    tree = cKDTree(near)
    best = None
    for dth in spread_deg:
        R0 = rot(theta0 + np.radians(dth))
        t0 = pred_hip - R0 @ ref_hip
        R, t, err = icp(template, tree, near, R0, t0)
        if best is None or err < best[2]:
            best = (R, t, err)
    R, t, err = best
    return R @ ref_hip + t, float(np.arctan2(R[1, 0], R[0, 0])), err


#: Thigh stations (fractions of hip→knee) whose mask midpoints define the thigh's midline.
THIGH_STATIONS = (0.25, 0.6)


def thigh_midline(mask, hip, knee, stations=15):
    """Point and unit direction of the thigh's midline from the mask (both edges, hip→knee stations)."""
    from formcheck.silhouette import trunk_edges_from_mask

    # trunk_edges_from_mask marches perpendicular to any axis: use it on hip→knee extended.
    lo, hi = THIGH_STATIONS
    a = hip + lo * (knee - hip)
    b = hip + hi * (knee - hip)
    e = trunk_edges_from_mask(mask, a, b, stations=stations).astype(np.float64)  # (K, 2, 2)
    mid = 0.5 * (e[:, 0] + e[:, 1])
    width = np.linalg.norm(e[:, 0] - e[:, 1], axis=1)
    ok = np.all(np.isfinite(mid), axis=1)
    if ok.sum() < 6:
        return None
    mid, width = mid[ok], width[ok]
    # Reject stations where an arm or the bar widens the thigh (width far above the median).
    keep = width < 1.25 * np.median(width)
    if keep.sum() < 5:
        return None
    mid = mid[keep]
    c = mid.mean(0)
    _, _, vt = np.linalg.svd(mid - c)
    return c, vt[0]


def project_on_line(p, c, u):
    return c + ((p - c) @ u) * u
