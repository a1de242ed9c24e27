"""A load held at the hips (plates or a kettlebell at lockout) hides the back's outline there."""

from __future__ import annotations

import warnings

import numpy as np

from formcheck.measure.kinematics import Kinematics
from formcheck.pose.track import PoseTrack
from formcheck.spine._profile import _in_range, edge_profile, station_fractions
from formcheck.spine._reference import LOADED_LEAN_DEG, STANDING_HIP_FLEXION_DEG

#: A load at the hips (plates or a kettlebell held at lockout): the front of the
#: silhouette next to the hip (stations ``LOAD_STATIONS``) sticks out this much
#: further (trunk lengths) than the belly (``BELLY_STATIONS``) while upright.
#: The mask swallows the load and the pose model drags the hip (and shoulder)
#: landmarks towards it, so the back's outline is measured in the wrong place:
#: such frames are not assessed and never make the standing reference.
LOAD_BULGE = 0.12

#: ... or the back's edge next to the hip lies this far (trunk lengths) inside
#: its line at the lower back: an upright back always stands out at the
#: buttock, so a plate in front of the hips has cut into the silhouette
#: (rendered lifters filmed 15° off side-on: lockout frames read ≈ 13° RMS wrong).
MIN_BUTTOCK_BULGE = -0.03

LOAD_STATIONS = (0.0, 0.1)

BELLY_STATIONS = (0.25, 0.5)


def load_at_hips(track: PoseTrack, kin: Kinematics, dorsal: int) -> np.ndarray:
    """Upright frames where something held in front of the hips widens the silhouette.

    At a deadlift's lockout the plates (or a kettlebell) sit against the
    thighs, side-on to the camera. The person mask swallows them and the pose
    model pulls the hip landmark towards the bar, which shifts the measured
    part of the back onto the buttock (on rendered lifters: ≈ 25° of false
    extension). The sign is the front edge next to the hip (stations
    ``LOAD_STATIONS``) standing out ``LOAD_BULGE`` trunk lengths beyond the
    belly (``BELLY_STATIONS``), or, filmed a little off side-on, the back's
    edge there lying ``MIN_BUTTOCK_BULGE`` inside the lower back with the
    hips straight and the hands at the hips (a plate cuts into the outline:
    standing, the back always stands out at the buttock).
    Only upright frames count, because in a hinge the thighs lie in front of
    the hip anyway.

    Parameters
    ----------
    track : PoseTrack
    kin : Kinematics
    dorsal : int
        The back's side of ``trunk_edges`` (:func:`dorsal_side`).

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    front, back = (_hip_bulge(track, side) for side in (1 - dorsal, dorsal))
    with np.errstate(invalid="ignore"):
        upright = np.asarray(kin["trunk_inclination"], np.float64) < LOADED_LEAN_DEG
        # The buttock's shape is known only with the hips straight (at the bottom
        # of an upright squat the back's edge there can lie inside the line), and
        # a plate can only be there with the hands at the hips (below the middle
        # of the trunk; not a bar on the back).
        hips_straight = np.asarray(kin["hip_flexion"], np.float64) < STANDING_HIP_FLEXION_DEG
        mid_trunk = 0.5 * (np.asarray(kin["hip_height"], np.float64) + np.asarray(kin["shoulder_height"], np.float64))
        hands_low = np.asarray(kin["wrist_height"], np.float64) < mid_trunk
        cut_in = hips_straight & hands_low & (back < MIN_BUTTOCK_BULGE)
        return upright & ((front > LOAD_BULGE) | cut_in)


def _hip_bulge(track: PoseTrack, side: int) -> np.ndarray:
    """How far one side's edge next to the hip (``LOAD_STATIONS``) stands out
    beyond the same side at the belly or lower back (``BELLY_STATIONS``), in trunk lengths."""
    _, depth, _ = edge_profile(track, side)
    u = station_fractions(depth.shape[1])
    near_hip, belly = _in_range(u, LOAD_STATIONS), _in_range(u, BELLY_STATIONS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without a mask
        return np.nanmedian(depth[:, near_hip], axis=1) - np.nanmedian(depth[:, belly], axis=1)
