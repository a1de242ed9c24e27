"""Whether each joint was seen, frame by frame, and if not, why.

The pose model always returns all 33 landmarks, even for joints it cannot
see: behind a barbell plate, off the edge of the picture, or on the far
side of the body. A check that grades such a guess raises false alarms
(NOTES: a hip landmark on the plate makes an upright lifter lean 20° back),
so every check asks, at the moment it judges, whether its joints were seen.

Per joint (the better seen side of the pair: in a side view the far leg is
always hidden by the near one) and frame, one code:

``SEEN`` (0)
    in the picture, the model's visibility at least ``MIN_VISIBILITY``, and
    not inside the near plate's disc;
``LOW_VISIBILITY`` (1)
    the model itself says it could not see it;
``OUT_OF_FRAME`` (2)
    the landmark lies outside the picture (a guess by construction);
``BEHIND_PLATE`` (3)
    inside the disc of the plate followed in that frame (when a plate is
    followed: ``PoseTrack.plate``).

Hidden by another person is not told apart: the track keeps the lifter
only, and the model's visibility drops for a joint another person covers.

>>> import numpy as np
>>> xy = np.array([[[100.0, 100.0], [700.0, 100.0]]])      # one frame, two landmarks
>>> vis = np.array([[0.9, 0.9]])
>>> landmark_status(xy, vis, (640, 480)).tolist()
[[0, 2]]
>>> landmark_status(xy, vis, (640, 480), plate_xy=np.array([[110.0, 95.0]]), plate_radius=np.array([40.0])).tolist()
[[3, 2]]
"""

from __future__ import annotations

import numpy as np

from formcheck.pose import landmarks as lm
from formcheck.pose.track import PoseTrack

SEEN, LOW_VISIBILITY, OUT_OF_FRAME, BEHIND_PLATE = 0, 1, 2, 3
#: The model's visibility below which a landmark counts as not seen.
MIN_VISIBILITY = 0.5
#: A landmark within this share of the plate's radius from its centre is behind it.
PLATE_DISC_SHARE = 0.95
#: Joints whose seen-ness the checks ask about (signal ``<joint>_seen``).
JOINTS = ("shoulder", "hip", "knee", "ankle", "heel", "foot_index", "wrist")
#: What each code means, for "not judged" messages.
WORDS = {LOW_VISIBILITY: "could not be seen", OUT_OF_FRAME: "were outside the picture", BEHIND_PLATE: "were behind the plate"}


def landmark_status(
    xy: np.ndarray,
    visibility: np.ndarray,
    frame_size: tuple[int, int],
    plate_xy: np.ndarray | None = None,
    plate_radius: np.ndarray | None = None,
) -> np.ndarray:
    """Code of every landmark in every frame (module docstring).

    Parameters
    ----------
    xy : ndarray, shape (n, k, 2)
        Landmarks in pixels (NaN: no person).
    visibility : ndarray, shape (n, k)
    frame_size : (width, height)
    plate_xy : ndarray, shape (n, 2), optional
        Centre of the near plate per frame (NaN where not followed).
    plate_radius : ndarray, shape (n,), optional

    Returns
    -------
    ndarray of int8, shape (n, k)
    """
    xy = np.asarray(xy, np.float64)
    width, height = frame_size
    status = np.full(xy.shape[:2], SEEN, np.int8)
    with np.errstate(invalid="ignore"):
        status[np.asarray(visibility, np.float64) < MIN_VISIBILITY] = LOW_VISIBILITY
        outside = (xy[..., 0] < 0) | (xy[..., 0] >= width) | (xy[..., 1] < 0) | (xy[..., 1] >= height)
        status[outside] = OUT_OF_FRAME
        if plate_xy is not None and plate_radius is not None:
            distance = np.linalg.norm(xy - np.asarray(plate_xy, np.float64)[:, None, :], axis=-1)
            behind = distance < PLATE_DISC_SHARE * np.asarray(plate_radius, np.float64)[:, None]
            status[behind & ~outside] = BEHIND_PLATE
    status[~np.isfinite(xy).all(axis=-1)] = LOW_VISIBILITY
    return status


def joint_status(status: np.ndarray, visibility: np.ndarray, joint: str) -> np.ndarray:
    """Per frame, the code of a joint pair: seen if either side is; else the better-seen side's reason."""
    left, right = lm.PAIRS[joint]
    vis = np.nan_to_num(np.asarray(visibility, np.float64)[:, [left, right]], nan=-1.0)
    pair = status[:, [left, right]]
    better = pair[np.arange(len(pair)), np.argmax(vis, axis=1)] if len(pair) else np.zeros(0, np.int8)
    return np.where((pair == SEEN).any(axis=1), SEEN, better).astype(np.int8)


def seen_signals(track: PoseTrack) -> dict[str, np.ndarray]:
    """``<joint>_seen`` per frame for the checks: the code of :func:`joint_status` (0 = seen),
    and ``<joint>_from_plate`` for the hips and knees (:func:`plate_distance`)."""
    status = landmark_status(track.xy, track.visibility, track.frame_size, track.plate[:, :2], track.plate[:, 2])
    out = {f"{joint}_seen": joint_status(status, track.visibility, joint).astype(np.float64) for joint in JOINTS}
    for joint in PLATE_JOINTS:
        out[f"{joint}_from_plate"] = plate_distance(track.xy, track.plate, joint)
    out["hip_above_plate"] = height_above_plate(track.xy, track.plate, "hip")
    return out


def height_above_plate(xy: np.ndarray, plate: np.ndarray, joint: str) -> np.ndarray:
    """Per frame, how far the midpoint of ``joint``'s pair is above the followed
    plate's centre, in plate radii (NaN where no plate is followed): visible
    evidence of the start position when the plate hides the knees.

    >>> xy = np.full((1, 33, 2), 0.0); xy[0, [23, 24]] = (100.0, 60.0)
    >>> height_above_plate(xy, np.array([[100.0, 100.0, 20.0, 0.9]]), "hip").tolist()
    [2.0]
    """
    left, right = lm.PAIRS[joint]
    plate = np.asarray(plate, np.float64)
    y = np.asarray(xy, np.float64)[:, [left, right], 1].mean(axis=1)
    with np.errstate(invalid="ignore"):
        return (plate[:, 1] - y) / plate[:, 2]


#: Joints a plate covers in a side view (hips at lockout, knees at the floor).
PLATE_JOINTS = ("hip", "knee")
#: A joint whose landmark lies within this many plate radii of the plate's centre
#: may be behind it: the model's guess of a hidden joint slides onto and around
#: the disc (rendered deadlifts, hips truly behind the plate at lockout: the
#: landmark sat 0.9–1.1 radii from the centre, half the frames outside the disc).
COVERED_RADII = 1.5


def plate_distance(xy: np.ndarray, plate: np.ndarray, joint: str) -> np.ndarray:
    """Per frame, the distance of the nearer landmark of ``joint``'s pair from the
    followed plate's centre, in plate radii (NaN where no plate is followed).

    >>> xy = np.full((1, 33, 2), 500.0); xy[0, 23] = (110.0, 100.0)
    >>> plate_distance(xy, np.array([[100.0, 100.0, 20.0, 0.9]]), "hip").round(2).tolist()
    [0.5]
    """
    left, right = lm.PAIRS[joint]
    plate = np.asarray(plate, np.float64)
    with np.errstate(invalid="ignore"):
        d = np.linalg.norm(np.asarray(xy, np.float64)[:, [left, right]] - plate[:, None, :2], axis=-1)
        return np.fmin(d[:, 0], d[:, 1]) / plate[:, 2]


def plate_covers(signals, joint: str, frames: np.ndarray) -> bool:
    """Whether the plate may hide ``joint`` over ``frames``: where the plate is
    followed on them, the joint's landmark was mostly within ``COVERED_RADII``."""
    key = f"{joint}_from_plate"
    if key not in signals or len(frames) == 0:
        return False
    d = np.asarray(signals[key], np.float64)[np.asarray(frames, int)]
    d = d[np.isfinite(d)]
    return bool(len(d)) and float(np.median(d)) < COVERED_RADII


def hidden_reason(signals, joints: tuple[str, ...], frames: np.ndarray, min_share: float = 0.6) -> str | None:
    """Why these joints cannot be judged on these frames, or None when they were seen enough.

    A joint counts as seen when at least ``min_share`` of the frames saw it;
    otherwise the most common reason names it ("the knees were behind the plate").
    """
    frames = np.asarray(frames, int)
    if len(frames) == 0:
        return None
    for joint in joints:
        key = f"{joint}_seen"
        if key not in signals:
            continue
        codes = np.asarray(signals[key])[frames]
        if np.mean(codes == SEEN) >= min_share:
            continue
        reasons = codes[codes != SEEN].astype(int)
        common = int(np.bincount(reasons).argmax()) if len(reasons) else LOW_VISIBILITY
        return f"the {joint.replace('_index', '').replace('foot', 'toe')}s {WORDS.get(common, 'could not be seen')}"
    return None


def outside_share(signals, joints: tuple[str, ...], frames: np.ndarray) -> float:
    """Share of ``frames`` where any of ``joints`` was outside the picture (0 without the signals).

    >>> outside_share({"hip_seen": np.array([0, 2, 2, 0])}, ("hip",), np.arange(4))
    0.5
    """
    frames = np.asarray(frames, int)
    if len(frames) == 0 or not all(f"{j}_seen" in signals for j in joints):
        return 0.0
    codes = np.stack([np.asarray(signals[f"{j}_seen"])[frames] for j in joints])
    return float(np.mean((codes == OUT_OF_FRAME).any(axis=0)))
