"""Pinhole camera looking at the lifter from the side.

Lab frame as in :mod:`formcheck.synth.body` (X forward, Y up, Z to the
lifter's right, floor Y = 0). At ``yaw_deg = 0`` the camera stands on the
lifter's right (+Z) and the lifter faces image-right; positive yaw swings the
camera round toward the lifter's front. Image coordinates: x right, y down,
pixel centres at integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """A level pinhole camera (optionally pitched) aimed at ``target``.

    Attributes
    ----------
    focal_px : float
        Focal length in pixels.
    distance_m : float
        Horizontal distance from the camera to ``target``.
    height_m : float
        Height of the optical centre above the floor.
    yaw_deg : float
        Position around the vertical axis through ``target``; 0 = pure side
        view from the lifter's right, + toward the lifter's front.
    pitch_deg : float
        Tilt of the optical axis, + looking down.
    image_size : tuple of int
        (width, height) in pixels; the principal point is the image centre.
    target : tuple of float
        Lab (X, Z) of the vertical axis the camera turns around and aims at.
    """

    focal_px: float = 800.0
    distance_m: float = 4.0
    height_m: float = 1.0
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    image_size: tuple[int, int] = (640, 480)
    target: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.focal_px <= 0 or self.distance_m <= 0:
            raise ValueError("focal length and distance must be positive")
        if self.image_size[0] < 16 or self.image_size[1] < 16:
            raise ValueError(f"image size {self.image_size} is too small")

    @property
    def position(self) -> np.ndarray:
        """Optical centre in lab coordinates."""
        yaw = np.radians(self.yaw_deg)
        tx, tz = self.target
        return np.array([tx + self.distance_m * np.sin(yaw), self.height_m, tz + self.distance_m * np.cos(yaw)])

    @property
    def rotation(self) -> np.ndarray:
        """3×3 matrix whose rows are the camera's right, down and forward axes in lab coordinates."""
        yaw, pitch = np.radians(self.yaw_deg), np.radians(self.pitch_deg)
        forward = np.array([-np.sin(yaw), 0.0, -np.cos(yaw)])
        right = np.array([np.cos(yaw), 0.0, -np.sin(yaw)])
        down = np.array([0.0, -1.0, 0.0])
        # Pitch turns forward toward down about the right axis.
        forward, down = forward * np.cos(pitch) + down * np.sin(pitch), down * np.cos(pitch) - forward * np.sin(pitch)
        return np.stack([right, down, forward])

    @property
    def principal_point(self) -> np.ndarray:
        return np.array([(self.image_size[0] - 1) / 2.0, (self.image_size[1] - 1) / 2.0])

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """Lab points (..., 3) → camera coordinates (..., 3): x right, y down, z depth."""
        return (np.asarray(points, float) - self.position) @ self.rotation.T

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project lab points (..., 3) to pixels.

        Returns
        -------
        xy : ndarray (..., 2)
            Pixel coordinates.
        depth : ndarray (...)
            Distance along the optical axis (m); points behind the camera get
            NaN pixels.
        """
        cam = self.to_camera(points)
        depth = cam[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = self.focal_px * cam[..., :2] / np.where(depth > 1e-6, depth, np.nan)[..., None]
        return xy + self.principal_point, depth

    def scale_at(self, depth: np.ndarray) -> np.ndarray:
        """Pixels per metre at ``depth``."""
        return self.focal_px / np.asarray(depth, float)

    def horizontal_axes(self) -> np.ndarray:
        """Rows: the camera's horizontal right, gravity down, horizontal forward (lab).

        The axes of world landmarks in the pose model's convention: hip-centred,
        x right and z away from the camera in the horizontal plane, y down.
        """
        yaw = np.radians(self.yaw_deg)
        return np.array([[np.cos(yaw), 0.0, -np.sin(yaw)], [0.0, -1.0, 0.0], [-np.sin(yaw), 0.0, -np.cos(yaw)]])

    def with_size(self, image_size: tuple[int, int], scale: float = 1.0) -> "Camera":
        """Same viewpoint for another image size; ``scale`` multiplies the focal length."""
        from dataclasses import replace

        return replace(self, image_size=tuple(int(v) for v in image_size), focal_px=self.focal_px * scale)
