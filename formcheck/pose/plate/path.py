"""The near plate over a whole clip: one radius, the best path through the candidates, or a refusal.

Per-frame candidates (:mod:`formcheck.pose.plate.detect`) include the plate's
inner face and hub, the far plate, and round things in the room. Over a clip
the near plate is the one object that

- keeps **one radius** (it moves in a plane square to a side camera): the clip
  radius is the peak of a score-weighted histogram of candidate radii,
  preferring the larger of two concentric peaks (the rim over the hub);
- moves **smoothly**: the best path (Viterbi) through each frame's
  candidates, or "not seen", minimises the candidates' costs (weak plate
  evidence, a radius off the clip's, far from the wrists) plus a jump penalty
  between frames;
- **moves with the hands**: where it moves, it rises and falls with the
  wrists, and stays near them.

Short gaps are interpolated and the path median-filtered. The whole path is
*refused* (no scale, no path; :attr:`PlatePath.reason` says why) when the lock
is doubtful: too few frames, weak plate evidence, an oblique view (the plate
seen as an ellipse whose minor/major ratio is below ``MIN_ASPECT``), a radius
far from what the lifter's size allows, or a "plate" that does not move with
the hands.

>>> import numpy as np
>>> n = 60; t = np.arange(n) / 30.0
>>> cands = np.full((n, 2, len(FIELDS)), np.nan, np.float32)
>>> cands[:, 0] = [[300, 400 - 100 * np.sin(np.pi * i / n) ** 2, 50, 0.98, 2, 0.9, 0.9, 0.8, 0.7] for i in range(n)]
>>> xy = np.full((n, 33, 2), np.nan); xy[:, [15, 16]] = cands[:, :1, :2] + 5; xy[:, [11, 12]] = (300, 150)
>>> xy[:, [23, 24]] = (300, 240)
>>> path = plate_path(cands, xy, t)
>>> path.reason, round(float(path.radius_px), 1), int(np.isfinite(path.xy[:, 0]).sum())   # radius: the minor axis
('', 49.0, 60)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.pose import landmarks as lm
from formcheck.pose.filters import interpolate_gaps, nan_median_filter, odd_window
from formcheck.pose.plate.detect import ASPECT, COVERAGE, DARK, FIELDS, RADIUS, SCORE, Y, trunk_px

#: Version of the path method (stored with the track).
METHOD_VERSION = 2  # 2: the rim located to a fraction of a pixel, a 7-frame median, inner rings that look alike
#: Least plate score for a candidate to vote for the clip radius or be followed.
MIN_SCORE = 0.15
#: Spread of a candidate's radius about the clip radius (log units).
RADIUS_SIGMA = 0.07
#: Largest credible frame-to-frame move (plate radii per frame at 30 fps), as a spread.
JUMP_SIGMA = 0.3
#: Cost of a frame without the plate (a candidate must do better), and of losing or finding it.
ABSENT_COST, SWITCH_COST = 4.0, 2.0
#: Gaps filled by interpolation (s); running median over this span (s): a wrong outline
#: followed for up to 3 frames goes (the near plate's rim lost to the thighs or hands as the
#: bar leaves lockout put a 3 cm "top" 0.1 s long into a rendered rep: its mean concentric
#: velocity read 0.42 m/s low with 5 frames). Longer spans measured better still on
#: rendered pulls (11 frames: worst rep 0.066 m/s off, against 0.086 with 7) but raise a
#: touch-and-go bottom by more (a median keeps ramps, clips a V's tip by half its span).
MAX_GAP_S, MEDIAN_S = 0.5, 7 / 30
#: Refusals: least share of the lifter's frames with the plate; least median plate
#: evidence; least minor/major axis ratio (about 35° of camera yaw); the clip radius
#: per pixel of trunk, outside this range, is not a 450 mm plate at the lifter's depth.
MIN_SEEN_SHARE = 0.4
#: Plate evidence where the rim itself is followed (medians): a plate is a dark disc whose
#: rim shows most of the way round (measured: 0.77–0.93 coverage, 0.81–0.96 dark on
#: the followed real plates; 0.45–0.56 and 0.30–0.51 on circles in cluttered rooms).
MIN_MEDIAN_SCORE = 0.45
MIN_RIM_COVERAGE = 0.65
MIN_RIM_DARK = 0.6
#: The rim itself must be followed in at least this share of the frames with the plate.
MIN_RIM_SHARE = 0.2
#: A plate whose outline is not found steadily (median frame-to-frame jitter of the
#: followed centre, second differences, in radii) cannot give a speed: measured ≤ 0.05
#: on rendered side views and the real plates followed, 0.11–0.13 at 15–20° of camera
#: yaw, 0.17–0.18 at 25–30°, where the fitted outline wanders between the plate's faces,
#: rim and the far plate.
MAX_JITTER = 0.14
MIN_ASPECT = 0.82
RADIUS_PER_TRUNK_RANGE = (0.3, 0.95)
#: Where the plate moves (frames whose height differs from its resting level by more
#: than this many radii), it must keep its place relative to the wrists (spread of
#: the offset at most ``MAX_WRIST_SPREAD`` radii, the offset itself at most
#: ``MAX_WRIST_GAP``: a camera turned 30° puts the near plate 1.5–2 radii from the
#: hands) and rise and fall with them (correlation at least ``MIN_WRIST_CORRELATION``).
MOVING_RADII = 0.5
MAX_WRIST_SPREAD = 0.6
MAX_WRIST_GAP = 3.0
MIN_WRIST_CORRELATION = 0.7
#: Near and far plate: a candidate with a larger twin beside it (radius ``TWIN_RATIO``
#: times its own, centre ``TWIN_DISTANCE`` of the twin's radius away, nearly as plausible a
#: plate: ``TWIN_SCORE_SHARE`` of its score) is the far plate, seen past the near one when the camera is turned.
TWIN_RATIO = (1.06, 1.8)
TWIN_DISTANCE = (0.3, 4.0)
TWIN_SCORE_SHARE = 0.8
FAR_COST = 4.0
#: An inner ring concentric with the rim (the plate's inner face, a smaller plate
#: outside it) at a radius ratio seen in at least ``INNER_MIN_FRAMES`` frames also marks
#: the centre where the rim is lost against a dark floor; it costs ``INNER_COST`` more.
INNER_MIN_FRAMES = 8
INNER_COST = 1.0
#: ... and only a ring that looks like the clip's inner ring (its dark-inside share within
#: this of theirs): with the rim located to a fraction of a pixel, the inner face is found
#: often enough to give a ratio on turned cameras too, and a dark disc of about that size
#: in the room (a share of 1.0 against the inner face's 0.0) was followed before the lift.
INNER_DARK_TOLERANCE = 0.5
#: The face's radius from the fitted ellipse. Seen square-on, a plate also shows the
#: thickness of its rim above or below its face (the camera is seldom at the plate's
#: height: measured 4 % on rendered plates 5.6 cm thick), so its minor (across) axis is
#: the face's radius; turned away from the camera, the minor axis shrinks with the turn
#: and the major (vertical) one is the face's. Between these two minor/major ratios
#: the two are blended.
FACE_ASPECT = (0.90, 0.97)


@dataclass(frozen=True)
class PlatePath:
    """The near plate over a clip.

    Attributes
    ----------
    xy : ndarray (n, 2)
        Centre in frame pixels (NaN where not seen or refused).
    radius : ndarray (n,)
        Per-frame radius of the plate's face (px; :func:`face_radius`).
    confidence : ndarray (n,)
        Plate evidence of the followed candidate in [0, 1]; interpolated frames
        get half their neighbours'.
    radius_px : float
        The clip's face radius, the bar's scale (NaN without a plate).
    aspect : float
        Median minor/major axis ratio of the followed ellipses.
    reason : str
        Empty when the path is trusted; otherwise why it was refused (then
        ``xy`` is all NaN).
    """

    xy: np.ndarray
    radius: np.ndarray
    confidence: np.ndarray
    radius_px: float
    aspect: float
    reason: str = ""

    @property
    def trusted(self) -> bool:
        return not self.reason

    def as_array(self) -> np.ndarray:
        """``(n, 4)`` float32: x, y, radius, confidence (what a track stores)."""
        return np.column_stack([self.xy, self.radius, self.confidence]).astype(np.float32)


def face_radius(major: np.ndarray, aspect: np.ndarray) -> np.ndarray:
    """The plate face's radius from the ellipse's semi-major axis and minor/major
    ratio (``FACE_ASPECT``): the minor axis seen square-on, the major one turned away.

    >>> face_radius(np.array([50.0, 50.0, 50.0]), np.array([0.98, 0.935, 0.85])).round(2).tolist()
    [49.0, 48.38, 50.0]
    """
    low, high = FACE_ASPECT
    turned = np.clip((high - np.asarray(aspect, np.float64)) / (high - low), 0.0, 1.0)
    return np.asarray(major, np.float64) * (aspect + turned * (1.0 - np.asarray(aspect, np.float64)))


def refused(n: int, reason: str, radius_px: float = float("nan"), aspect: float = float("nan")) -> PlatePath:
    """A path with no plate in any frame, and the reason."""
    nan = np.full(n, np.nan)
    return PlatePath(np.full((n, 2), np.nan), nan, nan.copy(), radius_px, aspect, reason)


def far_plates(candidates: np.ndarray) -> np.ndarray:
    """``(n, k)`` bool: candidates with a larger twin beside them in the same frame
    (module constants ``TWIN_*``): the far plate of a turned camera.

    >>> c = np.full((1, 2, len(FIELDS)), np.nan)
    >>> c[0, 0, [0, 1, 2, 8]] = (100, 100, 40, 0.8)   # near plate
    >>> c[0, 1, [0, 1, 2, 8]] = (190, 80, 30, 0.9)    # far plate, beside and smaller
    >>> far_plates(c).tolist()
    [[False, True]]
    """
    xy, r, score = candidates[..., :2], candidates[..., RADIUS], candidates[..., SCORE]
    ratio = r[:, None, :] / r[:, :, None]  # [i, own, twin]
    dist = np.linalg.norm(xy[:, None, :, :] - xy[:, :, None, :], axis=-1) / r[:, None, :]
    plausible = score[:, None, :] >= TWIN_SCORE_SHARE * score[:, :, None]
    with np.errstate(invalid="ignore"):
        twin = ((ratio >= TWIN_RATIO[0]) & (ratio <= TWIN_RATIO[1]) & (dist >= TWIN_DISTANCE[0])
                & (dist <= TWIN_DISTANCE[1]) & plausible & (score[:, None, :] >= MIN_SCORE))
    return twin.any(axis=2)


def clip_radius(candidates: np.ndarray, far: np.ndarray | None = None) -> float:
    """The near plate's radius (px): peak of the score-weighted histogram of
    candidate radii (far plates left out), taking the larger of two peaks when
    it has at least half the weight (the rim, not the inner face or hub).

    >>> c = np.full((10, 2, len(FIELDS)), np.nan)
    >>> c[:, 0, RADIUS], c[:, 0, SCORE] = 50.0, 0.6
    >>> c[:, 1, RADIUS], c[:, 1, SCORE] = 30.0, 0.9
    >>> round(clip_radius(c))
    50
    """
    flat = candidates.reshape(-1, candidates.shape[-1])
    ok = np.isfinite(flat[:, RADIUS]) & (flat[:, SCORE] >= MIN_SCORE)
    if far is not None:
        ok &= ~far.reshape(-1)
    if ok.sum() < 3:
        return float("nan")
    log_r = np.log(flat[ok, RADIUS])
    weights = flat[ok, SCORE]
    bins = np.arange(log_r.min() - 0.1, log_r.max() + 0.1, 0.02)
    hist, edges = np.histogram(log_r, bins=bins, weights=weights)
    hist = np.convolve(hist, np.ones(5), mode="same")  # ±5 % in radius
    centres = 0.5 * (edges[1:] + edges[:-1])
    best = int(np.argmax(hist))
    # A larger radius with at least half the weight is the rim.
    larger = np.flatnonzero((centres > centres[best] + 0.15) & (hist >= 0.5 * hist[best]))
    if len(larger):
        best = int(larger[np.argmax(hist[larger])])
    in_peak = np.abs(log_r - centres[best]) <= 0.06
    return float(np.exp(np.average(log_r[in_peak], weights=weights[in_peak])))


def _concentric_rings(candidates: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Rings seen inside a rim of about the clip radius and centred within 0.12 of
    its radius: ``(m,)`` radius ratios (ring / rim) and ``(m,)`` the rings' dark-inside shares."""
    r, xy, score = candidates[..., RADIUS], candidates[..., :2], candidates[..., SCORE]
    with np.errstate(invalid="ignore"):
        rim = (np.abs(np.log(r / radius)) <= 2 * RADIUS_SIGMA) & (score >= MIN_SCORE)
    ratios, dark = [], []
    for i, j in zip(*np.nonzero(rim)):
        d = np.linalg.norm(xy[i] - xy[i, j], axis=1)
        with np.errstate(invalid="ignore"):
            inner = (d <= 0.12 * r[i, j]) & (r[i] < 0.92 * r[i, j]) & (r[i] > 0.4 * r[i, j]) & (score[i] >= MIN_SCORE)
        ratios.extend(r[i, inner] / r[i, j])
        dark.extend(candidates[i, inner, DARK])
    return np.asarray(ratios, np.float64), np.asarray(dark, np.float64)


def inner_ring_ratio(candidates: np.ndarray, radius: float) -> float:
    """Radius ratio (< 1) of a ring seen concentric with the rim in at least
    ``INNER_MIN_FRAMES`` frames (median), NaN when there is none."""
    ratios, _ = _concentric_rings(candidates, radius)
    if len(ratios) < INNER_MIN_FRAMES:
        return float("nan")
    ratio = float(np.median(ratios))
    return ratio if np.mean(np.abs(np.log(ratios / ratio)) <= 2 * RADIUS_SIGMA) >= 0.6 else float("nan")


def inner_ring_dark(candidates: np.ndarray, radius: float, ratio: float) -> float:
    """Median dark-inside share of the inner rings seen inside the rim at ``ratio``
    (NaN without an inner ring): what the plate's inner ring looks like in this clip."""
    ratios, dark = _concentric_rings(candidates, radius)
    if not np.isfinite(ratio) or len(ratios) == 0:
        return float("nan")
    same = np.abs(np.log(ratios / ratio)) <= 2 * RADIUS_SIGMA
    return float(np.median(dark[same])) if same.any() else float("nan")


#: A wrist seen less than this is not used to place the bar; the hands are held
#: against the plate's motion only where seen at least ``SURE_WRIST_VISIBILITY``
#: (the pose model puts an unseen wrist on the body, not where the hand is).
MIN_WRIST_VISIBILITY = 0.3
SURE_WRIST_VISIBILITY = 0.8


def hands(xy: np.ndarray, visibility: np.ndarray | None = None, least: float = MIN_WRIST_VISIBILITY) -> np.ndarray:
    """``(n, 2)``: per frame, the better-seen wrist (the near arm in a side view;
    the far one is a guess), NaN when neither is seen; both wrists' midpoint
    without visibilities.

    >>> xy = np.zeros((1, 33, 2)); xy[0, 15], xy[0, 16] = (10, 20), (30, 40)
    >>> vis = np.zeros((1, 33)); vis[0, 16] = 0.9
    >>> hands(xy, vis).tolist(), hands(xy).tolist()
    ([[30.0, 40.0]], [[20.0, 30.0]])
    """
    xy = np.asarray(xy, np.float64)
    if visibility is None:
        return 0.5 * (xy[:, lm.LEFT_WRIST] + xy[:, lm.RIGHT_WRIST])
    vis = np.asarray(visibility, np.float64)[:, [lm.LEFT_WRIST, lm.RIGHT_WRIST]]
    best = np.argmax(vis, axis=1)
    out = xy[np.arange(len(xy)), np.where(best == 0, lm.LEFT_WRIST, lm.RIGHT_WRIST)]
    out[vis.max(axis=1) < least] = np.nan
    return out


def candidate_costs(candidates: np.ndarray, radius: float, wrists: np.ndarray, inner: float = float("nan"),
                    far: np.ndarray | None = None, inner_dark: float = float("nan")) -> tuple[np.ndarray, np.ndarray]:
    """``(n, k)`` cost of each candidate being the near plate (inf for an empty
    slot), and ``(n, k)`` the rim radius each implies (the clip radius for an inner ring).
    With ``inner_dark`` (:func:`inner_ring_dark`), only a ring that looks like the
    clip's inner ring stands for the rim."""
    score = candidates[..., SCORE]
    r = candidates[..., RADIUS]
    with np.errstate(divide="ignore", invalid="ignore"):
        rim = (np.log(r / radius) / RADIUS_SIGMA) ** 2
        ring = (np.log(r / (inner * radius)) / RADIUS_SIGMA) ** 2 + INNER_COST if np.isfinite(inner) else np.full_like(rim, np.inf)
        if np.isfinite(inner_dark):
            ring = np.where(np.abs(candidates[..., DARK] - inner_dark) <= INNER_DARK_TOLERANCE, ring, np.inf)
    use_ring = ring < rim
    size_cost = np.where(use_ring, ring, rim)
    implied = np.where(use_ring, r / inner if np.isfinite(inner) else r, r)
    gap = np.linalg.norm(candidates[..., :2] - wrists[:, None, :], axis=-1) / radius
    wrist_cost = np.where(np.isfinite(gap), np.maximum(gap - 2.0, 0.0) ** 2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = -2.0 * np.log(np.maximum(score, 1e-3)) + size_cost + wrist_cost
    if far is not None:
        cost = cost + np.where(far, FAR_COST, 0.0)
    return np.where(np.isfinite(cost) & (score >= MIN_SCORE), cost, np.inf), implied


def best_path(candidates: np.ndarray, cost: np.ndarray, radius: float, time_s: np.ndarray) -> np.ndarray:
    """Viterbi path through the candidates: ``(n,)`` index of the chosen one, −1 for none."""
    n, k = cost.shape
    if n == 0:
        return np.zeros(0, int)
    dt = np.diff(time_s, prepend=time_s[0] - 1 / 30.0)
    # State k is "not seen".
    total = np.append(cost[0], ABSENT_COST)
    back = np.zeros((n, k + 1), int)
    for i in range(1, n):
        spread = JUMP_SIGMA * radius * max(dt[i] * 30.0, 1.0)
        jump = np.linalg.norm(candidates[i][None, :, :2] - candidates[i - 1][:, None, :2], axis=-1) / spread
        trans = np.full((k + 1, k + 1), SWITCH_COST)
        trans[:k, :k] = np.where(np.isfinite(jump), jump**2, np.inf)
        trans[k, k] = 0.0
        step = total[:, None] + trans
        back[i] = np.argmin(step, axis=0)
        total = step[back[i], np.arange(k + 1)] + np.append(cost[i], ABSENT_COST)
    path = np.empty(n, int)
    path[-1] = int(np.argmin(total))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return np.where(path == k, -1, path)


def plate_path(candidates: np.ndarray, xy: np.ndarray, time_s: np.ndarray,
               visibility: np.ndarray | None = None) -> PlatePath:
    """Follow the near plate through a clip's candidates, or refuse (module docstring).

    Parameters
    ----------
    candidates : ndarray (n, k, len(FIELDS))
        Per-frame candidates, NaN rows where fewer were found.
    xy : ndarray (n, 33, 2)
        The lifter's landmarks (pixels).
    time_s : ndarray (n,)
    visibility : ndarray (n, 33), optional
        The landmarks' visibility: the better-seen wrist marks the hands.
    """
    n = len(candidates)
    detected = np.isfinite(xy[:, 0, 0])
    if n == 0 or not np.isfinite(candidates[..., SCORE]).any():
        return refused(n, "no plate was seen")
    candidates = np.asarray(candidates, np.float64)
    far = far_plates(candidates)
    radius = clip_radius(candidates, far)
    if not np.isfinite(radius):
        return refused(n, "no plate was seen")
    wrists = hands(xy, visibility)
    inner = inner_ring_ratio(candidates, radius)
    cost, implied = candidate_costs(candidates, radius, wrists, inner, far, inner_ring_dark(candidates, radius, inner))
    chosen = best_path(candidates, cost, radius, time_s)
    rows = np.full((n, len(FIELDS)), np.nan)
    seen = chosen >= 0
    rows[seen] = candidates[np.flatnonzero(seen), chosen[seen]]
    on_rim = seen.copy()
    on_rim[seen] = np.isclose(implied[np.flatnonzero(seen), chosen[seen]], rows[seen, RADIUS])
    rows[seen, RADIUS] = implied[np.flatnonzero(seen), chosen[seen]]
    aspect = float(np.median(rows[seen, ASPECT])) if seen.any() else float("nan")
    sure_hands = hands(xy, visibility, SURE_WRIST_VISIBILITY) if visibility is not None else wrists
    reason = _doubt(rows, seen, on_rim, detected, radius, aspect, xy, sure_hands)
    if reason:
        return refused(n, reason, radius, aspect)
    centre = interpolate_gaps(rows[:, :2], time_s, MAX_GAP_S)
    centre = nan_median_filter(centre, odd_window(time_s, MEDIAN_S))
    confidence = np.where(seen, rows[:, SCORE], np.where(np.isfinite(centre[:, 0]), 0.5 * _neighbour_mean(rows[:, SCORE]), np.nan))
    face = face_radius(rows[:, RADIUS], np.where(on_rim, rows[:, ASPECT], aspect))
    per_frame_radius = interpolate_gaps(face, time_s, MAX_GAP_S)
    scale = float(np.median(face[on_rim]))
    return PlatePath(centre, per_frame_radius, np.clip(confidence, 0, 1), scale, aspect)


def _neighbour_mean(values: np.ndarray) -> np.ndarray:
    """Mean of the nearest finite values before and after each sample."""
    idx = np.arange(len(values))
    ok = np.isfinite(values)
    if not ok.any():
        return np.full(len(values), np.nan)
    return np.interp(idx, idx[ok], values[ok])


def _doubt(rows, seen, on_rim, detected, radius, aspect, xy, wrists) -> str:
    """Why the followed path cannot be trusted ("" when it can)."""
    frames = max(int(detected.sum()), 1)
    if seen.sum() < MIN_SEEN_SHARE * frames:
        return f"the plate was found in only {seen.sum() / frames:.0%} of the frames"
    if on_rim.sum() < MIN_RIM_SHARE * seen.sum():
        return "the plate's rim is seen too rarely to give its size"
    rim = rows[on_rim]
    if (np.median(rim[:, SCORE]) < MIN_MEDIAN_SCORE or np.median(rim[:, COVERAGE]) < MIN_RIM_COVERAGE
            or np.median(rim[:, DARK]) < MIN_RIM_DARK):
        return "the circle followed does not look enough like a plate"
    if aspect < MIN_ASPECT:
        return f"the plate is seen at an angle (ellipse ratio {aspect:.2f}): film from the side for bar speed"
    jitter = _jitter(rows, seen, radius)
    if jitter > MAX_JITTER:
        return (f"the plate's outline is not found steadily ({jitter:.2f} radii from frame to frame; "
                "a camera turned away from the side?)")
    trunk = np.nanmedian([trunk_px(p) for p in np.asarray(xy)[detected]]) if detected.any() else np.nan
    if np.isfinite(trunk) and trunk > 0:
        ratio = radius / trunk
        low, high = RADIUS_PER_TRUNK_RANGE
        if not low <= ratio <= high:
            return f"the plate's size ({ratio:.2f} of the trunk) is not a full-size plate near the lifter"
    return _hands_doubt(rows, seen, radius, wrists)


def _jitter(rows, seen, radius) -> float:
    """Median frame-to-frame jitter of the followed centre (second differences over
    runs of seen frames, in radii)."""
    xy = np.where(seen[:, None], rows[:, :2], np.nan)
    second = np.linalg.norm(xy[2:] - 2 * xy[1:-1] + xy[:-2], axis=1) / radius
    return float(np.nanmedian(second)) if np.isfinite(second).any() else 0.0


def _hands_doubt(rows, seen, radius, wrists) -> str:
    """Where the plate moves, it must move with the hands."""
    y = rows[:, Y]
    rest = np.nanpercentile(y[seen], 90)
    moving = seen & (rest - y > MOVING_RADII * radius) & np.isfinite(wrists[:, 1])
    if moving.sum() < 10:
        return ""  # nothing lifted, or the hands not seen: no evidence either way
    offset = (rows[moving, :2] - wrists[moving]) / radius
    gap = float(np.median(np.linalg.norm(offset, axis=1)))
    spread = float(np.median(np.linalg.norm(offset - np.median(offset, axis=0), axis=1)))
    if gap > MAX_WRIST_GAP:
        return f"the circle followed stays {gap:.1f} plate radii from the hands"
    if spread > MAX_WRIST_SPREAD:
        return f"the circle followed does not move with the hands (its offset from them varies by {spread:.1f} radii)"
    if moving.sum() >= 8 and np.std(y[moving]) > 0 and np.std(wrists[moving, 1]) > 0:
        r = float(np.corrcoef(y[moving], wrists[moving, 1])[0, 1])
        if r < MIN_WRIST_CORRELATION:
            return f"the circle followed does not rise and fall with the hands (correlation {r:.2f})"
    return ""
