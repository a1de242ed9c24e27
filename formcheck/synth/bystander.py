"""A second person in the scene: someone walking across the room behind the lifter, or a coach standing by.

Real gym clips often hold more than one person; the pose stage must pick the
lifter and keep to them. The bystander is built from the same kinematic body
(:mod:`formcheck.synth.body`) and surface (:mod:`formcheck.synth.surface`) as
the lifter. The body model moves both legs together, so a walking person is
assembled from two skeletons that share the trunk: one gives the left leg
and arm, the other (half a gait cycle later) the right ones.

Kinds (:data:`BYSTANDERS`):

``"walk_behind"``
    Walks across the room :data:`WALK_BEHIND_M` behind the lifter (between
    the lifter and the back wall), left to right and back again, at
    :data:`WALK_SPEED_M_S`.
``"stand_beside"``
    A coach standing :data:`COACH_AHEAD_M` in front of the lifter and
    :data:`COACH_BEHIND_M` further from the camera, facing the lifter, with
    quiet-standing sway. Never in front of the lifter's body or bar.

Its primitives go into groups named ``p2_*`` with materials ``p2_*`` (its
own clothes), so the renderer paints it but leaves it out of the lifter's
silhouette mask. Its landmarks (pose-model convention) go into the truth.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from formcheck.synth import body as bm
from formcheck.synth.surface import Capsule, Ellipsoid, Rings, head_parts, limb_capsules, trunk_rings

BYSTANDERS = ("none", "walk_behind", "stand_beside")
#: Prefix of the bystander's primitive groups and materials.
PREFIX = "p2_"
#: How far behind the lifter (away from the camera) the walker walks (m).
WALK_BEHIND_M = 1.8
#: Walking speed (m/s) and stride frequency (strides per second): a stride of 1.3 m.
WALK_SPEED_M_S = 1.2
STRIDE_HZ = 0.9
#: Where each pass starts and ends, lab X (m); the walker turns round off screen.
WALK_FROM_X, WALK_TO_X = -4.0, 4.0
#: The walker sets off this long after the start of the clip (s).
WALK_START_S = 1.0
#: The coach: ahead of the lifter (lab X) and further from the camera (m).
COACH_AHEAD_M, COACH_BEHIND_M = 1.3, 0.6
#: The bystander's height (m).
HEIGHT_M = 1.70


@dataclass(frozen=True, eq=False)
class BystanderBody:
    """The second person over a clip: surface groups and landmarks.

    Attributes
    ----------
    groups : dict
        Group name (``p2_*``) → 3D primitives, as :func:`formcheck.synth.surface.body_surface` gives them.
    landmarks : ndarray (n, 33, 3)
        The 33 BlazePose landmarks in lab coordinates (pose-model convention).
    """

    groups: dict
    landmarks: np.ndarray


def gait(time_s: np.ndarray, phase0: float = 0.0) -> dict[str, np.ndarray]:
    """Joint angles of one side's leg and arm while walking (degrees).

    Hip flexion swings 30° about 10° (heel strike at phase 0), the knee
    bends about 60° in the swing and 15° at loading; the arm on the same side
    swings against the leg.

    >>> angles = gait(np.array([0.0]))
    >>> round(float(angles["hip_flexion"][0]), 1), round(float(angles["knee_flexion"][0]), 1)
    (30.0, 5.2)
    """
    phase = np.mod(STRIDE_HZ * np.asarray(time_s, float) + phase0, 1.0)
    hip = 10.0 + 20.0 * np.cos(2 * np.pi * phase)
    knee = 5.0 + 55.0 * np.exp(-(((phase - 0.72) / 0.12) ** 2)) + 15.0 * np.exp(-(((phase - 0.15) / 0.07) ** 2))
    knee = knee + 55.0 * np.exp(-(((phase - 1.72) / 0.12) ** 2))  # wrap the swing peak round phase 1
    return {"hip_flexion": hip, "knee_flexion": knee, "shoulder_flexion": -0.6 * (hip - 10.0), "elbow_flexion": 15.0}


def walking_path(time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lab X of the walker's hips and the direction faced (+1 toward +X, −1 back), per frame.

    Left to right from :data:`WALK_FROM_X` to :data:`WALK_TO_X`, then back, then again.
    """
    t = np.maximum(np.asarray(time_s, float) - WALK_START_S, 0.0)
    span = WALK_TO_X - WALK_FROM_X
    travelled = WALK_SPEED_M_S * t
    leg, along = np.divmod(travelled, span)
    facing = np.where(leg.astype(int) % 2 == 0, 1.0, -1.0)
    x = np.where(facing > 0, WALK_FROM_X + along, WALK_TO_X - along)
    return x, facing


def _side_skeleton(dims: bm.BodyDims, angles: dict, sway: np.ndarray) -> bm.Skeleton:
    n = len(sway)
    pose = bm.BodyPose(pelvis_tilt=3.0 + sway, hip_flexion=angles["hip_flexion"] + 3.0 + sway,
                       knee_flexion=angles["knee_flexion"], shoulder_flexion=angles["shoulder_flexion"],
                       elbow_flexion=angles["elbow_flexion"], plant_feet=False, pelvis_xy=np.zeros((n, 2)))
    return bm.forward_kinematics(dims, pose)


def _merge(left: bm.Skeleton, right: bm.Skeleton) -> bm.Skeleton:
    """Left limbs from ``left``, right limbs from ``right``, trunk and head (shared) from ``left``."""
    points = {k: (right.points[k] if k.endswith("_r") else v) for k, v in left.points.items()}
    return bm.Skeleton(points=points, angles=dict(left.angles), dims=left.dims, pose=dict(left.pose))


def _lift_to_floor(skels: list[bm.Skeleton]) -> float | np.ndarray:
    """Height to raise the hips so that the lower foot touches the floor, per frame."""
    soles = []
    for s in skels:
        for side in ("l", "r"):
            for k in ("foot_heel_sole", "foot_ball_sole", "foot_toe_tip"):
                soles.append(s.points[f"{k}_{side}"][:, 1])
    return -np.min(np.stack(soles), axis=0)


def _place(points_or_vectors: np.ndarray, offset: np.ndarray, facing: np.ndarray, vector: bool = False) -> np.ndarray:
    """Turn (about the vertical through the hips) to face ``facing`` and move by ``offset`` (n, 3)."""
    out = np.array(points_or_vectors, float, copy=True)
    back = facing < 0
    if out.ndim == 3:  # (n, R, 3)
        out[back, :, 0] *= -1.0
        out[back, :, 2] *= -1.0
        return out if vector else out + offset[:, None, :]
    out[back, 0] *= -1.0
    out[back, 2] *= -1.0
    return out if vector else out + offset


def _transform(prim, offset: np.ndarray, facing: np.ndarray):
    """A primitive (built at the origin) turned and moved into place, with the bystander's materials."""
    if isinstance(prim, Capsule):
        return dataclasses.replace(prim, material=PREFIX + prim.material, p0=_place(prim.p0, offset, facing),
                                   p1=_place(prim.p1, offset, facing))
    if isinstance(prim, Ellipsoid):
        axes = np.array(prim.axes, float, copy=True)
        back = facing < 0
        axes[back, :, 0] *= -1.0
        axes[back, :, 2] *= -1.0
        return dataclasses.replace(prim, material=PREFIX + prim.material, centre=_place(prim.centre, offset, facing),
                                   axes=axes)
    if isinstance(prim, Rings):
        return dataclasses.replace(
            prim, materials=tuple(PREFIX + m for m in prim.materials), centre=_place(prim.centre, offset, facing),
            sagittal=_place(prim.sagittal, offset, facing, vector=True),
            lateral=_place(prim.lateral, offset, facing, vector=True))
    raise TypeError(type(prim))


def bystander_body(kind: str, time_s: np.ndarray, seed: int = 0) -> BystanderBody | None:
    """The second person of kind ``kind`` for a clip with frame times ``time_s`` (None for ``"none"``).

    >>> person = bystander_body("walk_behind", np.arange(0, 3, 1 / 30))
    >>> person.landmarks.shape, sorted(person.groups)[:2]
    ((90, 33, 3), ['p2_arm_l', 'p2_arm_r'])
    """
    if kind not in BYSTANDERS:
        raise ValueError(f"unknown bystander {kind!r} (choose from {', '.join(BYSTANDERS)})")
    if kind == "none":
        return None
    t = np.asarray(time_s, float)
    n = len(t)
    rng = np.random.default_rng(seed + 31)
    dims = bm.BodyDims.from_height(HEIGHT_M)
    if kind == "walk_behind":
        left = _side_skeleton(dims, gait(t, 0.0), np.zeros(n))
        right = _side_skeleton(dims, gait(t, 0.5), np.zeros(n))
        x, facing = walking_path(t)
        z = np.full(n, -WALK_BEHIND_M)
    else:
        ph = rng.uniform(0, 2 * np.pi, 2)
        sway = 0.8 * np.sin(2 * np.pi * 0.21 * t + ph[0])
        still = {"hip_flexion": np.zeros(n), "knee_flexion": np.full(n, 3.0),
                 "shoulder_flexion": 5.0 + 2.0 * np.sin(2 * np.pi * 0.13 * t + ph[1]), "elbow_flexion": 20.0}
        left = right = _side_skeleton(dims, still, sway)
        x = np.full(n, COACH_AHEAD_M)
        facing = np.full(n, -1.0)  # facing the lifter
        z = np.full(n, -COACH_BEHIND_M)
    lift = _lift_to_floor([left, right])
    offset = np.stack([x, lift, z], axis=-1)
    skel = _merge(left, right)
    groups: dict[str, list] = {}
    legs_l, arms_l = limb_capsules(left, "l")
    legs_r, arms_r = limb_capsules(right, "r")
    neck, head, _ = head_parts(left)
    raw = {"leg_l": legs_l, "leg_r": legs_r, "arm_l": arms_l, "arm_r": arms_r,
           "torso": [trunk_rings(left)] + neck, "head": head}
    for name, prims in raw.items():
        groups[PREFIX + name] = [_transform(p, offset, facing) for p in prims]
    landmarks = _place(bm.blazepose_landmarks(skel), offset, facing)
    return BystanderBody(groups=groups, landmarks=landmarks)
