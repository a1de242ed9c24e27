"""The hip placed from the back's outline, computed once per track and stored with it."""

from __future__ import annotations

import numpy as np

from formcheck.measure.kinematics import Kinematics, compute_kinematics, midpoint
from formcheck.pose.filters import smooth_track
from formcheck.pose.track import PoseTrack
from formcheck.spine._load import load_at_hips
from formcheck.spine._profile import dorsal_side
from formcheck.spine._reference import standing_frames
from formcheck.spine.pelvis import silhouette_hip

#: Version of the placed hip stored as ``PoseTrack.derived["placed_hip"]`` (bump
#: when :mod:`formcheck.spine.pelvis` or its inputs change, so old stores are redone).
PLACED_HIP_VERSION = 2
#: Its name among the track's derived arrays.
PLACED_HIP = "placed_hip"


def placed_hip(
    track: PoseTrack, kin: Kinematics, dorsal: int, loaded_hips: np.ndarray, first_frame: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The hip placed from the back's outline (:func:`formcheck.spine.pelvis.silhouette_hip`).

    Taken from the track's ``placed_hip`` when :func:`with_placed_hip` stored
    it for this version of the method; computed otherwise. It depends on the
    track alone (not on the reps or the exercise), so both give the same.
    When computed, only frames from ``first_frame`` on are placed (the live
    analyser's rep, not its whole window); earlier frames keep the model's hip.

    Returns
    -------
    hip : ndarray (n, 2)
    placed : ndarray of bool (n,)
        Frames whose hip came from the outline.
    """
    stored = track.derived_values(PLACED_HIP, PLACED_HIP_VERSION)
    if stored is not None:
        stored = np.asarray(stored, np.float64)
        placed = np.all(np.isfinite(stored), axis=1)
        return np.where(placed[:, None], stored, midpoint(track.xy.astype(np.float64), "hip")), placed
    lean = np.asarray(kin["trunk_inclination"], np.float64)
    standing = standing_frames(kin, None) & ~loaded_hips
    hip = midpoint(track.xy.astype(np.float64), "hip")
    placed = np.zeros(len(track), bool)
    hip[first_frame:], placed[first_frame:] = silhouette_hip(
        track[first_frame:], lean[first_frame:], dorsal, standing[first_frame:]
    )
    return hip, placed


def with_placed_hip(track: PoseTrack) -> PoseTrack:
    """The track with its hip placed from the outline stored as ``derived["placed_hip"]``.

    The pipeline calls this once after the pose model, so that the saved
    ``landmarks.npz`` carries the registration (≈ 0.35 ms per frame) and a
    re-analysis does not redo it. The hip is placed on the offline-smoothed
    track, as :func:`formcheck.analysis.offline.analyze_track` sees it; NaN where it
    could not be placed (no side view, no outline).
    """
    hip = np.full((len(track), 2), np.nan)
    if track.detected.any():
        smoothed = smooth_track(track)
        kin = compute_kinematics(smoothed)
        side, _ = dorsal_side(smoothed, kin)
        if side is not None:
            placed_xy, placed = placed_hip(smoothed, kin, side, load_at_hips(smoothed, kin, side))
            hip[placed] = placed_xy[placed]
    return track.with_derived(PLACED_HIP, hip.astype(np.float32), PLACED_HIP_VERSION)
