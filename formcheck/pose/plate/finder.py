"""The pose loop's plate step: candidates per frame, a causal estimate, and the clip's path.

:class:`PlateFinder` is called once per frame with the lifter's pose; it adds
that frame's near-plate candidates (:func:`~formcheck.pose.plate.detect.plate_candidates`)
and a causal estimate of the plate (for the annotated video and the live
window, drawn while the video is read) to the :class:`~formcheck.pose.track.PoseFrame`.
Once the whole clip is known, :func:`with_plate_path` replaces the causal
estimates with the best path through all the candidates (or a refusal:
:func:`~formcheck.pose.plate.path.plate_path`).

>>> import numpy as np
>>> from formcheck.pose.track import PoseFrame
>>> pose = PlateFinder()(np.zeros((48, 64, 3), np.uint8), PoseFrame.empty(0.0))
>>> pose.plate_candidates.shape, bool(np.isnan(pose.plate).all())
((8, 9), True)
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from formcheck.pose.plate.detect import ASPECT, FIELDS, MAX_CANDIDATES, RADIUS_PER_TRUNK, SCORE, plate_candidates, trunk_px
from formcheck.pose.plate.path import (
    ABSENT_COST,
    JUMP_SIGMA,
    METHOD_VERSION,
    MIN_ASPECT,
    PlatePath,
    candidate_costs,
    clip_radius,
    face_radius,
    far_plates,
    hands,
    plate_path,
)
from formcheck.pose.track import PoseFrame, PoseTrack

#: Frames of history the causal estimate keeps (radius, aspect, lifter size).
HISTORY_FRAMES = 90
#: The causal estimate is shown once this many recent frames had a candidate.
LOCK_FRAMES = 5


class PlateFinder:
    """Feed ``(frame, lifter pose)`` in time order; see the module docstring."""

    def __init__(self) -> None:
        self._trunks: deque[float] = deque(maxlen=HISTORY_FRAMES)
        self._history: deque[np.ndarray] = deque(maxlen=HISTORY_FRAMES)
        self._aspects: deque[float] = deque(maxlen=HISTORY_FRAMES)
        self._last: np.ndarray | None = None
        self._last_time = -np.inf

    def __call__(self, frame_bgr: np.ndarray, pose: PoseFrame) -> PoseFrame:
        """``pose`` with this frame's plate candidates and the causal plate estimate."""
        candidates = np.full((MAX_CANDIDATES, len(FIELDS)), np.nan, np.float32)
        if pose.detected:
            trunk = trunk_px(pose.xy)
            if np.isfinite(trunk):
                self._trunks.append(trunk)
            if self._trunks:
                found = plate_candidates(frame_bgr, pose.xy, RADIUS_PER_TRUNK * float(np.median(self._trunks)))
                candidates[: len(found)] = found
        return dataclasses.replace(pose, plate_candidates=candidates, plate=self._follow(candidates, pose))

    def _follow(self, candidates: np.ndarray, pose: PoseFrame) -> np.ndarray:
        """Causal choice: the cheapest candidate (clip radius so far, near the wrists,
        near the last position), once the plate has been seen for a few frames."""
        out = np.full(4, np.nan, np.float32)
        if np.isfinite(candidates[:, SCORE]).any():
            self._history.append(candidates)
        if len(self._history) < LOCK_FRAMES:
            return out
        radius = clip_radius(np.stack(self._history))
        if not np.isfinite(radius):
            return out
        wrists = hands(pose.xy[None], pose.visibility[None])[0]
        cost = candidate_costs(candidates[None].astype(np.float64), radius, wrists[None].astype(np.float64),
                               far=far_plates(candidates[None].astype(np.float64)))[0][0]
        if self._last is not None and pose.time_s - self._last_time < 0.3:
            jump = np.linalg.norm(candidates[:, :2] - self._last, axis=1) / (JUMP_SIGMA * radius)
            cost = cost + np.where(np.isfinite(jump), jump**2, np.inf)
        best = int(np.argmin(cost))
        if not cost[best] < ABSENT_COST:
            return out
        self._aspects.append(float(candidates[best, ASPECT]))
        if np.median(self._aspects) < MIN_ASPECT:
            return out  # an oblique view: no path (as offline)
        self._last, self._last_time = candidates[best, :2].astype(np.float64), pose.time_s
        face = float(face_radius(candidates[best, 2], candidates[best, ASPECT]))
        out[:] = (*candidates[best, :2], face, candidates[best, SCORE])
        return out

    def finish(self, track: PoseTrack) -> PoseTrack:
        """The clip's plate path (see :func:`with_plate_path`)."""
        return with_plate_path(track)


def with_plate_path(track: PoseTrack) -> PoseTrack:
    """``track`` with ``plate`` set to the best path through its candidates (or NaN
    and the refusal's reason in ``meta["plate"]``). A track without candidates
    (saved by an older formcheck, or made without the plate step) is returned as is."""
    if not np.isfinite(track.plate_candidates[..., SCORE]).any():
        return track
    path: PlatePath = plate_path(track.plate_candidates, track.xy, track.time_s, track.visibility)
    info = {
        "version": METHOD_VERSION,
        "radius_px": round(float(path.radius_px), 2) if np.isfinite(path.radius_px) else None,
        "aspect": round(float(path.aspect), 3) if np.isfinite(path.aspect) else None,
        "refused": path.reason,
    }
    return dataclasses.replace(track, plate=path.as_array(), meta={**track.meta, "plate": info})
