"""Kinematics stage: joint angles, heights and camera view from a pose track.

Sign conventions (all angles in degrees)
----------------------------------------
``knee_flexion``        0 = straight leg, + bent (180 − angle hip–knee–ankle).
``hip_flexion``         0 = standing tall, + flexed (180 − angle shoulder–hip–knee).
                        This is the *landmark* hip angle: it includes any lumbar
                        flexion, which the spine stage separates out.
``ankle_dorsiflexion``  0 = shin perpendicular to the foot, + shin tilted over the toes.
``trunk_inclination``   angle of the hip→shoulder line from vertical; 0 upright,
                        + leaning toward where the lifter faces, − leaning back.
``shin_angle``          angle of the ankle→knee line from vertical, + knee ahead of ankle.
``thigh_angle``         angle of the hip→knee line from horizontal; + hip above the
                        knee (squat depth: ≤ 0 means the hip is at or below the knee).
Heights (``hip_height``, ``shoulder_height``, ``wrist_height``) are vertical
distances above the ankles in units of the lifter's leg length (hip→knee→ankle),
from the metric world landmarks, so they do not depend on camera distance.
``wrist_forward`` is the horizontal distance of the wrists ahead of the mid-foot
(toward where the lifter faces) in leg lengths; side views only.

In a side view (see :func:`camera_view`) angles come from image landmarks
(left/right midpoints, since the far side is hidden); in other views from the
world landmarks, which are less exact but do not collapse with projection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formcheck.pose import landmarks as lm
from formcheck.pose.track import PoseTrack

#: Units of each kinematic signal, for tables and plots.
UNITS: dict[str, str] = {
    "knee_flexion": "deg",
    "hip_flexion": "deg",
    "ankle_dorsiflexion": "deg",
    "trunk_inclination": "deg",
    "shin_angle": "deg",
    "thigh_angle": "deg",
    "hip_height": "leg_lengths",
    "shoulder_height": "leg_lengths",
    "wrist_height": "leg_lengths",
    "wrist_forward": "leg_lengths",
    "sideness": "deg",
    "lower_body_visibility": "score",
}

SIDE_MIN_DEG = 65.0
FRONT_MAX_DEG = 25.0
#: Typical half-widths of shoulders and hips relative to the hip→shoulder
#: distance when the lifter faces the camera (adult proportions).
_FRONTAL_WIDTH_RATIO = 0.62


@dataclass(frozen=True, eq=False)
class Kinematics:
    """Per-frame kinematic signals of one lifter.

    Attributes
    ----------
    time_s : ndarray, shape (n,)
    signals : dict of str → ndarray, shape (n,)
        Keys and units in :data:`UNITS`; NaN where the lifter is not seen.
    view : str
        ``"side"``, ``"oblique"``, ``"front"``, ``"rear"`` or ``"unknown"``.
    sideness_deg : float
        Median body yaw away from facing the camera: 90 pure side, 0 front/rear.
    facing : int
        +1 lifter faces image right, −1 image left, 0 unknown (non-side views).
    """

    time_s: np.ndarray
    signals: dict[str, np.ndarray]
    view: str
    sideness_deg: float
    facing: int
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.signals[name]

    def __len__(self) -> int:
        return len(self.time_s)


def midpoint(points: np.ndarray, pair: str) -> np.ndarray:
    """Mean of the left/right landmarks named ``pair`` (see ``landmarks.PAIRS``)."""
    left, right = lm.PAIRS[pair]
    return 0.5 * (points[:, left] + points[:, right])


def joint_angle(a: np.ndarray, vertex: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle a–vertex–b in degrees for arrays of 2D or 3D points (..., d)."""
    u = a - vertex
    v = b - vertex
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def sideness_per_frame(track: PoseTrack) -> np.ndarray:
    """Body yaw away from facing the camera, degrees: 90 pure side, 0 front/rear.

    From the image: in a side view shoulders and hips overlap, so their
    left–right spread is small relative to the trunk length.
    """
    xy = track.xy
    trunk = np.linalg.norm(midpoint(xy, "shoulder") - midpoint(xy, "hip"), axis=-1)
    shoulder_w = np.linalg.norm(xy[:, lm.LEFT_SHOULDER] - xy[:, lm.RIGHT_SHOULDER], axis=-1)
    hip_w = np.linalg.norm(xy[:, lm.LEFT_HIP] - xy[:, lm.RIGHT_HIP], axis=-1)
    ratio = 0.5 * (shoulder_w + hip_w) / trunk / _FRONTAL_WIDTH_RATIO
    with np.errstate(invalid="ignore"):
        return np.degrees(np.arccos(np.clip(ratio, 0.0, 1.0)))


def camera_view(track: PoseTrack, sideness: np.ndarray | None = None) -> tuple[str, float]:
    """Classify the camera view from the body's own geometry.

    Returns
    -------
    view : str
        ``side`` (≥ 65° from facing the camera), ``oblique`` (25–65°),
        ``front`` or ``rear`` (< 25°; front when the face is visible and the
        lifter's left side is on the image right), ``unknown`` without a pose.
    sideness_deg : float
        Median sideness over frames with a pose.
    """
    if sideness is None:
        sideness = sideness_per_frame(track)
    valid = np.isfinite(sideness)
    if valid.sum() < 3:
        return "unknown", float("nan")
    median = float(np.median(sideness[valid]))
    if median >= SIDE_MIN_DEG:
        return "side", median
    if median > FRONT_MAX_DEG:
        return "oblique", median
    xy = track.xy[valid]
    mirrored = np.median(xy[:, lm.LEFT_SHOULDER, 0] - xy[:, lm.RIGHT_SHOULDER, 0]) > 0
    face_seen = np.median(track.visibility[valid, lm.NOSE]) > 0.5
    return ("front" if mirrored and face_seen else "rear"), median


def view_read(view: str, sideness_deg: float) -> str:
    """What a view call rests on, in words, for a reason a check was withheld.

    An oblique call is a measurement near a cut-off, and a side view can read
    as one (a back squat's bar and arms spread the far shoulder: rendered squats
    filmed square from the side read 55–65°), so the reading is stated rather
    than "this video is oblique".

    >>> view_read("oblique", 63.4)
    'the shoulders and hips read 63° from facing the camera: front or rear up to 25°, side from 65°'
    >>> view_read("front", 8.0)
    'this video is front'
    """
    if view == "oblique" and np.isfinite(sideness_deg):
        return (f"the shoulders and hips read {sideness_deg:.0f}° from facing the camera: "
                f"front or rear up to {FRONT_MAX_DEG:.0f}°, side from {SIDE_MIN_DEG:.0f}°")
    return f"this video is {view}"


def facing_direction(track: PoseTrack) -> int:
    """+1 if the lifter faces image right, −1 if left, 0 if it cannot be told.

    Toes point where the lifter faces; the nose ahead of the ears backs it up.
    """
    xy = track.xy
    toes = np.nanmedian(midpoint(xy, "foot_index")[:, 0] - midpoint(xy, "heel")[:, 0])
    nose = np.nanmedian(xy[:, lm.NOSE, 0] - midpoint(xy, "ear")[:, 0])
    vote = np.nansum([np.sign(toes) * 2.0, np.sign(nose)])
    return int(np.sign(vote)) if np.isfinite(vote) else 0


def compute_kinematics(track: PoseTrack, view: str | None = None) -> Kinematics:
    """All kinematic signals of a (smoothed) pose track.

    Parameters
    ----------
    track : PoseTrack
        Usually the output of :func:`formcheck.pose.filters.smooth_track`.
    view : str, optional
        Force the camera view instead of detecting it.
    """
    sideness = sideness_per_frame(track)
    detected_view, sideness_deg = camera_view(track, sideness)
    view = view or detected_view
    facing = facing_direction(track) if view == "side" else 0
    xy = track.xy.astype(np.float64)
    world = track.world.astype(np.float64)

    hip3, knee3, ankle3 = (midpoint(world, k) for k in ("hip", "knee", "ankle"))
    shoulder3, wrist3 = midpoint(world, "shoulder"), midpoint(world, "wrist")
    leg_length = np.nanmedian(
        np.linalg.norm(hip3 - knee3, axis=-1) + np.linalg.norm(knee3 - ankle3, axis=-1)
    )
    if not np.isfinite(leg_length) or leg_length <= 0:
        leg_length = 1.0
    # World y points down; heights are measured up from the ankles.
    signals = {
        "hip_height": (ankle3[:, 1] - hip3[:, 1]) / leg_length,
        "shoulder_height": (ankle3[:, 1] - shoulder3[:, 1]) / leg_length,
        "wrist_height": (ankle3[:, 1] - wrist3[:, 1]) / leg_length,
    }

    if view == "side":
        points = {k: midpoint(xy, k) for k in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index", "wrist")}
        direction = facing if facing else 1
        signals.update(_sagittal_angles(points, direction))
        leg_px = np.nanmedian(
            np.linalg.norm(points["hip"] - points["knee"], axis=-1)
            + np.linalg.norm(points["knee"] - points["ankle"], axis=-1)
        )
        mid_foot_x = 0.5 * (points["heel"][:, 0] + points["foot_index"][:, 0])
        signals["wrist_forward"] = direction * (points["wrist"][:, 0] - mid_foot_x) / leg_px
    else:
        points = {k: midpoint(world, k) for k in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index")}
        signals.update(_world_angles(world, points))
        signals["wrist_forward"] = np.full(len(track), np.nan)

    signals["sideness"] = sideness
    lower = [lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_KNEE, lm.RIGHT_KNEE, lm.LEFT_ANKLE, lm.RIGHT_ANKLE]
    vis = track.visibility[:, lower].reshape(len(track), 3, 2).max(axis=2).min(axis=1)
    signals["lower_body_visibility"] = vis.astype(np.float64)
    return Kinematics(
        time_s=track.time_s,
        signals=signals,
        view=view,
        sideness_deg=sideness_deg,
        facing=facing,
        meta={"leg_length_m": float(leg_length)},
    )


def _sagittal_angles(p: dict[str, np.ndarray], direction: int) -> dict[str, np.ndarray]:
    """Angles in the image plane of a side view (y down), signed by facing direction."""

    def from_vertical(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        d = upper - lower
        return np.degrees(np.arctan2(direction * d[:, 0], -d[:, 1]))

    shin_angle = from_vertical(p["ankle"], p["knee"])
    foot = p["foot_index"] - p["heel"]
    foot_angle = np.degrees(np.arctan2(-foot[:, 1], direction * foot[:, 0]))  # + toes up
    thigh = p["knee"] - p["hip"]
    return {
        "knee_flexion": 180.0 - joint_angle(p["hip"], p["knee"], p["ankle"]),
        "hip_flexion": 180.0 - joint_angle(p["shoulder"], p["hip"], p["knee"]),
        "trunk_inclination": from_vertical(p["hip"], p["shoulder"]),
        "shin_angle": shin_angle,
        "ankle_dorsiflexion": shin_angle - foot_angle,
        "thigh_angle": np.degrees(np.arctan2(thigh[:, 1], np.abs(thigh[:, 0]))),
    }


def _world_angles(world: np.ndarray, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """View-independent angles from metric landmarks, averaged over both sides."""

    def both_sides(a: int, v: int, b: int, a2: int, v2: int, b2: int) -> np.ndarray:
        return 0.5 * (joint_angle(world[:, a], world[:, v], world[:, b]) + joint_angle(world[:, a2], world[:, v2], world[:, b2]))

    def from_vertical(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        d = upper - lower
        return np.degrees(np.arctan2(np.hypot(d[:, 0], d[:, 2]), -d[:, 1]))

    knee = 180.0 - both_sides(lm.LEFT_HIP, lm.LEFT_KNEE, lm.LEFT_ANKLE, lm.RIGHT_HIP, lm.RIGHT_KNEE, lm.RIGHT_ANKLE)
    hip = 180.0 - both_sides(lm.LEFT_SHOULDER, lm.LEFT_HIP, lm.LEFT_KNEE, lm.RIGHT_SHOULDER, lm.RIGHT_HIP, lm.RIGHT_KNEE)
    ankle = 90.0 - both_sides(lm.LEFT_KNEE, lm.LEFT_ANKLE, lm.LEFT_FOOT_INDEX, lm.RIGHT_KNEE, lm.RIGHT_ANKLE, lm.RIGHT_FOOT_INDEX)
    thigh = p["knee"] - p["hip"]
    return {
        "knee_flexion": knee,
        "hip_flexion": hip,
        "trunk_inclination": from_vertical(p["hip"], p["shoulder"]),
        "shin_angle": from_vertical(p["ankle"], p["knee"]),
        "ankle_dorsiflexion": ankle,
        "thigh_angle": np.degrees(np.arctan2(thigh[:, 1], np.hypot(thigh[:, 0], thigh[:, 2]))),
    }
