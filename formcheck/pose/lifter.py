"""Choosing the lifter among the people the pose model finds in a frame.

Up to ``num_poses`` people are detected per frame. The lifter is the person
followed from frame to frame: at the first detection (and whenever the
followed person is lost) the candidate with the largest
``body size × centrality`` score is taken, where body size is the landmark
bounding-box diagonal and centrality falls linearly from 1 at the image centre
to 0.5 at the left/right edge; after that, the candidate whose hip midpoint is
nearest the previous one (within half a body size) is kept. So a coach walking
past, or a spectator at the edge of the frame, does not steal the track.
"""

from __future__ import annotations

import numpy as np

from formcheck.pose import landmarks as lm
from formcheck.pose.track import PoseFrame


class LifterSelector:
    """Follows one person across frames (rule in the module docstring).

    Parameters
    ----------
    frame_size : (int, int)
        ``(width, height)`` of the frames in pixels; the width sets how
        central a candidate is.
    """

    def __init__(self, frame_size: tuple[int, int]):
        self.frame_size = frame_size
        self._last_hip: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the followed person: the next frame chooses afresh."""
        self._last_hip = None

    def choose(self, people: list[PoseFrame]) -> PoseFrame | None:
        """The lifter among ``people`` (one frame's detections), or None if there are none."""
        if not people:
            return None
        sizes = np.array([_body_size(p.xy) for p in people])
        hips = np.array([p.xy[[lm.LEFT_HIP, lm.RIGHT_HIP]].mean(0) for p in people])
        chosen = None
        if self._last_hip is not None:
            distance = np.linalg.norm(hips - self._last_hip, axis=1)
            nearest = int(np.argmin(distance))
            if distance[nearest] < 0.5 * sizes[nearest]:
                chosen = nearest
        if chosen is None:
            width = self.frame_size[0]
            centrality = 1.0 - 0.5 * np.clip(np.abs(hips[:, 0] - width / 2) / (width / 2), 0, 1)
            chosen = int(np.argmax(sizes * centrality))
        self._last_hip = hips[chosen]
        return people[chosen]


def _body_size(xy: np.ndarray) -> float:
    span = np.nanmax(xy, axis=0) - np.nanmin(xy, axis=0)
    return float(np.hypot(*span))
