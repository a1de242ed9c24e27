"""Static scenes behind the lifter: plain, room (wall, door, plank floor), gym.

Everything is laid out in lab coordinates relative to the camera (a back wall
``WALL_BEHIND_M`` behind the lifter, square to the camera's horizontal view
direction; the floor at Y = 0) and projected with the camera, so floors
recede in perspective and scale with the focal length.
"""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.synth.camera import Camera

BACKGROUNDS = ("plain", "room", "gym")
#: Distance of the back wall behind the lifter (m).
WALL_BEHIND_M = 2.5
_SHIFT = 3  # sub-pixel bits for OpenCV polygon drawing


class _Scene:
    """Helper mapping wall/floor coordinates (u right, v depth, y up) to pixels."""

    def __init__(self, cam: Camera):
        self.cam = cam
        yaw = np.radians(cam.yaw_deg)
        self.fwd = np.array([-np.sin(yaw), 0.0, -np.cos(yaw)])
        self.right = np.array([np.cos(yaw), 0.0, -np.sin(yaw)])
        self.origin = np.array([cam.target[0], 0.0, cam.target[1]])
        self.w, self.h = cam.image_size

    def lab(self, u, v, y) -> np.ndarray:
        u, v, y = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float), np.asarray(y, float))
        return self.origin + u[..., None] * self.right + v[..., None] * self.fwd + y[..., None] * np.array([0, 1.0, 0])

    def px(self, u, v, y) -> np.ndarray:
        xy, depth = self.cam.project(self.lab(u, v, y))
        return np.clip(np.nan_to_num(xy, nan=-1e5), -1e5, 1e5)

    def wall(self, u, y) -> np.ndarray:
        return self.px(u, WALL_BEHIND_M, y)

    def near_v(self) -> float:
        return -(self.cam.distance_m - 0.25)

    def poly(self, img, pts, colour) -> None:
        cv2.fillPoly(img, [np.round(np.asarray(pts) * (1 << _SHIFT)).astype(np.int32)], colour,
                     lineType=cv2.LINE_8, shift=_SHIFT)

    def line(self, img, p0, p1, colour, thickness=1) -> None:
        a = np.round(np.asarray(p0) * (1 << _SHIFT)).astype(int)
        b = np.round(np.asarray(p1) * (1 << _SHIFT)).astype(int)
        cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), colour, thickness, cv2.LINE_AA, _SHIFT)

    def circle(self, img, centre, radius, colour) -> None:
        c = np.round(np.asarray(centre) * (1 << _SHIFT)).astype(int)
        cv2.circle(img, (int(c[0]), int(c[1])), int(round(radius * (1 << _SHIFT))), colour, -1, cv2.LINE_AA, _SHIFT)

    def wall_rect(self, img, u0, u1, y0, y1, colour) -> None:
        self.poly(img, self.wall(np.array([u0, u1, u1, u0]), np.array([y0, y0, y1, y1])), colour)

    def wall_scale(self) -> float:
        """Pixels per metre on the back wall."""
        return self.cam.focal_px / (self.cam.distance_m + WALL_BEHIND_M)


def _vertical_gradient(w: int, h: int, top, bottom) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    col = (1 - t) * np.array(top, float) + t * np.array(bottom, float)
    return np.broadcast_to(col, (h, w, 3)).astype(np.uint8).copy()


def _wall_and_floor(sc: _Scene, wall_top, wall_bottom, floor_colour) -> np.ndarray:
    img = _vertical_gradient(sc.w, sc.h, wall_top, wall_bottom)
    v0, v1 = sc.near_v(), WALL_BEHIND_M
    sc.poly(img, sc.px(np.array([-30, 30, 30, -30.0]), np.array([v0, v0, v1, v1]), 0.0), floor_colour)
    return img


def plain(cam: Camera, rng: np.random.Generator) -> np.ndarray:
    """An even wall and a slightly darker floor."""
    sc = _Scene(cam)
    tone = rng.uniform(190, 225)
    return _wall_and_floor(sc, (tone, tone, tone - 4), (tone - 8, tone - 8, tone - 12),
                           (tone - 45, tone - 40, tone - 35))


def room(cam: Camera, rng: np.random.Generator) -> np.ndarray:
    """Painted wall with a door, a picture and skirting; wooden plank floor."""
    sc = _Scene(cam)
    base = np.array([185, 205, 220]) + rng.uniform(-15, 15, 3)
    img = _vertical_gradient(sc.w, sc.h, base + 12, base - 12)
    v0, v1 = sc.near_v(), WALL_BEHIND_M
    # Planks run toward the wall; each board a slightly different brown.
    wood = np.array([70, 120, 165]) + rng.uniform(-15, 15, 3)
    width = 0.14
    for u in np.arange(-12.0, 12.0, width):
        colour = tuple(float(c) for c in np.clip(wood * rng.uniform(0.85, 1.1), 0, 255))
        sc.poly(img, sc.px(np.array([u, u + width, u + width, u]), np.array([v0, v0, v1, v1]), 0.0), colour)
        seam = tuple(float(c) for c in wood * 0.55)
        sc.line(img, sc.px(u, v0, 0.0), sc.px(u, v1, 0.0), seam)
        for v in np.arange(v0 + rng.uniform(0, 1.5), v1, rng.uniform(1.2, 2.0)):
            sc.line(img, sc.px(u, v, 0.0), sc.px(u + width, v, 0.0), seam)
    # Skirting board.
    sc.wall_rect(img, -30, 30, 0.0, 0.09, tuple(float(c) for c in base * 0.8 + 30))
    side = rng.choice([-1.0, 1.0])
    u_door = side * rng.uniform(1.2, 1.7)
    frame = (60.0, 90.0, 120.0)
    sc.wall_rect(img, u_door - 0.05, u_door + 0.95, 0.0, 2.12, frame)
    sc.wall_rect(img, u_door, u_door + 0.9, 0.0, 2.05, (80.0, 125.0, 165.0))
    for y0, y1 in ((0.25, 0.95), (1.15, 1.85)):  # panels
        sc.wall_rect(img, u_door + 0.12, u_door + 0.78, y0, y1, (70.0, 112.0, 150.0))
    sc.circle(img, sc.wall(u_door + 0.8, 1.0), 0.03 * sc.wall_scale(), (60.0, 170.0, 200.0))
    # A framed picture on the other side.
    u_pic = -side * rng.uniform(1.4, 2.2)
    sc.wall_rect(img, u_pic - 0.32, u_pic + 0.32, 1.25, 1.75, (40.0, 45.0, 50.0))
    sc.wall_rect(img, u_pic - 0.28, u_pic + 0.28, 1.29, 1.71, tuple(float(c) for c in rng.uniform(90, 200, 3)))
    return img


def gym(cam: Camera, rng: np.random.Generator) -> np.ndarray:
    """Dark gym: rubber floor, rack, plates and dumbbells against the wall, posters, a light panel."""
    sc = _Scene(cam)
    img = _vertical_gradient(sc.w, sc.h, (85, 82, 80), (60, 58, 56))
    v0, v1 = sc.near_v(), WALL_BEHIND_M
    sc.poly(img, sc.px(np.array([-30, 30, 30, -30.0]), np.array([v0, v0, v1, v1]), 0.0), (44.0, 44.0, 46.0))
    for u in np.arange(-12.0, 12.0, 1.0):
        sc.line(img, sc.px(u, v0, 0.0), sc.px(u, v1, 0.0), (30.0, 30.0, 32.0))
    for v in np.arange(np.ceil(v0), v1, 1.0):
        sc.line(img, sc.px(-30, v, 0.0), sc.px(30, v, 0.0), (30.0, 30.0, 32.0))
    s = sc.wall_scale()
    # Posters and a lit panel on the wall.
    for _ in range(5):
        u = rng.uniform(-4.0, 4.0)
        y = rng.uniform(1.3, 2.0)
        w, h = rng.uniform(0.4, 0.9), rng.uniform(0.5, 0.9)
        sc.wall_rect(img, u, u + w, y, y + h, tuple(float(c) for c in rng.uniform(40, 230, 3)))
        for k in range(3):
            yy = y + h * (0.2 + 0.25 * k)
            sc.line(img, sc.wall(u + 0.1 * w, yy), sc.wall(u + 0.8 * w, yy), (245.0, 245.0, 245.0),
                    max(1, int(0.02 * s)))
    u_light = rng.uniform(-3.0, 3.0)
    sc.wall_rect(img, u_light, u_light + 1.4, 2.3, 2.6, (235.0, 240.0, 245.0))
    # Squat rack in front of the wall.
    side = rng.choice([-1.0, 1.0])
    u_rack = side * rng.uniform(1.3, 2.0)
    rack_v = WALL_BEHIND_M - 0.6
    for du in (0.0, 1.1):
        p0, p1 = sc.px(u_rack + du, rack_v, 0.0), sc.px(u_rack + du, rack_v, 2.3)
        sc.line(img, p0, p1, (25.0, 25.0, 28.0), max(2, int(0.07 * s)))
    for y in (0.45, 1.35, 2.25):
        sc.line(img, sc.px(u_rack, rack_v, y), sc.px(u_rack + 1.1, rack_v, y), (25.0, 25.0, 28.0),
                max(2, int(0.05 * s)))
    # Plates leaning against the wall.
    for _ in range(4):
        u = rng.uniform(-4.5, 4.5)
        r = rng.choice([0.225, 0.16, 0.12])
        c = sc.wall(u, r)
        sc.circle(img, c, r * s, (28.0, 28.0, 30.0))
        sc.circle(img, c, 0.05 * s, (120.0, 120.0, 125.0))
    # Dumbbell rack.
    u_db = -side * rng.uniform(1.5, 2.5)
    sc.wall_rect(img, u_db, u_db + 1.5, 0.0, 0.55, (40.0, 40.0, 42.0))
    for k in range(6):
        c = sc.wall(u_db + 0.13 + 0.25 * k, 0.65)
        sc.circle(img, c, 0.07 * s, (20.0, 20.0, 22.0))
    return img


def make_background(kind: str, cam: Camera, seed: int = 0) -> np.ndarray:
    """Render background ``kind`` for ``cam`` (BGR uint8, camera's image size)."""
    funcs = {"plain": plain, "room": room, "gym": gym}
    if kind not in funcs:
        raise ValueError(f"unknown background {kind!r} (choose from {', '.join(BACKGROUNDS)})")
    return funcs[kind](cam, np.random.default_rng(seed))
