"""Draw the synthetic lifter with numpy + OpenCV: shaded, depth-sorted primitives.

Every primitive is filled as a convex polygon in three layers (a dark rim, the
body colour shrunk a little, a highlight shrunk further and shifted toward the
light), which reads as a shaded mannequin. Groups (each leg, each arm, the
trunk, the head, each half of the barbell) are painted far to near. The frame
is drawn ``supersample`` times larger and area-downsampled, which
anti-aliases edges; the person's silhouette mask is drawn alongside from the
same polygons (the body only — the implement does not hide it) and
downsampled the same way, so its 0.5 level is the exact outline. A second
person (:mod:`formcheck.synth.bystander`) is painted in depth order like the
rest but stays out of the lifter's mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from formcheck.synth import implements as imp
from formcheck.synth.backgrounds import make_background
from formcheck.synth.body import Skeleton
from formcheck.synth.bystander import PREFIX, BystanderBody
from formcheck.synth.camera import Camera
from formcheck.synth.motion import Motion
from formcheck.synth.surface import Capsule, Ellipsoid, Rings, body_surface

#: Clothing presets: BGR colours of shirt, shorts, shoes, socks and hair.
CLOTHING: dict[str, dict[str, tuple[int, int, int]]] = {
    "red_black": {"shirt": (45, 45, 185), "shorts": (38, 38, 42), "shoe": (225, 225, 230), "sock": (235, 235, 235),
                  "hair": (30, 40, 60)},
    "blue_grey": {"shirt": (165, 95, 35), "shorts": (95, 95, 100), "shoe": (40, 40, 45), "sock": (225, 225, 225),
                  "hair": (25, 30, 35)},
    "green_navy": {"shirt": (70, 140, 60), "shorts": (80, 45, 25), "shoe": (210, 210, 215), "sock": (230, 230, 230),
                   "hair": (60, 90, 130)},
    "black_grey": {"shirt": (38, 38, 40), "shorts": (125, 125, 130), "shoe": (200, 200, 205), "sock": (40, 40, 40),
                   "hair": (20, 25, 30)},
    "white_blue": {"shirt": (232, 232, 235), "shorts": (120, 60, 30), "shoe": (45, 45, 50), "sock": (230, 230, 230),
                   "hair": (40, 60, 90)},
}
#: Skin tones, light to dark (BGR).
SKIN_TONES = ((150, 180, 230), (115, 150, 205), (80, 115, 170), (50, 75, 115))
_FIXED = {"eye": (35, 30, 30), "brow": None, "lip": (80, 80, 150), "bar": (170, 170, 175), "plate": (40, 40, 44),
          "plate2": (50, 50, 170), "collar": (140, 140, 145), "iron": (45, 45, 48)}
#: (scale, shift toward the light in units of the primitive's radius, colour gain, colour offset)
_LAYERS = ((1.0, 0.0, 0.62, 0.0), (0.86, 0.12, 1.0, 0.0), (0.5, 0.32, 1.12, 12.0))
_LIGHT = np.array([-0.35, -0.94])
_SHIFT = 3
_ARC = 12  # points per capsule end / quarter of an ellipse
_BODY_GROUPS = ("leg_l", "leg_r", "arm_l", "arm_r", "torso", "head")


@dataclass(frozen=True)
class Style:
    """How the clip looks.

    Attributes
    ----------
    background : str
        "plain", "room" or "gym".
    clothing : str or None
        A key of :data:`CLOTHING`; None picks one from ``seed``.
    skin : int or None
        Index into :data:`SKIN_TONES`; None picks one from ``seed``.
    looseness : float
        0 tight … 1 loose clothes.
    supersample : int
        Render this many times larger, then area-downsample (1 = no AA).
    noise : float
        Standard deviation of added pixel noise (grey levels).
    blur : float
        Gaussian blur sigma in output pixels (0 = none).
    seed : int
    """

    background: str = "room"
    clothing: str | None = None
    skin: int | None = None
    looseness: float = 0.0
    supersample: int = 2
    noise: float = 0.0
    blur: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.clothing is not None and self.clothing not in CLOTHING:
            raise ValueError(f"unknown clothing {self.clothing!r} (choose from {', '.join(CLOTHING)})")
        if self.skin is not None and not 0 <= self.skin < len(SKIN_TONES):
            raise ValueError(f"skin must be 0–{len(SKIN_TONES) - 1}")
        if not 1 <= int(self.supersample) <= 4:
            raise ValueError("supersample must be 1–4")
        if not 0.0 <= self.looseness <= 1.0:
            raise ValueError("looseness must be within 0–1")
        if self.noise < 0 or self.blur < 0:
            raise ValueError("noise and blur must be >= 0")

    def palette(self) -> dict[str, tuple[float, float, float]]:
        rng = np.random.default_rng(self.seed + 7919)
        clothing = CLOTHING[self.clothing or list(CLOTHING)[rng.integers(len(CLOTHING))]]
        skin = SKIN_TONES[self.skin if self.skin is not None else rng.integers(len(SKIN_TONES))]
        pal = {k: tuple(float(c) for c in v) for k, v in clothing.items()}
        pal["skin"] = tuple(float(c) for c in skin)
        pal["ear"] = tuple(0.9 * c for c in pal["skin"])
        for k, v in _FIXED.items():
            pal[k] = pal["hair"] if v is None else tuple(float(c) for c in v)
        return pal


@dataclass(frozen=True)
class RenderedFrame:
    """One rendered frame: BGR image (H, W, 3) uint8 and silhouette mask (H, W) float32 in [0, 1]."""

    index: int
    time_s: float
    image: np.ndarray
    mask: np.ndarray


# ---------------------------------------------------------------- projection (all frames at once)
def _capsule_polys(c0, c1, r0, r1) -> np.ndarray:
    """Outline polygons of 2D tapered capsules; inputs (..., 2) and (...); output (..., 2*_ARC, 2)."""
    d = c1 - c0
    length = np.linalg.norm(d, axis=-1)
    beta = np.arctan2(d[..., 1], d[..., 0])
    beta = np.where(length > 1e-9, beta, 0.0)
    alpha = np.arcsin(np.clip((r0 - r1) / np.maximum(length, 1e-9), -1.0, 1.0))
    t = np.linspace(0.0, 1.0, _ARC)
    half = np.pi / 2
    a1 = (beta - half + alpha)[..., None] + t * (np.pi - 2 * alpha)[..., None]
    a0 = (beta + half - alpha)[..., None] + t * (np.pi + 2 * alpha)[..., None]
    p1 = c1[..., None, :] + r1[..., None, None] * np.stack([np.cos(a1), np.sin(a1)], -1)
    p0 = c0[..., None, :] + r0[..., None, None] * np.stack([np.cos(a0), np.sin(a0)], -1)
    return np.concatenate([p1, p0], axis=-2)


def _project_capsule(cap: Capsule, cam: Camera):
    (c0, z0), (c1, z1) = cam.project(cap.p0), cam.project(cap.p1)
    r0, r1 = cap.r0 * cam.scale_at(z0), cap.r1 * cam.scale_at(z1)
    layers = []
    for scale, shift, _, _ in _LAYERS:
        off = (shift * 0.5 * (r0 + r1))[:, None] * _LIGHT
        layers.append(_capsule_polys(c0 + off, c1 + off, r0 * scale, r1 * scale))
    return np.stack(layers, axis=1).astype(np.float32), 0.5 * (z0 + z1)


def _project_ellipsoid(ell: Ellipsoid, cam: Camera):
    """Outline of an ellipsoid's projection (weak perspective about its centre)."""
    centre, depth = cam.project(ell.centre)
    cam_pts = cam.to_camera(ell.centre)
    R = cam.rotation
    z = cam_pts[:, 2]
    # Jacobian of the pinhole projection at the centre, (n, 2, 3).
    jac = cam.focal_px / z[:, None, None] * (
        R[None, :2, :] - (cam_pts[:, :2, None] / z[:, None, None]) * R[None, 2:3, :])
    m = jac @ np.transpose(ell.axes, (0, 2, 1))  # (n, 2, 3): images of the three semi-axes
    shape = m @ np.transpose(m, (0, 2, 1))
    vals, vecs = np.linalg.eigh(shape)
    b = vecs * np.sqrt(np.maximum(vals, 0.0))[:, None, :]  # (n, 2, 2)
    phi = np.linspace(0, 2 * np.pi, 4 * _ARC, endpoint=False)
    circle = np.stack([np.cos(phi), np.sin(phi)], 0)  # (2, m)
    radius = np.sqrt(np.maximum(vals, 0.0)).mean(axis=1)
    layers = []
    for scale, shift, _, _ in _LAYERS:
        c = centre + (shift * radius)[:, None] * _LIGHT
        layers.append(c[:, None, :] + scale * np.transpose(b @ circle, (0, 2, 1)))
    return np.stack(layers, axis=1).astype(np.float32), depth


def _project_disc(disc: imp.Disc, cam: Camera):
    phi = np.linspace(0, 2 * np.pi, 4 * _ARC, endpoint=False)
    ring = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], -1) * disc.radius  # (m, 3)
    faces = []
    for dz in (-disc.half_thickness, disc.half_thickness):
        pts = disc.centre[:, None, :] + ring[None] + np.array([0, 0, dz])
        faces.append(cam.project(pts)[0])
    _, depth = cam.project(disc.centre)
    # Base: both faces (hull taken at draw time); face: the face nearer the camera.
    near = np.where((cam.to_camera(disc.centre + [0, 0, disc.half_thickness])[:, 2]
                     < cam.to_camera(disc.centre - [0, 0, disc.half_thickness])[:, 2])[:, None, None],
                    faces[1], faces[0])
    hub = disc.centre + [0, 0, 0]
    hub_xy, hub_z = cam.project(hub)
    hub_r = 0.03 * cam.scale_at(hub_z)
    t = np.linspace(0, 2 * np.pi, 2 * _ARC, endpoint=False)
    hub_poly = hub_xy[:, None, :] + hub_r[:, None, None] * np.stack([np.cos(t), np.sin(t)], -1)
    return (np.concatenate(faces, axis=1).astype(np.float32), near.astype(np.float32),
            hub_poly.astype(np.float32)), depth


def _project_rings(rings: Rings, cam: Camera, n_points: int = 4 * _ARC):
    phi = np.linspace(0, 2 * np.pi, n_points, endpoint=False)
    pts = (rings.centre[:, :, None, :] + np.cos(phi)[None, None, :, None] * rings.sagittal[:, :, None, :]
           + np.sin(phi)[None, None, :, None] * rings.lateral[:, :, None, :])
    xy, _ = cam.project(pts)  # (n, R, m, 2)
    centre, depth = cam.project(rings.centre)
    size = np.linalg.norm(xy - centre[:, :, None, :], axis=-1).mean(axis=-1)  # (n, R)
    layers = []
    for scale, shift, _, _ in _LAYERS:
        c = centre + (shift * size)[..., None] * _LIGHT
        layers.append(c[:, :, None, :] + scale * (xy - centre[:, :, None, :]))
    return np.stack(layers, axis=1).astype(np.float32), depth.mean(axis=1)


def _shade(colour, layer: int, dim: float) -> tuple[float, float, float]:
    _, _, gain, offset = _LAYERS[layer]
    return tuple(float(min(255.0, c * gain * dim + offset)) for c in colour)


@dataclass
class _Prim:
    kind: str          # "capsule", "ellipse", "disc", "rings"
    material: object   # str, or tuple of str for rings
    data: object
    depth: np.ndarray  # (n,)


class Renderer:
    """Renders :class:`~formcheck.synth.motion.Motion` clips for one camera and style."""

    def __init__(self, camera: Camera, style: Style = Style(), paint: bool = True,
                 bystander: BystanderBody | None = None):
        self.camera = camera
        self.style = style
        self.ss = int(style.supersample)
        self.cam_ss = camera.with_size((camera.image_size[0] * self.ss, camera.image_size[1] * self.ss), self.ss)
        self.palette = style.palette()
        self.bystander = bystander
        if bystander is not None:  # the second person wears other clothes than the lifter
            self.palette.update({PREFIX + k: v for k, v in _other_palette(style, self.palette).items()})
        # Mask-only renderers skip the (slow-ish) background.
        self.background = make_background(style.background, self.cam_ss, style.seed) if paint else None
        self._line = cv2.LINE_AA if self.ss == 1 else cv2.LINE_8

    # ------------------------------------------------------------ clip set-up
    def _groups(self, motion: Motion, skel: Skeleton) -> dict[str, list[_Prim]]:
        surf = body_surface(skel, self.style.looseness)
        groups3d: dict[str, list] = dict(surf.groups)
        groups3d["torso"] = [surf.rings] + groups3d["torso"]
        anchor = motion.implement_anchor
        if motion.implement in ("barbell", "bar"):
            groups3d.update(imp.barbell(np.nan_to_num(anchor), plates=motion.implement == "barbell"))
        elif motion.implement == "kettlebell":
            hang = anchor - skel.points["shoulder_centre"]
            groups3d.update(imp.kettlebell(np.nan_to_num(anchor), hang))
        if self.bystander is not None:
            groups3d.update(self.bystander.groups)
        out: dict[str, list[_Prim]] = {}
        for name, prims in groups3d.items():
            projected = []
            for p in prims:
                if isinstance(p, Capsule):
                    data, depth = _project_capsule(p, self.cam_ss)
                    projected.append(_Prim("capsule", p.material, data, depth))
                elif isinstance(p, Ellipsoid):
                    data, depth = _project_ellipsoid(p, self.cam_ss)
                    projected.append(_Prim("ellipse", p.material, data, depth))
                elif isinstance(p, Rings):
                    data, depth = _project_rings(p, self.cam_ss)
                    projected.append(_Prim("rings", p.materials, data, depth))
                elif isinstance(p, imp.Disc):
                    data, depth = _project_disc(p, self.cam_ss)
                    projected.append(_Prim("disc", p.material, data, depth))
            out[name] = projected
        return out

    def _clip_background(self, skel: Skeleton) -> np.ndarray:
        """Background plus a soft contact shadow under the (planted) feet."""
        bg = self.background.copy()
        feet = 0.5 * (skel.points["foot_heel_sole_l"][0] + skel.points["foot_toe_tip_r"][0])
        feet[1] = 0.0
        half = 0.5 * np.linalg.norm(skel.points["foot_toe_tip_r"][0] - skel.points["foot_heel_sole_r"][0]) + 0.1
        pts = np.array([feet + [dx, 0, dz] for dx, dz in ((-half, 0), (half, 0), (0, -0.25), (0, 0.25))])
        xy, _ = self.cam_ss.project(pts)
        if not np.all(np.isfinite(xy)):
            return bg
        shadow = np.zeros(bg.shape[:2], np.float32)
        centre = xy.mean(axis=0)
        axes = (max(1, int(abs(xy[1, 0] - xy[0, 0]) / 2)), max(1, int(abs(xy[3, 1] - xy[2, 1]) / 2 + 2 * self.ss)))
        cv2.ellipse(shadow, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, 0.45, -1)
        shadow = cv2.GaussianBlur(shadow, (0, 0), 4 * self.ss)
        return (bg * (1.0 - shadow[..., None])).astype(np.uint8)

    # ------------------------------------------------------------ drawing
    def _fill(self, img, poly, colour) -> None:
        pts = np.round(poly * (1 << _SHIFT)).astype(np.int32)
        cv2.fillConvexPoly(img, pts, colour, self._line, _SHIFT)

    def _hull_fill(self, img, pts, colour) -> None:
        hull = cv2.convexHull(np.round(pts * (1 << _SHIFT)).astype(np.int32))
        cv2.fillConvexPoly(img, hull, colour, self._line, _SHIFT)

    def _draw(self, prim: _Prim, i: int, img, mask, dim: float) -> None:
        pal = self.palette
        if prim.kind in ("capsule", "ellipse"):
            colour = pal[prim.material]
            for layer in range(3):
                self._fill(img, prim.data[i, layer], _shade(colour, layer, dim))
            if mask is not None:
                self._fill(mask, prim.data[i, 0], 255)
        elif prim.kind == "rings":
            layers = prim.data[i]  # (3, R, m, 2)
            for layer in range(3):
                for k, material in enumerate(prim.material):
                    self._hull_fill(img, layers[layer, k:k + 2].reshape(-1, 2), _shade(pal[material], layer, dim))
            if mask is not None:
                for k in range(len(prim.material)):
                    self._hull_fill(mask, layers[0, k:k + 2].reshape(-1, 2), 255)
        elif prim.kind == "disc":
            both, near, hub = prim.data
            colour = pal[prim.material]
            self._hull_fill(img, both[i], _shade(colour, 0, dim))
            self._fill(img, near[i], _shade(colour, 1, dim))
            self._fill(img, hub[i], _shade(pal["collar"], 1, dim))

    def masks(self, motion: Motion) -> Iterator[np.ndarray]:
        """Only the silhouette mask (H, W) float32 of every frame."""
        groups = self._groups(motion, motion.skeleton())
        w, h = self.camera.image_size
        for i in range(len(motion)):
            mask = np.zeros((h * self.ss, w * self.ss), np.uint8)
            for g in _BODY_GROUPS:
                for prim in groups[g]:
                    if prim.kind in ("capsule", "ellipse"):
                        self._fill(mask, prim.data[i, 0], 255)
                    elif prim.kind == "rings":
                        for k in range(len(prim.material)):
                            self._hull_fill(mask, prim.data[i, 0, k:k + 2].reshape(-1, 2), 255)
            if self.ss > 1:
                mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
            yield mask.astype(np.float32) / 255.0

    def frames(self, motion: Motion) -> Iterator[RenderedFrame]:
        """Render every frame of ``motion``."""
        if self.background is None:
            raise RuntimeError("this Renderer was made with paint=False")
        skel = motion.skeleton()
        groups = self._groups(motion, skel)
        bg = self._clip_background(skel)
        w, h = self.camera.image_size
        has_implement = np.isfinite(motion.implement_anchor[:, 0])
        depth = {name: np.mean([p.depth for p in prims], axis=0) for name, prims in groups.items()}
        # Ties on the midline: the head over the trunk, the kettlebell in front of both.
        bias = {"head": -0.01, "kettlebell": -0.02, PREFIX + "head": -0.01}
        torso_depth = depth["torso"]
        own_torso = {g: depth[PREFIX + "torso"] if g.startswith(PREFIX) else torso_depth for g in groups}
        cv2.setRNGSeed(int(self.style.seed) + 104729)  # reproducible pixel noise
        noise_buf = np.empty((h, w, 3), np.int16) if self.style.noise > 0 else None
        for i in range(len(motion)):
            img = bg.copy()
            mask = np.zeros(img.shape[:2], np.uint8)
            order = sorted(groups, key=lambda g: -(depth[g][i] + bias.get(g, 0.0)))
            for g in order:
                if g not in _BODY_GROUPS and not g.startswith(PREFIX) and not has_implement[i]:
                    continue
                # Far-side limbs sit in the body's shadow.
                dim = 0.82 if depth[g][i] > own_torso[g][i] + 0.05 else 1.0
                is_body = g in _BODY_GROUPS
                for prim in groups[g]:
                    self._draw(prim, i, img, mask if is_body else None, dim)
            if self.ss > 1:
                img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
                mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
            if self.style.blur > 0:
                img = cv2.GaussianBlur(img, (0, 0), self.style.blur)
            if noise_buf is not None:
                cv2.randn(noise_buf, 0, self.style.noise)
                img = np.clip(img.astype(np.int16) + noise_buf, 0, 255).astype(np.uint8)
            yield RenderedFrame(i, float(motion.time_s[i]), img, mask.astype(np.float32) / 255.0)


def _other_palette(style: Style, lifter: dict) -> dict:
    """Colours for a second person: clothing other than the lifter's, picked from the seed."""
    rng = np.random.default_rng(style.seed + 4243)
    others = [k for k, v in CLOTHING.items() if tuple(float(c) for c in v["shirt"]) != lifter["shirt"]]
    return Style(clothing=others[rng.integers(len(others))], skin=int(rng.integers(len(SKIN_TONES))),
                 seed=style.seed + 1).palette()


def silhouette_masks(motion: Motion, camera: Camera, supersample: int = 1) -> Iterator[np.ndarray]:
    """The body's silhouette mask (H, W) float32 per frame, without painting a picture.

    Fast path for tracks without video: only the outline polygons are filled
    (anti-aliased when ``supersample`` is 1).
    """
    return Renderer(camera, Style(supersample=supersample), paint=False).masks(motion)


def render_motion(motion: Motion, camera: Camera, style: Style = Style()) -> Iterator[RenderedFrame]:
    """Shortcut: ``Renderer(camera, style).frames(motion)``."""
    return Renderer(camera, style).frames(motion)
