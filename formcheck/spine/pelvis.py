"""The hip placed from the silhouette: register the pelvis part of the back's outline.

The pose model's hip landmark slides up the trunk in a deep hinge (on
rendered deadlifts by up to 0.2 trunk lengths at the set-up, with the plates
hiding the bent knees), and the back-outline kink measured from it errs by
≈ 127° per trunk length of slide (docs/synthetic-benchmark.md). The outline
of the sacrum, buttock and top of the hamstrings moves with the pelvis as one
rigid shape. Registered (2-D rigid ICP) against the lifter's own outline in a
few reference frames, it carries one point fixed in the pelvis into every
frame; that point is put where the model's hip sits on average while the
trunk leans 15–45°, where the landmark has not yet slid.

Pure functions over numpy arrays; :func:`silhouette_hip` is what the spine
stage calls.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from formcheck.pose.filters import nan_median_filter, odd_window
from formcheck.measure.kinematics import midpoint
from formcheck.pose.track import PoseTrack

#: The template: outline points from this far below to this far above the
#: standing hip, along the hip→shoulder axis (trunk lengths).
TEMPLATE_SPAN = (-0.25, 0.22)
#: Only outline points this close to the model's hip are matched (trunk lengths).
SEARCH_RADIUS = 0.6
#: Starting rotations tried around the predicted one (degrees), and the share
#: of the trunk's rotation since the reference that the pelvis is predicted to follow.
START_OFFSETS_DEG = (-20.0, 0.0, 20.0)
ROTATION_SHARE = 0.7
#: Reference frames whose outlines are the templates (the median of their fits
#: is kept), and how soon after the first they must come (seconds).
REFERENCES = 3
REFERENCE_WINDOW_S = 1.0
#: Fewest standing frames that make the templates (else leaning frames do).
MIN_STANDING_REFERENCES = 3
#: Trunk lean (degrees) where the model's hip is taken as right on average:
#: the carried point is re-anchored on it there (the standing hip alone is one
#: noisy frame, and deep in the hinge the model's hip slides).
ANCHOR_LEAN_DEG = (15.0, 45.0)
#: ... and below this share of the clip's deepest lean (its 95th percentile):
#: a lifter who sets up with the trunk at 45–50° (a squatted start) waits at
#: the floor inside the window above, where the model's hip slides (rendered
#: squatted starts: +0.09 trunk lengths while still there, +0.04 on the way
#: down), and that read their neutral backs 9° high. 0.55–0.65 do the same on
#: the synthetic grid; 0.5 leaves too few frames, 0.7 lets the wait back in.
ANCHOR_DEPTH_SHARE = 0.6
#: Fewest registered frames to anchor on (else the whole lean window serves; else none).
MIN_ANCHOR_FRAMES = 5
#: Registrations further than this from the model's hip (trunk lengths), or
#: fitting worse than ``GATE_RMS`` times the clip's median, are dropped.
GATE_DISTANCE = 0.25
GATE_RMS = 1.6
#: Running median of the correction over time (seconds: 3 registrations at 10 Hz).
MEDIAN_S = 0.3
#: Registrations per second (the correction changes slowly; 5 Hz read 6.3° per
#: frame on the synthetic grid against 4.7° at 10 Hz).
REGISTER_RATE_HZ = 10.0
#: Frames registered together (one KD-tree; bounds the memory of long videos).
FRAMES_PER_BATCH = 256
#: Third-coordinate spacing between frames in the shared KD-tree (pixels).
_SLOT_SEPARATION = 1e6
#: Points each template is resampled to (evenly along it), so that all are fitted at once.
TEMPLATE_POINTS = 24
#: Outline resampling step for matching (pixels).
DENSE_STEP_PX = 0.5
#: Trimmed ICP: the worst share of matches (an arm, the bar, a plate) is ignored.
ICP_KEEP = 0.9
ICP_ITERATIONS = 8
#: ICP stops when the fit improves by less than this (pixels).
ICP_TOLERANCE_PX = 1e-2


def silhouette_hip(
    track: PoseTrack, lean_deg: np.ndarray, dorsal: int, standing: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame hip midpoint placed by registering the back's outline.

    Parameters
    ----------
    track : PoseTrack
        Smoothed track with ``trunk_outlines``.
    lean_deg : ndarray (n,)
        Trunk inclination from vertical, degrees.
    dorsal : int
        The back's side of ``trunk_outlines`` (0 or 1).
    standing : ndarray of bool (n,)
        Frames where the lifter stands upright with nothing at the hips: the
        first of them give the templates. A clip that starts at the bar has
        none; then the first moderately leaning frames (``ANCHOR_LEAN_DEG``)
        do, where the model's hip is right on average.

    Returns
    -------
    hip : ndarray (n, 2)
        Hip midpoint in pixels. Frames not registered, or whose registration
        was implausible, take the correction of the nearest registered frames
        in time; the model's hip is returned unchanged when none was
        registered, and NaN where the model has no hip.
    placed : ndarray of bool (n,)
        Frames whose hip was placed from the outline (all False when none was).
    """
    xy = track.xy.astype(np.float64)
    hip, shoulder = midpoint(xy, "hip"), midpoint(xy, "shoulder")
    n = len(track)
    outlines = track.trunk_outlines[:, dorsal].astype(np.float64)
    has_outline = np.all(np.isfinite(outlines), axis=(1, 2)) & np.all(np.isfinite(hip), axis=1) & np.all(
        np.isfinite(shoulder), axis=1
    )
    leaning = anchor_frames(lean_deg, depth_share=None)
    usable = standing & has_outline
    refs = reference_frames(track.time_s, usable if usable.sum() >= MIN_STANDING_REFERENCES else leaning & has_outline)
    if not len(refs):
        return hip, np.zeros(n, bool)
    # The correction changes slowly: register at a fixed rate, interpolate between.
    has_outline &= _on_grid(track.time_s, REGISTER_RATE_HZ)
    templates = [
        (pelvis_template(dense(outlines[i]), hip[i], shoulder[i]), hip[i], _angle(shoulder[i] - hip[i]))
        for i in refs
    ]
    templates = [(tmpl, ref_hip, ref_angle) for tmpl, ref_hip, ref_angle in templates if len(tmpl) >= 20]
    if not templates:
        return hip, np.zeros(n, bool)
    shapes = np.stack([tmpl[np.linspace(0, len(tmpl) - 1, TEMPLATE_POINTS).round().astype(int)]
                       for tmpl, _, _ in templates])                     # (refs, M, 2)
    ref_hips = np.stack([ref_hip for _, ref_hip, _ in templates])        # (refs, 2)
    ref_angles = np.array([ref_angle for _, _, ref_angle in templates])  # (refs,)
    estimate = np.full((n, 2), np.nan)
    rotation = np.full(n, np.nan)
    rms = np.full(n, np.nan)
    todo = np.nonzero(has_outline)[0]
    for chunk in np.array_split(todo, max(1, int(np.ceil(len(todo) / FRAMES_PER_BATCH)))):
        fits = _register_frames(chunk, outlines, hip, shoulder, shapes, ref_hips, ref_angles)
        for i, (point, angle, err) in fits.items():
            estimate[i], rotation[i], rms[i] = point, angle, err
    estimate = reanchor(estimate, rotation, hip, lean_deg)
    return gate_and_smooth(estimate, rms, hip, shoulder, track.time_s)


def _register_frames(
    frames: np.ndarray, outlines: np.ndarray, hip: np.ndarray, shoulder: np.ndarray,
    shapes: np.ndarray, ref_hips: np.ndarray, ref_angles: np.ndarray,
) -> dict[int, tuple[np.ndarray, float, float]]:
    """Register every template, from every starting rotation, in every given frame at once.

    The frames' outlines share one KD-tree: each frame's points are lifted to
    their own height in a third coordinate, far enough apart that a query
    point only ever meets its own frame's outline.

    Returns
    -------
    dict of frame → (carried hip (2,), rotation (rad), rms (px)): the median
    over the templates of each template's best start.
    """
    targets, slots = [], []
    for i in frames:
        length = float(np.linalg.norm(shoulder[i] - hip[i]))
        target = dense(outlines[i])
        target = target[np.linalg.norm(target - hip[i], axis=1) < SEARCH_RADIUS * length]
        if len(target) >= 20:
            targets.append(target)
            slots.append(i)
    if not slots:
        return {}
    slots = np.array(slots)
    k, refs, starts = len(slots), len(shapes), len(START_OFFSETS_DEG)
    height = np.repeat(np.arange(k) * _SLOT_SEPARATION, [len(x) for x in targets])
    points = np.concatenate(targets)
    tree = cKDTree(np.c_[points, height])
    angle = np.arctan2(*(shoulder[slots] - hip[slots]).T[::-1])                           # (k,)
    start = (ROTATION_SHARE * _wrap(angle[:, None] - ref_angles[None, :]))[..., None] \
        + np.radians(START_OFFSETS_DEG)[None, None, :]                                    # (k, refs, starts)
    r0 = _rotations(start.ravel())                                                         # (b, 2, 2), b = k·refs·starts
    carried = np.broadcast_to(ref_hips[None, :, None, :], (k, refs, starts, 2)).reshape(-1, 2)
    t0 = np.repeat(hip[slots], refs * starts, axis=0) - np.einsum("bij,bj->bi", r0, carried)
    src = np.broadcast_to(shapes[None, :, None], (k, refs, starts, *shapes.shape[1:])).reshape(-1, *shapes.shape[1:])
    lift = np.repeat(np.arange(k) * _SLOT_SEPARATION, refs * starts)
    r, t, err = icp_batch(src, points, tree, lift, r0, t0)
    err = err.reshape(k, refs, starts)
    best = np.argmin(err, axis=2)                                                          # (k, refs)
    flat = (np.arange(k)[:, None] * refs + np.arange(refs)[None, :]) * starts + best       # (k, refs)
    hips = np.einsum("kfij,kfj->kfi", r[flat], carried[flat]) + t[flat]
    turns = np.arctan2(r[flat][..., 1, 0], r[flat][..., 0, 0])
    errors = np.take_along_axis(err, best[..., None], axis=2)[..., 0]
    return {int(i): (np.median(hips[j], axis=0), float(np.median(turns[j])), float(np.median(errors[j])))
            for j, i in enumerate(slots)}


def reference_frames(time_s: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Up to ``REFERENCES`` frames spread over the first standing second."""
    frames = np.nonzero(reference)[0]
    if not len(frames):
        return frames
    first = frames[time_s[frames] - time_s[frames[0]] <= REFERENCE_WINDOW_S]
    return first[np.unique(np.linspace(0, len(first) - 1, min(REFERENCES, len(first))).round().astype(int))]


def dense(outline: np.ndarray, step: float = DENSE_STEP_PX) -> np.ndarray:
    """An outline resampled every ``step`` pixels along its length (linear)."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(outline, axis=0), axis=1))])
    if arc[-1] < step:
        return outline
    at = np.arange(0.0, arc[-1], step)
    return np.stack([np.interp(at, arc, outline[:, j]) for j in range(2)], axis=1)


def pelvis_template(outline: np.ndarray, hip: np.ndarray, shoulder: np.ndarray) -> np.ndarray:
    """The outline points within ``TEMPLATE_SPAN`` of the hip along the trunk."""
    axis = shoulder - hip
    length = float(np.linalg.norm(axis))
    s = (outline - hip) @ axis / length**2
    return outline[(s >= TEMPLATE_SPAN[0]) & (s <= TEMPLATE_SPAN[1])]


def icp_batch(
    template: np.ndarray, target: np.ndarray, tree: cKDTree, lift: np.ndarray, r: np.ndarray, t: np.ndarray,
    iterations: int = ICP_ITERATIONS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trimmed point-to-point ICP of ``b`` point sets at once.

    Parameters
    ----------
    template : ndarray (b, m, 2)
        Point sets to move.
    target, tree : ndarray (k, 2) and its KD-tree
        The points to fit onto; the tree is over ``target`` with a third
        coordinate that keeps each frame's points apart.
    lift : ndarray (b,)
        Third coordinate of each set's query points: its frame's in the tree.
    r, t : ndarray (b, 2, 2) and (b, 2)
        Starting rotations and translations.
    iterations : int

    Returns
    -------
    r, t : the fitted rotations and translations
    rms : ndarray (b,)
        Root-mean-square distance of the kept matches (pixels).
    """
    err = np.full(len(template), np.inf)
    for _ in range(iterations):
        moved = np.einsum("bij,bmj->bmi", r, template) + t[:, None, :]
        dist, nearest = tree.query(np.c_[moved.reshape(-1, 2), np.repeat(lift, template.shape[1])])
        dist, matched = dist.reshape(moved.shape[:2]), target[nearest].reshape(moved.shape)
        keep = (dist <= np.quantile(dist, ICP_KEEP, axis=1, keepdims=True)).astype(np.float64)
        r, t = _kabsch_weighted(template, matched, keep)
        new_err = np.sqrt((keep * dist**2).sum(axis=1) / keep.sum(axis=1))
        converged = np.all(np.abs(err - new_err) < ICP_TOLERANCE_PX)
        err = new_err
        if converged:
            break
    return r, t, err


def reanchor(estimate: np.ndarray, rotation: np.ndarray, hip: np.ndarray, lean_deg: np.ndarray) -> np.ndarray:
    """Move the carried point, in pelvis coordinates, onto the model's hip as
    seen on average over the moderately leaning frames (:func:`anchor_frames`;
    the whole ``ANCHOR_LEAN_DEG`` window when they are too few)."""
    ok = np.all(np.isfinite(estimate), axis=1) & np.isfinite(rotation) & np.all(np.isfinite(hip), axis=1)
    anchor = ok & anchor_frames(lean_deg)
    if anchor.sum() < MIN_ANCHOR_FRAMES:
        anchor = ok & anchor_frames(lean_deg, depth_share=None)
    if anchor.sum() < MIN_ANCHOR_FRAMES:
        return estimate
    c, s = np.cos(rotation), np.sin(rotation)
    d = hip - estimate
    local = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], axis=1)  # R^T d
    shift = np.median(local[anchor], axis=0)
    return estimate + np.stack([c * shift[0] - s * shift[1], s * shift[0] + c * shift[1]], axis=1)


def gate_and_smooth(
    estimate: np.ndarray, rms: np.ndarray, hip: np.ndarray, shoulder: np.ndarray, time_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Drop implausible registrations, median-filter the correction over time,
    and carry it into frames without one from their neighbours in time."""
    length = np.linalg.norm(shoulder - hip, axis=1)
    correction = estimate - hip
    with np.errstate(invalid="ignore"):
        typical = np.nanmedian(rms) if np.isfinite(rms).any() else np.nan
        bad = (np.linalg.norm(correction, axis=1) > GATE_DISTANCE * length) | (rms > GATE_RMS * typical)
    correction[bad] = np.nan
    registered = np.all(np.isfinite(correction), axis=1)
    correction[registered] = nan_median_filter(correction[registered], odd_window(time_s[registered], MEDIAN_S))
    # Frames without a registration borrow it from the nearest frames that have
    # one (in trunk-sized terms it changes slowly): the model's own hip there
    # would bring its slide back.
    registered = np.all(np.isfinite(correction), axis=1)
    if not registered.any():
        return hip, np.zeros(len(hip), bool)
    for j in range(2):
        correction[:, j] = np.interp(time_s, time_s[registered], correction[registered, j])
    return hip + correction, np.all(np.isfinite(hip), axis=1)


def anchor_frames(lean_deg: np.ndarray, depth_share: float | None = ANCHOR_DEPTH_SHARE) -> np.ndarray:
    """Frames leaning within ``ANCHOR_LEAN_DEG`` and below ``depth_share`` of
    the clip's deepest lean (no depth limit when None)."""
    lean = np.asarray(lean_deg, np.float64)
    top = ANCHOR_LEAN_DEG[1]
    if depth_share is not None and np.isfinite(lean).any():
        top = min(top, depth_share * float(np.nanpercentile(lean, 95)))
    with np.errstate(invalid="ignore"):
        return (lean >= ANCHOR_LEAN_DEG[0]) & (lean < top)


def _on_grid(time_s: np.ndarray, rate_hz: float) -> np.ndarray:
    """The first frame in each ``1 / rate_hz`` second slot (all frames at or below that rate)."""
    slot = np.floor(np.asarray(time_s, np.float64) * rate_hz)
    return np.concatenate([[True], np.diff(slot) > 0]) if len(slot) else np.zeros(0, bool)


def _kabsch_weighted(src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per set b, the rotation and translation moving ``src`` onto ``dst`` (weighted least squares)."""
    w = weight / weight.sum(axis=1, keepdims=True)
    ms = np.einsum("bm,bmi->bi", w, src)
    md = np.einsum("bm,bmi->bi", w, dst)
    h = np.einsum("bm,bmi,bmj->bij", w, src - ms[:, None], dst - md[:, None])
    u, _, vt = np.linalg.svd(h)
    v, ut = np.transpose(vt, (0, 2, 1)), np.transpose(u, (0, 2, 1))
    flip = np.ones((len(src), 2))
    flip[:, 1] = np.sign(np.linalg.det(v @ ut))
    r = v @ (flip[:, :, None] * ut)
    return r, md - np.einsum("bij,bj->bi", r, ms)


def _rotations(theta: np.ndarray) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], axis=-1), np.stack([s, c], axis=-1)], axis=-2)


def _angle(v: np.ndarray) -> float:
    return float(np.arctan2(v[1], v[0]))


def _wrap(a: float) -> float:
    return (a + np.pi) % (2 * np.pi) - np.pi
