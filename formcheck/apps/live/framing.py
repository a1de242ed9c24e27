"""Is the lifter framed so the camera can see the lift? Set-up guidance for the live mode.

:func:`framing_problem` names the one thing to change in a frame ("step
back, your feet are out of frame", "turn side-on to the camera");
:class:`FramingCheck` debounces it over time so the advice does not flicker.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from formcheck.pose import landmarks as lm
from formcheck.measure.kinematics import FRONT_MAX_DEG, midpoint, sideness_per_frame
from formcheck.pose.track import PoseFrame, PoseTrack

#: Landmarks that must be in the picture: head, trunk, legs, feet.
_HEAD = (lm.NOSE, lm.LEFT_EAR, lm.RIGHT_EAR)
_FEET = (lm.LEFT_ANKLE, lm.RIGHT_ANKLE, lm.LEFT_HEEL, lm.RIGHT_HEEL, lm.LEFT_FOOT_INDEX, lm.RIGHT_FOOT_INDEX)
_BODY = (lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER, lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_KNEE, lm.RIGHT_KNEE)
SEEN_VISIBILITY = 0.5  # visibility above which a landmark counts as seen
#: A lifter whose :func:`body_length_px` is below this share of the picture
#: height is too far away (NOTES: people under ≈ 150 px of 480 are not found;
#: the body length is ≈ 0.85 of the standing height).
MIN_BODY_HEIGHT = 0.25

NOT_SEEN = "step into the picture, side-on to the camera"
FEET_OUT = "step back, your feet are out of frame"
HEAD_OUT = "step back, your head is out of frame"
BOTH_OUT = "step back, you are not fully in the frame"
AT_EDGE = "move to the middle of the picture"
TOO_FAR = "come closer to the camera"
NOT_SIDE_ON = "turn side-on to the camera"
READY = "all set: start your set"
READY_BANNER_S = 2.0


def framing_problem(pose: PoseFrame, frame_size: tuple[int, int], sideness_deg: float = float("nan")) -> str | None:
    """What the lifter must change for the camera to see the lift, or None.

    Parameters
    ----------
    pose : PoseFrame
        The lifter's raw (unfiltered) pose.
    frame_size : (width, height)
    sideness_deg : float
        Body yaw away from facing the camera (90 = side-on), e.g. a median of
        :func:`~formcheck.measure.kinematics.sideness_per_frame` over the last second;
        below ``FRONT_MAX_DEG`` (a front or rear view) the lifter is asked to
        turn. NaN skips the side-on check.

    Returns
    -------
    str or None
        One instruction (the most basic problem first: in frame, then
        distance, then side-on), or None when the framing is right.
    """
    if not pose.detected:
        return NOT_SEEN
    width, height = frame_size
    margin = 0.01 * max(width, height)

    def best_seen(indices) -> np.ndarray | None:
        """The better-seen landmark of a group (left/right, far side hidden), if seen."""
        vis = np.nan_to_num(pose.visibility[list(indices)], nan=0.0)
        best = int(np.argmax(vis))
        return pose.xy[indices[best]] if vis[best] >= SEEN_VISIBILITY else None

    def inside(value: float, size: int) -> bool:
        return bool(margin <= value <= size - margin)

    head, feet = best_seen(_HEAD), best_seen(_FEET)
    seen = np.nan_to_num(pose.visibility[list(_HEAD + _BODY + _FEET)], nan=0.0) >= SEEN_VISIBILITY
    xs = pose.xy[list(_HEAD + _BODY + _FEET)][seen, 0]
    if len(xs) and not (inside(xs.min(), width) and inside(xs.max(), width)):
        return AT_EDGE  # cut off at the left or right: moving back would not help
    feet_in = feet is not None and inside(feet[1], height)
    head_in = head is not None and inside(head[1], height)
    if not feet_in and not head_in:
        return BOTH_OUT
    if not feet_in:
        return FEET_OUT
    if not head_in:
        return HEAD_OUT
    if body_length_px(pose.xy) < MIN_BODY_HEIGHT * height:
        return TOO_FAR
    # Only a front or rear view: there the analysis withholds the side-only
    # verdicts (depth, hips rising early). Real side views often measure as
    # oblique (30-60 deg), which the analysis accepts, so nagging them would be noise.
    if np.isfinite(sideness_deg) and sideness_deg < FRONT_MAX_DEG:
        return NOT_SIDE_ON
    return None


def body_length_px(xy: np.ndarray) -> float:
    """Ankle → knee → hip → shoulder → ear, summed along the body (pixels).

    About 0.85 × the standing height, and unlike the head-to-feet extent it
    does not shrink at the bottom of a squat.
    """
    chain = [frame_midpoint(xy, pair) for pair in ("ankle", "knee", "hip", "shoulder", "ear")]
    return float(sum(np.hypot(*(b - a)) for a, b in zip(chain, chain[1:])))


class FramingCheck:
    """Debounced :func:`framing_problem`: what to tell the lifter now.

    A problem is announced once it has lasted ``hold_s`` and withdrawn once
    the framing has been right for ``hold_s``, so a single bad frame (or a
    deep squat briefly hiding a foot) does not make the advice flicker.
    Sideness is the median over the last ``side_window_s``.

    Attributes
    ----------
    message : str or None
        The current instruction.
    ready : bool
        The framing has been right at least once (the set can start).
    """

    def __init__(self, hold_s: float = 0.7, side_window_s: float = 1.0) -> None:
        self.hold_s = hold_s
        self.side_window_s = side_window_s
        self.reset()

    def reset(self) -> None:
        self.message: str | None = None
        self.ready = False
        self._candidate: str | None = None
        self._since = 0.0
        self._sideness: deque[tuple[float, float]] = deque()

    def update(self, pose: PoseFrame, frame_size: tuple[int, int]) -> str | None:
        """Feed one raw pose; returns the instruction to show (None: all good)."""
        t = pose.time_s
        if pose.detected:
            one = PoseTrack.from_frames([pose], frame_size)
            self._sideness.append((t, float(sideness_per_frame(one)[0])))
        while self._sideness and t - self._sideness[0][0] > self.side_window_s:
            self._sideness.popleft()
        values = [s for _, s in self._sideness if np.isfinite(s)]
        sideness = float(np.median(values)) if values else float("nan")
        problem = framing_problem(pose, frame_size, sideness)
        if problem != self._candidate:
            self._candidate, self._since = problem, t
        if t - self._since >= self.hold_s:
            self.message = problem
            if problem is None:
                self.ready = True
        return self.message


def frame_midpoint(xy: np.ndarray, pair: str) -> np.ndarray:
    """Mean of the left/right landmarks named ``pair`` of one frame's (33, 2) points."""
    return midpoint(xy[None], pair)[0]
