"""A kinematic lifter: segment proportions, forward kinematics, landmarks, surface.

Lab frame (metres): X forward (where the lifter faces), Y up, Z to the
lifter's right; the floor is Y = 0. The model is sagittal: every joint angle
turns a segment in the X–Y plane, and each limb keeps its own constant Z, which
is all the lifts here need.

Angles (degrees), all 0 in relaxed standing with the natural spinal curves:

* ``pelvis_tilt`` + anterior (top of the pelvis forward);
* ``hip_flexion`` thigh vs pelvis, + flexion; ``knee_flexion`` + flexion;
* ``ankle_dorsiflexion`` shank vs foot; ``heel_rise`` foot vs floor about
  the ball of the foot (+ heel up);
* ``lumbar_flexion`` + flexion / − extension relative to the neutral standing
  lordosis, spread over the three lumbar joints (L5/S1, L3, T12/L1);
* ``thoracic_flexion`` relative to the neutral kyphosis (T12/L1, T7);
* ``neck_flexion`` head and neck vs upper thorax (C7, C1);
* ``shoulder_flexion`` upper arm vs upper thorax (+ arm forward),
  ``elbow_flexion``, ``wrist_flexion``.

Proportions follow Winter (2009) / de Leva (1996), as fractions of height.
The skin and clothes built on a :class:`Skeleton` (capsules, elliptical trunk
cross-sections that follow the spine) are in :mod:`formcheck.synth.surface`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from formcheck.pose import landmarks as lm

# ---------------------------------------------------------------- proportions
# Neutral standing geometry in units of body height, hip-joint-centre midpoint
# at the origin (X forward, Y up). Spine points are vertebral-body centres.
_SPINE_NEUTRAL = {
    "S1": (-0.035, 0.055),   # L5/S1
    "L3": (-0.025, 0.105),
    "T12": (-0.035, 0.155),  # T12/L1
    "T7": (-0.040, 0.235),
    "C7": (-0.020, 0.320),   # C7/T1
    "C1": (0.000, 0.375),    # atlanto-occipital joint, just below the ear
}
_SPINE_ORDER = ("S1", "L3", "T12", "T7", "C7", "C1")
#: Share of lumbar flexion taken by the joints L5/S1, L3, T12/L1.
LUMBAR_WEIGHTS = (0.3, 0.4, 0.3)
#: Share of thoracic flexion taken by the joints T12/L1 and T7.
THORACIC_WEIGHTS = (0.3, 0.7)
#: Shoulder joint centre (glenohumeral), carried by the upper thorax.
_SHOULDER_NEUTRAL = (0.015, 0.288)
#: The pose model's "shoulder" is the top of the shoulder, this far above the joint (m).
SHOULDER_TOP_OFFSET_M = 0.04
#: The pose model's "ear" sits this far forward of the anatomical ear (m).
EAR_FORWARD_OFFSET_M = 0.03

# Head frame: origin at C1, x forward along the face, y up (units of height).
_HEAD_POINTS = {
    "ear": (0.0, 0.015),
    "nose": (0.066, 0.0),
    "eye_inner": (0.056, 0.030),
    "eye": (0.053, 0.031),
    "eye_outer": (0.048, 0.031),
    "mouth": (0.058, -0.020),
    "chin": (0.046, -0.040),
}
_HEAD_Z = {"ear": 0.043, "eye_inner": 0.009, "eye": 0.018, "eye_outer": 0.026, "mouth": 0.013}

# Foot frame: origin at the ankle joint, x toward the toes, y up (units of height).
_FOOT_POINTS = {
    "heel": (-0.040, -0.028),       # back of the heel (landmark)
    "heel_sole": (-0.030, -0.039),
    "ball_sole": (0.080, -0.039),
    "toe_tip": (0.112, -0.030),     # landmark "foot_index"
    "mid_foot": (0.040, -0.039),
}


@dataclass(frozen=True)
class BodyDims:
    """Segment lengths, widths and radii of one lifter, scaled by height.

    Build with :meth:`from_height`; every length is in metres.
    """

    height: float = 1.75
    thigh: float = 0.245 * 1.75
    shank: float = 0.246 * 1.75
    ankle_height: float = 0.039 * 1.75
    upper_arm: float = 0.186 * 1.75
    forearm: float = 0.146 * 1.75
    hand: float = 0.108 * 1.75
    hip_half_width: float = 0.050 * 1.75
    shoulder_half_width: float = 0.105 * 1.75
    foot_half_width: float = 0.055 * 1.75

    @classmethod
    def from_height(cls, height: float = 1.75) -> "BodyDims":
        """Winter/de Leva proportions for a lifter ``height`` metres tall."""
        h = float(height)
        if not 1.0 <= h <= 2.3:
            raise ValueError(f"body height {h} m is outside 1.0–2.3 m")
        return cls(
            height=h, thigh=0.245 * h, shank=0.246 * h, ankle_height=0.039 * h,
            upper_arm=0.186 * h, forearm=0.146 * h, hand=0.108 * h,
            hip_half_width=0.050 * h, shoulder_half_width=0.105 * h, foot_half_width=0.055 * h,
        )

    @property
    def arm_reach(self) -> float:
        """Shoulder joint to the centre of a closed grip, arm straight (m)."""
        return self.upper_arm + self.forearm + 0.42 * self.hand


_ANGLE_FIELDS = (
    "pelvis_tilt", "hip_flexion", "knee_flexion", "ankle_dorsiflexion", "heel_rise",
    "lumbar_flexion", "thoracic_flexion", "neck_flexion",
    "shoulder_flexion", "elbow_flexion", "wrist_flexion",
)


@dataclass(frozen=True)
class BodyPose:
    """Joint angles (degrees) for ``n`` frames; scalars broadcast.

    ``ankle_dorsiflexion=None`` means "whatever keeps the foot flat (or lifted
    by ``heel_rise``)": with planted feet the ankle follows from the pelvis,
    hip and knee. ``mid_foot_x`` is where the middle of the (flat) foot is
    planted, lab X in metres; the ball of the foot stays there when the heel
    rises. ``pelvis_xy`` is only used when ``plant_feet`` is False.
    """

    pelvis_tilt: np.ndarray | float = 0.0
    hip_flexion: np.ndarray | float = 0.0
    knee_flexion: np.ndarray | float = 0.0
    ankle_dorsiflexion: np.ndarray | float | None = None
    heel_rise: np.ndarray | float = 0.0
    lumbar_flexion: np.ndarray | float = 0.0
    thoracic_flexion: np.ndarray | float = 0.0
    neck_flexion: np.ndarray | float = 0.0
    shoulder_flexion: np.ndarray | float = 0.0
    elbow_flexion: np.ndarray | float = 0.0
    wrist_flexion: np.ndarray | float = 0.0
    mid_foot_x: np.ndarray | float = 0.0
    pelvis_xy: np.ndarray | None = None
    plant_feet: bool = True

    def __len__(self) -> int:
        sizes = [np.size(getattr(self, f)) for f in _ANGLE_FIELDS if getattr(self, f) is not None]
        return int(max(sizes + [np.size(self.mid_foot_x)]))

    def arrays(self) -> dict[str, np.ndarray]:
        """All angle fields as float arrays of shape (n,) (None stays None)."""
        n = len(self)
        out = {}
        for name in _ANGLE_FIELDS:
            value = getattr(self, name)
            out[name] = None if value is None else np.broadcast_to(np.asarray(value, float), (n,)).copy()
        return out

    def replace(self, **changes) -> "BodyPose":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, eq=False)
class Skeleton:
    """Forward-kinematics result for ``n`` frames.

    Attributes
    ----------
    points : dict of str to ndarray (n, 3)
        Lab positions (m) of joint centres and surface reference points.
        Names ending in ``_l``/``_r`` are per side.
    angles : dict of str to ndarray (n,)
        Absolute segment orientations in radians, clockwise from neutral
        standing when seen with the lifter facing right (top of the segment
        forward = positive).
    dims : BodyDims
    pose : dict of str to ndarray (n,)
        The joint angles actually used (ankle filled in), degrees.
    """

    points: dict[str, np.ndarray]
    angles: dict[str, np.ndarray]
    dims: BodyDims
    pose: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.points.values())))

    def midpoint(self, name: str) -> np.ndarray:
        """Midpoint of ``name_l`` and ``name_r``."""
        return 0.5 * (self.points[name + "_l"] + self.points[name + "_r"])


# ---------------------------------------------------------------- 2D helpers
def rotate(vec: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Rotate 2D vectors clockwise by ``theta`` (radians), broadcasting.

    ``vec`` has shape (..., 2); ``theta`` broadcasts against ``vec[..., 0]``.
    Clockwise with X forward and Y up tips a segment's top forward.
    """
    vec = np.asarray(vec, float)
    c, s = np.cos(theta), np.sin(theta)
    x, y = vec[..., 0], vec[..., 1]
    return np.stack([x * c + y * s, -x * s + y * c], axis=-1)


def _xyz(xy: np.ndarray, z: float) -> np.ndarray:
    return np.concatenate([xy, np.full(xy.shape[:-1] + (1,), z)], axis=-1)


def forward_kinematics(dims: BodyDims, pose: BodyPose) -> Skeleton:
    """Joint centres and surface reference points for every frame.

    With ``pose.plant_feet`` the whole body is shifted so the ball of the foot
    sits on the floor, ``0.04 * height`` ahead of ``pose.mid_foot_x``; the heel
    lifts when ``heel_rise`` > 0. Both legs and both arms move together
    (symmetric lifts).
    """
    a = pose.arrays()
    n = len(pose)
    H = dims.height
    rad = {k: (None if v is None else np.radians(v)) for k, v in a.items()}

    # Segment orientations (clockwise from standing).
    th_pelvis = rad["pelvis_tilt"]
    th_thigh = th_pelvis - rad["hip_flexion"]
    th_shank = th_thigh + rad["knee_flexion"]
    if rad["ankle_dorsiflexion"] is None:
        th_foot = rad["heel_rise"]
        a["ankle_dorsiflexion"] = np.degrees(th_shank - th_foot)
    else:
        th_foot = th_shank - rad["ankle_dorsiflexion"]
    f, t = rad["lumbar_flexion"], rad["thoracic_flexion"]
    joint_turn = {  # rotation added at each spinal joint
        "S1": LUMBAR_WEIGHTS[0] * f,
        "L3": LUMBAR_WEIGHTS[1] * f,
        "T12": LUMBAR_WEIGHTS[2] * f + THORACIC_WEIGHTS[0] * t,
        "T7": THORACIC_WEIGHTS[1] * t,
        "C7": 0.5 * rad["neck_flexion"],
        "C1": 0.5 * rad["neck_flexion"],
    }

    pts2: dict[str, np.ndarray] = {}
    ang: dict[str, np.ndarray] = {"pelvis": th_pelvis, "thigh": th_thigh, "shank": th_shank, "foot": th_foot}
    origin = np.zeros((n, 2))
    pts2["hip"] = origin
    neutral = {k: np.array(v) * H for k, v in _SPINE_NEUTRAL.items()}
    pts2["S1"] = origin + rotate(neutral["S1"], th_pelvis)
    theta = th_pelvis
    segment_names = ("lower_lumbar", "upper_lumbar", "lower_thoracic", "upper_thoracic", "neck")
    for lower, upper, seg in zip(_SPINE_ORDER[:-1], _SPINE_ORDER[1:], segment_names):
        theta = theta + joint_turn[lower]
        ang[seg] = theta
        pts2[upper] = pts2[lower] + rotate(neutral[upper] - neutral[lower], theta)
    ang["head"] = theta + joint_turn["C1"]

    # Shoulder girdle rides on the upper thorax.
    th_ut = ang["upper_thoracic"]
    shoulder = pts2["T7"] + rotate(np.array(_SHOULDER_NEUTRAL) * H - neutral["T7"], th_ut)
    pts2["shoulder"] = shoulder
    pts2["shoulder_top"] = shoulder + rotate(np.array([0.0, SHOULDER_TOP_OFFSET_M * H / 1.75]), th_ut)
    th_ua = th_ut - rad["shoulder_flexion"]
    th_fa = th_ua - rad["elbow_flexion"]
    th_hand = th_fa - rad["wrist_flexion"]
    ang.update(upper_arm=th_ua, forearm=th_fa, hand=th_hand)
    pts2["elbow"] = shoulder + rotate(np.array([0.0, -dims.upper_arm]), th_ua)
    pts2["wrist"] = pts2["elbow"] + rotate(np.array([0.0, -dims.forearm]), th_fa)
    pts2["grip"] = pts2["wrist"] + rotate(np.array([0.0, -0.42 * dims.hand]), th_hand)
    pts2["hand_index"] = pts2["wrist"] + rotate(np.array([0.004 * H, -0.048 * H]), th_hand)
    pts2["hand_pinky"] = pts2["wrist"] + rotate(np.array([-0.004 * H, -0.044 * H]), th_hand)
    pts2["hand_thumb"] = pts2["wrist"] + rotate(np.array([0.012 * H, -0.026 * H]), th_hand)
    pts2["hand_tip"] = pts2["wrist"] + rotate(np.array([0.0, -0.75 * dims.hand]), th_hand)

    # Head.
    th_head = ang["head"]
    for name, xy in _HEAD_POINTS.items():
        pts2["head_" + name] = pts2["C1"] + rotate(np.array(xy) * H, th_head)
    pts2["head_ear_model"] = pts2["head_ear"] + rotate(np.array([EAR_FORWARD_OFFSET_M * H / 1.75, 0.0]), th_head)

    # Legs (both sides identical in the sagittal plane).
    pts2["knee"] = origin + rotate(np.array([0.0, -dims.thigh]), th_thigh)
    pts2["ankle"] = pts2["knee"] + rotate(np.array([0.0, -dims.shank]), th_shank)
    for name, xy in _FOOT_POINTS.items():
        pts2["foot_" + name] = pts2["ankle"] + rotate(np.array(xy) * H, th_foot)
    # The toes stay flat on the floor when the heel rises (they bend at the ball).
    th_toe = np.minimum(th_foot, 0.0)
    toe_vec = (np.array(_FOOT_POINTS["toe_tip"]) - np.array(_FOOT_POINTS["ball_sole"])) * H
    pts2["foot_toe_tip"] = pts2["foot_ball_sole"] + rotate(toe_vec, th_toe)
    ang["toe"] = th_toe

    # Plant the feet: ball of the foot on the floor, mid-foot at mid_foot_x.
    if pose.plant_feet:
        ball_offset = (_FOOT_POINTS["ball_sole"][0] - _FOOT_POINTS["mid_foot"][0]) * H
        ball_x = np.broadcast_to(np.asarray(pose.mid_foot_x, float), (n,)) + ball_offset
        shift = np.stack([ball_x, np.zeros(n)], axis=-1) - pts2["foot_ball_sole"]
    else:
        shift = np.broadcast_to(np.asarray(pose.pelvis_xy, float), (n, 2)) - pts2["hip"]
    pts2 = {k: v + shift for k, v in pts2.items()}

    points = _to_3d(pts2, dims)
    return Skeleton(points=points, angles=ang, dims=dims, pose=a)


def _to_3d(pts2: dict[str, np.ndarray], dims: BodyDims) -> dict[str, np.ndarray]:
    """Attach lateral (Z) positions: limbs per side, trunk and head on the midline."""
    H = dims.height
    legs = ("knee", "ankle") + tuple(k for k in pts2 if k.startswith("foot_"))
    arms = ("shoulder", "shoulder_top", "elbow", "wrist", "grip", "hand_tip")
    points: dict[str, np.ndarray] = {}
    for side, sign in (("l", -1.0), ("r", 1.0)):
        points[f"hip_{side}"] = _xyz(pts2["hip"], sign * dims.hip_half_width)
        for k in legs:
            points[f"{k}_{side}"] = _xyz(pts2[k], sign * dims.foot_half_width)
        for k in arms:
            points[f"{k}_{side}"] = _xyz(pts2[k], sign * dims.shoulder_half_width)
        # Overhand grip, palms back: thumbs toward the midline, little fingers out.
        points[f"hand_index_{side}"] = _xyz(pts2["hand_index"], sign * (dims.shoulder_half_width - 0.008 * H))
        points[f"hand_pinky_{side}"] = _xyz(pts2["hand_pinky"], sign * (dims.shoulder_half_width + 0.012 * H))
        points[f"hand_thumb_{side}"] = _xyz(pts2["hand_thumb"], sign * (dims.shoulder_half_width - 0.016 * H))
        for k, z in _HEAD_Z.items():
            points[f"head_{k}_{side}"] = _xyz(pts2["head_" + k], sign * z * H)
        points[f"head_ear_model_{side}"] = _xyz(pts2["head_ear_model"], sign * _HEAD_Z["ear"] * H)
    for k in ("hip",) + _SPINE_ORDER + ("head_nose", "head_chin", "head_ear", "head_eye", "head_mouth",
                                         "shoulder", "shoulder_top"):
        points[k if k != "hip" else "hip_centre"] = _xyz(pts2[k], 0.0)
    points["shoulder_centre"] = points.pop("shoulder")
    points["shoulder_top_centre"] = points.pop("shoulder_top")
    return points


# ---------------------------------------------------------------- landmarks
_LANDMARK_SOURCE = {
    "nose": "head_nose",
    "left_eye_inner": "head_eye_inner_l", "left_eye": "head_eye_l", "left_eye_outer": "head_eye_outer_l",
    "right_eye_inner": "head_eye_inner_r", "right_eye": "head_eye_r", "right_eye_outer": "head_eye_outer_r",
    "left_ear": "head_ear_model_l", "right_ear": "head_ear_model_r",
    "mouth_left": "head_mouth_l", "mouth_right": "head_mouth_r",
    "left_shoulder": "shoulder_top_l", "right_shoulder": "shoulder_top_r",
    "left_elbow": "elbow_l", "right_elbow": "elbow_r",
    "left_wrist": "wrist_l", "right_wrist": "wrist_r",
    "left_pinky": "hand_pinky_l", "right_pinky": "hand_pinky_r",
    "left_index": "hand_index_l", "right_index": "hand_index_r",
    "left_thumb": "hand_thumb_l", "right_thumb": "hand_thumb_r",
    "left_hip": "hip_l", "right_hip": "hip_r",
    "left_knee": "knee_l", "right_knee": "knee_r",
    "left_ankle": "ankle_l", "right_ankle": "ankle_r",
    "left_heel": "foot_heel_l", "right_heel": "foot_heel_r",
    "left_foot_index": "foot_toe_tip_l", "right_foot_index": "foot_toe_tip_r",
}


def blazepose_landmarks(skel: Skeleton) -> np.ndarray:
    """The 33 BlazePose landmarks in lab coordinates, in the pose model's convention.

    Hips, knees, ankles are joint centres; shoulders the top of the shoulder
    (``SHOULDER_TOP_OFFSET_M`` above the joint along the trunk); ears
    ``EAR_FORWARD_OFFSET_M`` forward of the anatomical ear; heel the back of
    the heel; foot index the toe tip; pinky/index/thumb the knuckles.

    Returns
    -------
    ndarray, shape (n, 33, 3)
    """
    return np.stack([skel.points[_LANDMARK_SOURCE[name]] for name in lm.NAMES], axis=1)


# ---------------------------------------------------------------- derived truth
def segment_inclination_deg(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Angle of the lower→upper line from vertical in the sagittal plane, + forward."""
    d = upper - lower
    return np.degrees(np.arctan2(d[..., 0], d[..., 1]))


def trunk_inclination_deg(skel: Skeleton) -> np.ndarray:
    """Hip-joint-centre → shoulder-landmark (top of shoulder) line vs vertical, + forward."""
    return segment_inclination_deg(skel.points["hip_centre"], skel.points["shoulder_top_centre"])


def hip_shoulder_joint_distance(skel: Skeleton) -> np.ndarray:
    """3D distance between the hip-joint-centre and shoulder-joint-centre midpoints (m)."""
    return np.linalg.norm(skel.points["shoulder_centre"] - skel.points["hip_centre"], axis=-1)


def body_top_y(skel: Skeleton) -> np.ndarray:
    """Height of the top of the head above the floor (m), per frame."""
    H = skel.dims.height
    top_local = np.array([0.012, 0.095]) * H  # vertex of the cranium in the head frame
    c1 = skel.points["C1"][:, :2]
    return (c1 + rotate(top_local, skel.angles["head"]))[:, 1] + 0.005 * H


# ---------------------------------------------------------------- inverse helpers
def arm_angles_to_reach(
    skel: Skeleton, target_xy: np.ndarray, elbow_bend: str = "back"
) -> tuple[np.ndarray, np.ndarray]:
    """Shoulder and elbow flexion (degrees) that put the grip on ``target_xy``.

    Planar two-link inverse kinematics from the shoulder joint to the grip
    (hand taken straight in line with the forearm). Targets out of reach get
    a straight arm pointing at them.

    Parameters
    ----------
    skel : Skeleton
        Provides shoulder positions and upper-thorax orientation.
    target_xy : ndarray, shape (n, 2)
        Lab X, Y of the grip centre.
    elbow_bend : {"back", "forward"}
        Which way the elbow points when the arm must bend.
    """
    dims = skel.dims
    l1, l2 = dims.upper_arm, dims.forearm + 0.42 * dims.hand
    sh = skel.points["shoulder_r"][:, :2]
    d = np.asarray(target_xy, float) - sh
    dist = np.clip(np.linalg.norm(d, axis=-1), 1e-6, l1 + l2)
    # Lab angle (clockwise from "hanging straight down") of the shoulder→target line.
    # A downward vector (0,-1) rotated clockwise by phi is (-sin phi, -cos phi).
    phi = np.arctan2(-d[:, 0], -d[:, 1])
    cos_elbow = np.clip((l1**2 + l2**2 - dist**2) / (2 * l1 * l2), -1.0, 1.0)
    elbow = np.pi - np.arccos(cos_elbow)  # 0 when straight
    cos_off = np.clip((l1**2 + dist**2 - l2**2) / (2 * l1 * dist), -1.0, 1.0)
    offset = np.arccos(cos_off)
    sign = 1.0 if elbow_bend == "back" else -1.0
    th_ua = phi + sign * offset
    shoulder_flex = skel.angles["upper_thoracic"] - th_ua
    return np.degrees(shoulder_flex), sign * np.degrees(elbow)
