"""Per-frame candidates of the near barbell plate, from the frame and the lifter's pose.

In a side view the near plate is a disc in front of the lifter whose centre is
the bar: in the hands while they hold it, over the mid-foot at the floor. The
lifter's pose bounds where and how big it can be, so the search is small:

1. **Size prior.** A 450 mm plate has a radius of about ``RADIUS_PER_TRUNK``
   times the lifter's shoulder→hip distance in pixels (the trunk is seen
   where the plate hides the legs); radii from ``MIN_RADIUS`` to
   ``MAX_RADIUS`` of that are searched (small iron plates, a camera close to
   the plate).
2. **Search box.** From above the wrists down past the feet, across the
   wrists and feet, cropped and downscaled so the expected radius is
   ``WORK_RADIUS_PX`` pixels: a few milliseconds whatever the video size.
3. **Circles.** ``cv2.HoughCircles`` proposes centres; at each, the radial
   profile of radially oriented edges picks the *outermost* strong ring (a
   plate also shows its inner face and its hub as rings), and an ellipse is
   fitted (``cv2.fitEllipse``) to the edge points on that ring.
4. **Plate evidence** per candidate, each in [0, 1]: ``coverage`` (share of
   the ellipse with an edge across it), ``dark`` (share of the rim where the
   inside is darker than the outside: a plate in front of a lighter
   surround), ``hub`` (contrast of the centre against the plate's body: the
   sleeve and the hub insert), ``aspect`` (minor / major axis: 1 seen square
   on, ``cos(yaw)`` from an oblique camera).

Candidates centred above the middle of the trunk are dropped: the bar never
rises above the hips in a deadlift, and clutter on the torso is the commonest
false circle. The choice among candidates over time is
:mod:`formcheck.pose.plate.path`'s.

>>> import numpy as np
>>> FIELDS.index("x"), FIELDS.index("radius"), len(FIELDS)
(0, 2, 9)
>>> plate_candidates(np.zeros((120, 160, 3), np.uint8), np.full((33, 2), np.nan), 100.0).shape
(0, 9)
"""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.pose import landmarks as lm

#: Columns of a candidate row: centre (frame px), radius (semi-major axis, px),
#: minor/major axis ratio, major axis angle from vertical (deg), edge coverage,
#: dark-inside share of the rim, hub contrast, and the combined plate score.
FIELDS = ("x", "y", "radius", "aspect", "tilt_deg", "coverage", "dark", "hub", "score")
X, Y, RADIUS, ASPECT, TILT, COVERAGE, DARK, HUB, SCORE = range(len(FIELDS))
#: Candidates kept per frame, and circle proposals examined.
MAX_CANDIDATES = 8
MAX_PROPOSALS = 6

#: Expected plate radius (450 mm plate) per pixel of the lifter's shoulder→hip
#: landmark distance: 0.44 at the lifter's depth for an average build, more
#: because the near plate is nearer the camera (measured 0.57 on rendered
#: lifters filmed from 4 m through the pose model).
RADIUS_PER_TRUNK = 0.55
#: Searched radii, as multiples of the expected one.
MIN_RADIUS, MAX_RADIUS = 0.55, 1.75
#: The expected radius in the downscaled search image (px).
WORK_RADIUS_PX = 26.0
#: Rim samples around a candidate; directions and radial step (search px) of the ring search.
RIM_SAMPLES = 72
PROFILE_ANGLES, PROFILE_STEP_PX = 48, 0.75
#: A ring counts as the plate's outer rim with at least this share of the best ring's edge coverage.
OUTER_RING_SHARE = 0.6
#: Least gradient alignment with the radius for an edge to belong to a circle.
RADIAL_ALIGNMENT = 0.7
#: Grey-level step across the rim that counts as a contrast.
RIM_STEP = 6.0
#: Sub-pixel refinement of a fitted rim (:meth:`_SearchImage.refine`): points on the
#: ellipse, how far along its normal the edge is looked for and in what steps (search px).
REFINE_SAMPLES = 96
REFINE_REACH_PX, REFINE_STEP_PX = 2.0, 0.25


def trunk_px(xy: np.ndarray) -> float:
    """Shoulder→hip length (px) of one pose, left/right midpoints: the lifter's
    size where the plate hides the legs (shins at the floor, knees at set-up).

    >>> xy = np.zeros((33, 2)); xy[[11, 12]] = (0, 0); xy[[23, 24]] = (30, 40)
    >>> trunk_px(xy)
    50.0
    """
    sh = 0.5 * (xy[lm.LEFT_SHOULDER] + xy[lm.RIGHT_SHOULDER])
    hip = 0.5 * (xy[lm.LEFT_HIP] + xy[lm.RIGHT_HIP])
    return float(np.hypot(*(sh - hip)))


def search_box(xy: np.ndarray, radius: float, frame_size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)``: where a plate of about ``radius`` px can be, from the
    wrists down past the feet and across the wrists and feet (clipped to the frame)."""
    idx = [lm.LEFT_WRIST, lm.RIGHT_WRIST, lm.LEFT_ANKLE, lm.RIGHT_ANKLE, lm.LEFT_HEEL, lm.RIGHT_HEEL,
           lm.LEFT_FOOT_INDEX, lm.RIGHT_FOOT_INDEX]
    pts = xy[idx]
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 3 or not np.isfinite(radius) or radius <= 0:
        return None
    reach = MAX_RADIUS * radius
    x0, x1 = pts[:, 0].min() - 1.6 * reach, pts[:, 0].max() + 1.6 * reach
    y0 = pts[:2, 1].min() - 1.2 * reach if np.isfinite(xy[[lm.LEFT_WRIST, lm.RIGHT_WRIST]]).all() else pts[:, 1].min() - reach
    y1 = pts[:, 1].max() + 1.2 * reach
    w, h = frame_size
    box = (max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1))))
    if box[2] - box[0] < 8 or box[3] - box[1] < 8:
        return None
    return box


def plate_candidates(frame_bgr: np.ndarray, xy: np.ndarray, expected: float) -> np.ndarray:
    """Candidate plates in one frame, best first: ``(k, len(FIELDS))`` float32, frame pixels.

    Parameters
    ----------
    frame_bgr : ndarray (H, W, 3) uint8
    xy : ndarray (33, 2)
        The lifter's landmarks in this frame (pixels; NaN when not found).
    expected : float
        Expected plate radius (px): ``RADIUS_PER_TRUNK`` times the lifter's
        trunk (:func:`trunk_px`), a median over frames.
    """
    empty = np.zeros((0, len(FIELDS)), np.float32)
    if not np.isfinite(expected) or expected < 4:
        return empty
    h, w = frame_bgr.shape[:2]
    box = search_box(xy, expected, (w, h))
    if box is None:
        return empty
    x0, y0, x1, y1 = box
    f = min(1.0, WORK_RADIUS_PX / expected)
    crop = frame_bgr[y0:y1, x0:x1]
    if f < 1.0:
        crop = cv2.resize(crop, (max(8, round((x1 - x0) * f)), max(8, round((y1 - y0) * f))), interpolation=cv2.INTER_AREA)
    fx, fy = crop.shape[1] / (x1 - x0), crop.shape[0] / (y1 - y0)
    image = _SearchImage(cv2.GaussianBlur(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), (5, 5), 1.2))
    rows = [row for c in image.circles(expected * fy) for row in image.describe(c, expected * fy)]
    rows = np.array(rows, np.float64).reshape(-1, len(FIELDS))
    # Back to frame pixels.
    rows[:, X] = rows[:, X] / fx + x0
    rows[:, Y] = rows[:, Y] / fy + y0
    rows[:, RADIUS] = rows[:, RADIUS] / fy
    rows = rows[_below_mid_trunk(xy, rows[:, Y])]
    rows = _distinct(rows[np.argsort(-rows[:, SCORE])])
    return rows[:MAX_CANDIDATES].astype(np.float32)


class _SearchImage:
    """The downscaled, blurred grey search image with its edges and gradients."""

    def __init__(self, grey: np.ndarray):
        self.grey = grey
        self.values = grey.astype(np.float32)
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
        self.gradient = np.dstack([gx, gy])
        magnitude = np.hypot(gx, gy)
        # Canny's upper threshold from the image's own contrast: a dark plate on a
        # dark floor has a weak rim next to a bright wall's strong edges.
        self.high = float(np.clip(np.percentile(magnitude, 75), 30, 150))
        edges = cv2.Canny(grey, 0.5 * self.high, self.high, L2gradient=True)
        # Per pixel: an edge nearby (dilated) and the gradient's direction, gathered at once.
        safe = np.maximum(magnitude, 1e-6)
        self.maps = np.dstack([(cv2.dilate(edges, np.ones((3, 3), np.uint8)) > 0).astype(np.float32),
                               gx / safe, gy / safe])
        ys, xs = np.nonzero(edges)
        self.edge_xy = np.stack([xs, ys], axis=1).astype(np.float32)
        self.edge_dir = self.maps[ys, xs, 1:]

    def circles(self, expected: float) -> np.ndarray:
        """Centre proposals ``(k, 3)`` from ``cv2.HoughCircles`` (centres only: the
        radius is found by :meth:`describe`)."""
        found = cv2.HoughCircles(self.grey, cv2.HOUGH_GRADIENT, dp=1, minDist=max(3.0, 0.3 * expected),
                                 param1=self.high, param2=max(8.0, 0.3 * expected),
                                 minRadius=int(MIN_RADIUS * expected), maxRadius=-int(np.ceil(MAX_RADIUS * expected)))
        if found is None:
            return np.zeros((0, 3))
        return found[0, :MAX_PROPOSALS, :3].astype(np.float64)

    def sample(self, img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Nearest-pixel samples of ``img`` (H, W) or (H, W, c); NaN outside the image."""
        h, w = img.shape[:2]
        xi, yi = np.rint(x).astype(np.intp), np.rint(y).astype(np.intp)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = np.full(x.shape + img.shape[2:], np.nan, np.float32)
        out[inside] = img[yi[inside], xi[inside]]
        return out

    def radial_edges(self, x: np.ndarray, y: np.ndarray, dir_x: np.ndarray, dir_y: np.ndarray) -> np.ndarray:
        """1 where an edge runs across direction ``dir`` at (x, y), 0 where not, NaN outside."""
        e = self.sample(self.maps, x, y)
        with np.errstate(invalid="ignore", divide="ignore"):
            align = np.abs(e[..., 1] * dir_x + e[..., 2] * dir_y) / np.hypot(dir_x, dir_y)
        return np.where(np.isfinite(e[..., 0]), ((e[..., 0] > 0) & (align >= RADIAL_ALIGNMENT)).astype(np.float32), np.nan)

    def describe(self, circle: np.ndarray, expected: float) -> list[np.ndarray]:
        """Plate evidence of the rings around one proposed centre (rows of ``FIELDS``, search-image px).

        A plate shows several concentric rings (rim, inner face, hub), and legs
        or the floor can hide part of its rim: the outermost ring with at least
        ``OUTER_RING_SHARE`` of the best ring's edge coverage is described, and
        the best ring too when it is another; the clip decides between them.
        """
        cx, cy, _ = circle
        angles = np.linspace(0, 2 * np.pi, PROFILE_ANGLES, endpoint=False)
        c, s = np.cos(angles)[None, :], np.sin(angles)[None, :]
        radii = np.arange(MIN_RADIUS * expected, MAX_RADIUS * expected, PROFILE_STEP_PX)
        support = self.radial_edges(cx + radii[:, None] * c, cy + radii[:, None] * s,
                                    np.broadcast_to(c, (len(radii), PROFILE_ANGLES)),
                                    np.broadcast_to(s, (len(radii), PROFILE_ANGLES)))
        seen = np.isfinite(support)
        with np.errstate(invalid="ignore"):
            coverage = np.where(seen.mean(axis=1) > 0.3, np.nansum(support, axis=1) / np.maximum(seen.sum(axis=1), 1), 0.0)
        # Smooth over ±1 step so a ring straddling two radii still counts.
        coverage = np.convolve(coverage, np.ones(3) / 3, mode="same")
        if coverage.max() <= 0.1:
            return []
        best = int(np.argmax(coverage))
        outer = int(np.flatnonzero(coverage >= OUTER_RING_SHARE * coverage[best])[-1])
        rings = [outer] if abs(radii[outer] - radii[best]) < 0.1 * radii[best] else [outer, best]
        rows = [self.describe_ring(cx, cy, float(radii[i])) for i in rings]
        return [r for r in rows if r is not None]

    def describe_ring(self, cx: float, cy: float, ring: float) -> np.ndarray | None:
        """A row of ``FIELDS`` for the ellipse fitted to the ring of radius ``ring`` about (cx, cy), or None."""
        ellipse = self.fit_ellipse(cx, cy, ring)
        if ellipse is None:
            return None
        ex, ey, major, minor, angle = ellipse
        evidence = self.evidence(ex, ey, major, minor, angle)
        if evidence is None:
            return None
        coverage, dark, hub = evidence
        tilt = abs(angle % 180.0 - 90.0)  # major axis from vertical
        score = coverage * (0.4 + 0.6 * dark) * (0.6 + 0.4 * hub)
        return np.array([ex, ey, major, minor / major, tilt, coverage, dark, hub, score])

    def fit_ellipse(self, cx: float, cy: float, ring: float):
        """``(x, y, major, minor, major_angle_deg)`` fitted to the edge points on a ring, or None."""
        d = self.edge_xy - (cx, cy)
        dist = np.hypot(d[:, 0], d[:, 1])
        near = np.abs(dist - ring) <= max(1.5, 0.12 * ring)
        g = self.edge_dir[near]
        with np.errstate(invalid="ignore", divide="ignore"):
            align = np.abs(np.sum(g * d[near], axis=1)) / dist[near]
        pts = self.edge_xy[near][align >= RADIAL_ALIGNMENT]
        if len(pts) < 12:
            return None
        ellipse = cv2.fitEllipse(pts)
        ellipse = self.refine(ellipse) or ellipse
        (ex, ey), (d1, d2), angle = ellipse
        major, minor = max(d1, d2) / 2, min(d1, d2) / 2
        if not (0.5 * ring <= major <= 1.6 * ring) or minor <= 0 or np.hypot(ex - cx, ey - cy) > 0.35 * ring:
            return None
        # fitEllipse's angle turns the first axis (d1) from the image x axis.
        return ex, ey, major, minor, (angle if d1 >= d2 else angle + 90.0)

    def refine(self, ellipse):
        """``ellipse`` (``cv2.fitEllipse``'s form) refitted to its rim located to a
        fraction of a pixel, or None when too little of the rim is found.

        Canny marks whole pixels, and in the search image a plate is only
        ``WORK_RADIUS_PX`` across: the fitted rim sat about half a pixel outside
        the true one (the plate read 1–2 % large, measured on rendered plates) and
        its centre moved by whole pixels (4 % of a radius) from frame to frame.
        Along the ellipse's normals, where the rim has an edge across it, the edge
        is the peak of the gradient across the rim (bilinear samples, a parabola
        through the peak).
        """
        (ex, ey), (d1, d2), angle = ellipse
        a, b = d1 / 2, d2 / 2
        if min(a, b) < 3:
            return None
        t = np.linspace(0, 2 * np.pi, REFINE_SAMPLES, endpoint=False)
        phi = np.radians(angle)
        ca, sa = np.cos(phi), np.sin(phi)
        u, v = a * np.cos(t), b * np.sin(t)
        px, py = ex + u * ca - v * sa, ey + u * sa + v * ca
        nu, nv = np.cos(t) / a, np.sin(t) / b  # the ellipse's outward normal, in its own frame
        norm = np.hypot(nu, nv)
        nx, ny = (nu * ca - nv * sa) / norm, (nu * sa + nv * ca) / norm
        on_rim = self.radial_edges(px, py, nx, ny) > 0
        steps = np.arange(-REFINE_REACH_PX, REFINE_REACH_PX + 1e-9, REFINE_STEP_PX)
        sx = (px[:, None] + steps[None, :] * nx[:, None]).astype(np.float32)
        sy = (py[:, None] + steps[None, :] * ny[:, None]).astype(np.float32)
        g = cv2.remap(self.gradient, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan)
        across = np.abs(g[..., 0] * nx[:, None] + g[..., 1] * ny[:, None])
        with np.errstate(invalid="ignore"):
            ok = on_rim & np.isfinite(across).all(axis=1)
        if ok.sum() < 12:
            return None
        across = across[ok]
        peak = np.argmax(across, axis=1)
        inner = (peak > 0) & (peak < len(steps) - 1)
        rows = np.arange(len(peak))[inner]
        left, mid, right = across[rows, peak[inner] - 1], across[rows, peak[inner]], across[rows, peak[inner] + 1]
        curve = left - 2 * mid + right
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(curve < 0, 0.5 * (left - right) / curve, 0.0)
        moved = steps[peak[inner]] + np.clip(shift, -0.5, 0.5) * REFINE_STEP_PX
        strong = mid >= RIM_STEP
        if strong.sum() < 12:
            return None
        idx = np.flatnonzero(ok)[inner][strong]
        pts = np.stack([px[idx] + moved[strong] * nx[idx], py[idx] + moved[strong] * ny[idx]], axis=1)
        refined = cv2.fitEllipse(pts.astype(np.float32))
        (rx, ry), (r1, r2), _ = refined
        # A refinement moves the rim by a pixel or so; more is another edge.
        if np.hypot(rx - ex, ry - ey) > REFINE_REACH_PX or abs(max(r1, r2) - max(d1, d2)) > 2 * REFINE_REACH_PX:
            return None
        return refined

    def evidence(self, cx, cy, major, minor, major_angle_deg):
        """Coverage, dark-inside share and hub contrast of an ellipse (None if mostly outside the image)."""
        t = np.linspace(0, 2 * np.pi, RIM_SAMPLES, endpoint=False)
        phi = np.radians(major_angle_deg)
        ca, sa = np.cos(phi), np.sin(phi)

        def at(scale):
            u, v = major * scale * np.cos(t), minor * scale * np.sin(t)
            return cx + u * ca - v * sa, cy + u * sa + v * ca

        rx, ry = at(1.0)
        hit = self.radial_edges(rx, ry, rx - cx, ry - cy)
        visible = np.isfinite(hit)
        if visible.mean() < 0.4:
            return None
        coverage = float(hit[visible].mean())
        # Grey levels just inside and outside the rim, on the plate's body, and at its centre, in one gather.
        scales = np.array([0.9, 1.1, 0.4, 0.55, 0.7, 0.1])[:, None]
        u, v = major * scales * np.cos(t), minor * scales * np.sin(t)
        grey = self.sample(self.values, cx + u * ca - v * sa, cy + u * sa + v * ca)
        inside, outside, body, centre = grey[0], grey[1], grey[2:5].ravel(), grey[5, ::6]
        both = np.isfinite(inside) & np.isfinite(outside)
        dark = float(np.mean(outside[both] - inside[both] > RIM_STEP)) if both.any() else 0.0
        # Hub: the centre against the plate's body (the sleeve, the hub insert).
        if not (np.isfinite(centre).any() and np.isfinite(body).any()):
            return coverage, dark, 0.0
        hub = float(np.clip(abs(np.nanmean(centre) - np.nanmedian(body)) / 60.0, 0, 1))
        return coverage, dark, hub


def _below_mid_trunk(xy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Candidates whose centre is below the middle of the trunk (all, without a trunk)."""
    sh = 0.5 * (xy[lm.LEFT_SHOULDER] + xy[lm.RIGHT_SHOULDER])
    hip = 0.5 * (xy[lm.LEFT_HIP] + xy[lm.RIGHT_HIP])
    limit = 0.5 * (sh[1] + hip[1])
    if not np.isfinite(limit):
        return np.ones(len(y), bool)
    return y > limit


def _distinct(rows: np.ndarray) -> np.ndarray:
    """Drop candidates that repeat a better one (same centre and radius within 10 %)."""
    keep: list[int] = []
    for i, row in enumerate(rows):
        if all(np.hypot(row[X] - rows[j, X], row[Y] - rows[j, Y]) > 0.1 * row[RADIUS]
               or abs(row[RADIUS] - rows[j, RADIUS]) > 0.1 * row[RADIUS] for j in keep):
            keep.append(i)
    return rows[keep]
