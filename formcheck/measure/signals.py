"""Landmark signals some fault checks need beyond the kinematics stage's angles.

Frontal plane (front or rear view): knees caving in, hips shifting sideways.
The kinematics stage measures sagittal angles; a camera in front of (or
behind) the lifter sees the other plane. These signals come from the image
landmarks of each side, so they only mean something in a front or rear view
(elsewhere the checks that use them are withheld):

``knee_in_left``, ``knee_in_right``
    How far each knee sits inside the straight line from its hip to its
    ankle, at the knee's height, as a fraction of the lifter's leg length
    (+ inward toward the other leg, − outward). Standing ≈ 0; a good squat
    pushes the knees out (−); a knee that caves in goes +. Measured sideways
    only, so it does not collapse when the thigh points at the camera at the
    bottom of a squat.
``hip_shift``
    Sideways position of the mid-hip relative to the mid-ankle, in stance
    widths (ankle to ankle), + toward the lifter's left.

Squat depth (any view):

``thigh_drop``
    Angle of the thigh above horizontal (+ hip above the knee, degrees) from
    the *vertical* image distance between hip and knee over the lifter's
    full thigh length (its longest image length, seen standing). Turning the
    camera about the vertical axis shortens the thigh's horizontal extent but
    not its vertical one, so the hip-below-knee test survives oblique and
    front views, where the sagittal thigh angle does not.

Feet (side view):

``heel_lift``
    Height of the heel above the toes in the image, in leg lengths (median of
    the two feet). Vertical distances survive a camera that is not square to
    the foot, where the heel→toe angle does not: with the foot pointing
    toward the camera the projected foot is short and its angle meaningless.
    NaN where the foot is barely visible or at the edge of the picture (a foot
    cut off by the frame is guessed by the pose model).
``heel_height``
    Height of the (seen) heels in the image, in leg lengths up from the top
    of the picture's scale (only changes count: a heel that rises moves up;
    a toe landmark that drifts when the knees hide the toes does not move it).

Who is followed, and how the thigh is seen:

``feet_x``
    Horizontal position of the mid-ankle, in leg lengths: a squatter's feet
    stay put, so feet that travel during a rep belong to someone walking
    (the track jumped to another person).
``thigh_length``
    Image length of the hip→knee line over the lifter's full thigh length:
    well below 1 with the thigh horizontal means it points toward or away
    from the camera, where vertical image distances are perspective, not depth.

All are judged against the lifter's own standing frames (see the squat
plug-in): landmark bias, stance and camera angle cancel.
"""

from __future__ import annotations

import warnings

import numpy as np

from formcheck.measure.occlusion import JOINTS, PLATE_JOINTS, seen_signals
from formcheck.pose import landmarks as lm
from formcheck.pose.track import PoseTrack

#: Feet count as seen above this visibility and this far (share of the image
#: height) from the left, right and bottom edges.
MIN_FOOT_VISIBILITY = 0.8
FOOT_EDGE_MARGIN = 0.03

LANDMARK_SIGNALS = ("knee_in_left", "knee_in_right", "hip_shift", "thigh_drop", "heel_lift", "heel_height",
                    "feet_x", "thigh_length",
                    *(f"{joint}_seen" for joint in JOINTS))
UNITS = {
    "knee_in_left": "leg_lengths", "knee_in_right": "leg_lengths", "hip_shift": "stance_widths",
    "thigh_drop": "deg", "heel_lift": "leg_lengths", "heel_height": "leg_lengths", "feet_x": "leg_lengths",
    "thigh_length": "ratio",
    **{f"{joint}_seen": "code" for joint in JOINTS},  # 0 seen, 1 not visible, 2 outside the picture, 3 behind the plate
    **{f"{joint}_from_plate": "plate_radii" for joint in PLATE_JOINTS},  # distance from the followed plate's centre
    "hip_above_plate": "plate_radii",  # height of the hips above the plate's centre
}


def landmark_signals(track: PoseTrack) -> dict[str, np.ndarray]:
    """Per-frame signals of a (smoothed) track listed in :data:`UNITS`; NaN where unseen."""
    xy = np.asarray(track.xy, np.float64)
    n = len(xy)
    if n == 0:
        return {name: np.zeros(0) for name in LANDMARK_SIGNALS}
    hips = xy[:, [lm.LEFT_HIP, lm.RIGHT_HIP]]
    knees = xy[:, [lm.LEFT_KNEE, lm.RIGHT_KNEE]]
    ankles = xy[:, [lm.LEFT_ANKLE, lm.RIGHT_ANKLE]]
    leg = np.linalg.norm(hips - ankles, axis=-1)  # (n, 2)
    with np.errstate(invalid="ignore"):
        leg_px = np.nanpercentile(leg, 90) if np.isfinite(leg).any() else np.nan

    out = {}
    for side, name in ((0, "knee_in_left"), (1, "knee_in_right")):
        hip, knee, ankle = hips[:, side], knees[:, side], ankles[:, side]
        other_ankle = ankles[:, 1 - side]
        with np.errstate(invalid="ignore", divide="ignore"):
            drop = ankle[:, 1] - hip[:, 1]
            along = np.clip((knee[:, 1] - hip[:, 1]) / np.where(np.abs(drop) > 1e-6, drop, np.nan), 0.0, 1.0)
            line_x = hip[:, 0] + along * (ankle[:, 0] - hip[:, 0])
            inward = np.sign(other_ankle[:, 0] - ankle[:, 0])
            out[name] = (knee[:, 0] - line_x) * inward / leg_px
    mid_hip = hips.mean(axis=1)
    mid_ankle = ankles.mean(axis=1)
    stance = ankles[:, 0] - ankles[:, 1]  # right ankle → left ankle
    width = np.linalg.norm(stance, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        stance_width = np.nanmedian(width) if np.isfinite(width).any() else np.nan
        toward_left = stance[:, 0] / np.where(width > 1e-6, width, np.nan)
        out["hip_shift"] = (mid_hip[:, 0] - mid_ankle[:, 0]) * np.sign(toward_left) / stance_width
    mid_knee = knees.mean(axis=1)
    thigh = np.linalg.norm(mid_hip - mid_knee, axis=-1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        thigh_px = np.nanpercentile(thigh, 90) if np.isfinite(thigh).any() else np.nan
        out["thigh_drop"] = np.degrees(np.arcsin(np.clip((mid_knee[:, 1] - mid_hip[:, 1]) / thigh_px, -1.0, 1.0)))
        out["thigh_length"] = thigh / thigh_px
        out["feet_x"] = mid_ankle[:, 0] / leg_px
    feet = [lm.LEFT_HEEL, lm.RIGHT_HEEL, lm.LEFT_FOOT_INDEX, lm.RIGHT_FOOT_INDEX]
    seen = np.asarray(track.visibility, np.float64)[:, feet] >= MIN_FOOT_VISIBILITY
    width, height = (float(v) for v in (track.frame_size or (0, 0)))
    if width > 0 and height > 0:  # a foot at the edge of the picture is guessed, not seen
        margin = FOOT_EDGE_MARGIN * height
        inside = (xy[:, feet, 0] > margin) & (xy[:, feet, 0] < width - margin) & (xy[:, feet, 1] < height - margin)
        seen &= inside
    foot_y = np.where(seen, xy[:, feet, 1], np.nan)
    heels, toes = foot_y[:, :2], foot_y[:, 2:]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out["heel_lift"] = np.nanmedian(toes - heels, axis=1) / leg_px  # image y points down
        out["heel_height"] = -np.nanmedian(heels, axis=1) / leg_px
    out.update(seen_signals(track))
    return out
