"""Frame the lifter the way people film themselves: aim the camera, fill a share of the frame.

A phone on the floor sits 0.2–0.5 m high; held level, the lifter's trunk
leaves the top of the frame, so people tilt it up until they are in view
(:func:`pitch_to_centre`). Close up, the lifter fills most of the frame
height (:func:`focal_for_fill`: the focal length that makes the standing
lifter a given share of the frame). :func:`framed` does both for a
:class:`~formcheck.synth.SynthSpec`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from formcheck.synth.truth import person_height_px

#: Where the camera aims, as a share of the lifter's height above the floor (the middle of the body).
AIM_HEIGHT_SHARE = 0.5


def pitch_to_centre(camera_height_m: float, distance_m: float, target_height_m: float) -> float:
    """Camera pitch (degrees, + looking down) that puts a point ``target_height_m`` above the
    floor, ``distance_m`` away, in the middle of the image.

    >>> round(pitch_to_centre(0.3, 3.0, 0.875), 1)   # a phone on the floor, aimed at the lifter's middle
    -10.9
    """
    return float(np.degrees(np.arctan2(camera_height_m - target_height_m, distance_m)))


def standing_height_px(spec) -> float:
    """The lifter's standing height in the image (top of the head to the floor), first frame of ``spec``."""
    return person_height_px(spec.motion().skeleton(), spec.camera())


def focal_for_fill(spec, fill: float) -> float:
    """Focal length (px) at which the standing lifter spans ``fill`` of the frame height.

    The image scales linearly with the focal length at a fixed viewpoint, so
    one projection gives it exactly.
    """
    if not 0.05 <= fill <= 1.2:
        raise ValueError(f"fill must be within 0.05–1.2 of the frame height, got {fill}")
    return float(spec.focal_px * fill * spec.image_size[1] / standing_height_px(spec))


def framed(spec, fill: float | None = None, aim: bool = True):
    """``spec`` with the camera aimed at the lifter's middle (``aim``) and zoomed so the
    standing lifter fills ``fill`` of the frame height (None: focal length unchanged).

    The pitch and focal length are rounded (0.1°, 0.1 px) so case names stay stable.
    """
    if aim:
        pitch = pitch_to_centre(spec.camera_height_m, spec.camera_distance_m, AIM_HEIGHT_SHARE * spec.height_m)
        spec = dataclasses.replace(spec, camera_pitch_deg=round(pitch, 1))
    if fill is not None:
        spec = dataclasses.replace(spec, focal_px=round(focal_for_fill(spec, fill), 1))
    return spec


def in_frame_share(landmarks_xy: np.ndarray, image_size: tuple[int, int]) -> float:
    """Share of frames in which every landmark (n, 33, 2) lies inside the image.

    >>> in_frame_share(np.array([[[10.0, 10.0]], [[700.0, 10.0]]]), (640, 480))
    0.5
    """
    w, h = image_size
    xy = np.asarray(landmarks_xy, float)
    with np.errstate(invalid="ignore"):
        inside = (xy[..., 0] >= 0) & (xy[..., 0] <= w - 1) & (xy[..., 1] >= 0) & (xy[..., 1] <= h - 1)
    return float(np.mean(np.all(inside, axis=-1)))
