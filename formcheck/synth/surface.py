"""The lifter's skin and clothes as 3D primitives, for every frame at once.

Three primitive kinds, all in lab coordinates (see :mod:`formcheck.synth.body`):

* :class:`Capsule` — a tapered capsule (two spheres and the cone between);
* :class:`Ellipsoid` — head, hair, ears, eyes;
* :class:`Rings` — elliptical cross-sections of the trunk. Each ring lies
  across the spine (its sagittal half-axis is perpendicular to the spine
  tangent), so the trunk's outline follows the spinal curve: a flexed lumbar
  spine gives a convex lower back.

Primitives carry a ``group`` (drawn and depth-sorted together, in list order)
and a ``material`` key that the renderer turns into a colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.synth.body import Skeleton, rotate


@dataclass(frozen=True, eq=False)
class Capsule:
    group: str
    material: str
    p0: np.ndarray  # (n, 3)
    p1: np.ndarray  # (n, 3)
    r0: float
    r1: float


@dataclass(frozen=True, eq=False)
class Ellipsoid:
    group: str
    material: str
    centre: np.ndarray  # (n, 3)
    axes: np.ndarray    # (n, 3, 3): rows are the three semi-axis vectors


@dataclass(frozen=True, eq=False)
class Rings:
    """Trunk cross-sections: ring k is ``centre + cos(phi) * sagittal + sin(phi) * lateral``."""

    group: str
    materials: tuple[str, ...]  # one per consecutive ring pair
    centre: np.ndarray    # (n, R, 3)
    sagittal: np.ndarray  # (n, R, 3) half-depth vectors (forward)
    lateral: np.ndarray   # (n, R, 3) half-width vectors


# Trunk cross-sections in units of height. Pelvis rings ride on the pelvis:
# (y above the hip joints, centre x, half-depth, half-width).
_PELVIS_RINGS = ((-0.062, -0.020, 0.048, 0.080), (-0.025, -0.012, 0.063, 0.094), (0.020, -0.008, 0.065, 0.094))
# Spine knots S1, L3, T12, T7, C7: (back-skin offset behind the vertebral bodies, half-depth, half-width).
_SPINE_RINGS = np.array([
    (0.035, 0.060, 0.088),
    (0.031, 0.055, 0.080),
    (0.035, 0.060, 0.083),
    (0.040, 0.068, 0.090),
    (0.034, 0.047, 0.075),
])
_SPINE_KNOTS = ("S1", "L3", "T12", "T7", "C7")
#: Rings per spine segment (Catmull–Rom samples); more gives a smoother back.
RINGS_PER_SEGMENT = 3


def _v3(xy: np.ndarray, z: float = 0.0) -> np.ndarray:
    return np.concatenate([xy, np.full(xy.shape[:-1] + (1,), z)], axis=-1)


def _catmull_rom(points: np.ndarray, per_segment: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a Catmull–Rom spline through ``points`` (n, K, 2).

    Returns positions (n, M, 2), unit tangents (n, M, 2) and the knot
    parameter of each sample (M,), M = (K-1)*per_segment + 1.
    """
    k = points.shape[1]
    tangents = np.empty_like(points)
    tangents[:, 1:-1] = 0.5 * (points[:, 2:] - points[:, :-2])
    tangents[:, 0] = points[:, 1] - points[:, 0]
    tangents[:, -1] = points[:, -1] - points[:, -2]
    s = np.linspace(0.0, k - 1, (k - 1) * per_segment + 1)
    seg = np.minimum(s.astype(int), k - 2)
    t = (s - seg)[None, :, None]
    p0, p1 = points[:, seg], points[:, seg + 1]
    m0, m1 = tangents[:, seg], tangents[:, seg + 1]
    h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
    pos = h00 * p0 + h10 * m0 + h01 * p1 + h11 * m1
    d00, d10, d01, d11 = 6 * t**2 - 6 * t, 3 * t**2 - 4 * t + 1, -6 * t**2 + 6 * t, 3 * t**2 - 2 * t
    tan = d00 * p0 + d10 * m0 + d01 * p1 + d11 * m1
    tan /= np.linalg.norm(tan, axis=-1, keepdims=True)
    return pos, tan, s


def trunk_rings(skel: Skeleton, looseness: float = 0.0) -> Rings:
    """Elliptical trunk cross-sections from the buttocks to the base of the neck."""
    H = skel.dims.height
    n = len(skel)
    hip = skel.points["hip_centre"][:, :2]
    th_p = skel.angles["pelvis"]
    centres, sagittal, lateral = [], [], []
    grow = 1.0 + 0.18 * looseness
    for y, x, a, b in _PELVIS_RINGS:
        c = hip + rotate(np.array([x, y]) * H, th_p)
        fwd = rotate(np.array([1.0, 0.0]), th_p)
        centres.append(_v3(c))
        sagittal.append(_v3(fwd * a * H * (grow if y > 0 else 1.0)))
        lateral.append(np.broadcast_to(np.array([0.0, 0.0, b * H]), (n, 3)))
    knots = np.stack([skel.points[k][:, :2] for k in _SPINE_KNOTS], axis=1)
    pos, tan, s = _catmull_rom(knots, RINGS_PER_SEGMENT)
    params = np.stack([np.interp(s, np.arange(len(_SPINE_KNOTS)), _SPINE_RINGS[:, j]) for j in range(3)], axis=1)
    fwd = np.stack([tan[..., 1], -tan[..., 0]], axis=-1)  # tangent turned clockwise: forward
    back_off, a, b = params[:, 0] * H, params[:, 1] * H * grow, params[:, 2] * H * grow
    # The back skin stays where it is for tight clothes; loose ones stand off it.
    back_off = back_off + 0.5 * (a - params[:, 1] * H)
    ring_c = pos + fwd * (a - back_off)[None, :, None]
    for j in range(pos.shape[1]):
        centres.append(_v3(ring_c[:, j]))
        sagittal.append(_v3(fwd[:, j] * a[j]))
        lateral.append(np.broadcast_to(np.array([0.0, 0.0, b[j]]), (n, 3)))
    materials = ("shorts", "shorts") + ("shirt",) * (len(centres) - 3)
    return Rings("torso", materials, np.stack(centres, 1), np.stack(sagittal, 1), np.stack(lateral, 1))


def _along(a: np.ndarray, b: np.ndarray, f: float) -> np.ndarray:
    return a + f * (b - a)


def _offset_2d(points: np.ndarray, vec2: np.ndarray) -> np.ndarray:
    out = points.copy()
    out[:, :2] += vec2
    return out


def limb_capsules(skel: Skeleton, side: str, looseness: float = 0.0) -> tuple[list[Capsule], list[Capsule]]:
    """Leg and arm capsules of one side ("l" or "r"), each list in drawing order."""
    H = skel.dims.height
    P = skel.points
    g_leg, g_arm = f"leg_{side}", f"arm_{side}"
    hip, knee, ankle = P[f"hip_{side}"], P[f"knee_{side}"], P[f"ankle_{side}"]
    loose = 1.0 + 0.15 * looseness
    th_f, th_toe = skel.angles["foot"], skel.angles["toe"]

    def foot(xy):
        return _offset_2d(ankle, rotate(np.array(xy) * H, th_f))

    heel_c = foot((-0.018, -0.017))
    ball_c = foot((0.074, -0.018))
    ball_sole = P[f"foot_ball_sole_{side}"]
    toe_c = _offset_2d(ball_sole, rotate(np.array([0.030, 0.013]) * H, th_toe))
    ball_top = _offset_2d(ball_sole, rotate(np.array([0.0, 0.018]) * H, th_toe))
    shank_dir = (ankle - knee)[:, :2]
    posterior = rotate(shank_dir / np.linalg.norm(shank_dir, axis=-1, keepdims=True), np.pi / 2)
    legs = [
        Capsule(g_leg, "shoe", heel_c, ball_c, 0.022 * H, 0.019 * H),
        Capsule(g_leg, "shoe", ball_top, toe_c, 0.018 * H, 0.012 * H),
        Capsule(g_leg, "shoe", foot((0.0, -0.004)), heel_c, 0.023 * H, 0.022 * H),
        Capsule(g_leg, "sock", _along(knee, ankle, 0.86), foot((0.0, 0.004)), 0.020 * H, 0.021 * H),
        Capsule(g_leg, "skin", knee, _along(knee, ankle, 0.9), 0.032 * H, 0.020 * H),
        Capsule(g_leg, "skin", _offset_2d(_along(knee, ankle, 0.14), posterior * 0.007 * H),
                _offset_2d(_along(knee, ankle, 0.55), posterior * 0.004 * H), 0.034 * H, 0.025 * H),
        Capsule(g_leg, "skin", hip, knee, 0.050 * H, 0.033 * H),
        Capsule(g_leg, "shorts", hip, _along(hip, knee, 0.48), 0.056 * H * loose, 0.045 * H * loose),
    ]
    sh, el, wr, tip = P[f"shoulder_{side}"], P[f"elbow_{side}"], P[f"wrist_{side}"], P[f"hand_tip_{side}"]
    arms = [
        Capsule(g_arm, "skin", sh, el, 0.026 * H, 0.020 * H),
        Capsule(g_arm, "shirt", sh, _along(sh, el, 0.42), 0.031 * H * loose, 0.028 * H * loose),
        Capsule(g_arm, "shirt", sh, sh, 0.034 * H * loose, 0.034 * H * loose),
        Capsule(g_arm, "skin", el, wr, 0.020 * H, 0.015 * H),
        Capsule(g_arm, "skin", wr, tip, 0.016 * H, 0.014 * H),
    ]
    return legs, arms


def head_parts(skel: Skeleton) -> tuple[list[Capsule], list, list]:
    """Neck (trunk group) and the head (its own group, drawn in order)."""
    H = skel.dims.height
    P = skel.points
    n = len(skel)
    th = skel.angles["head"]
    c1 = P["C1"][:, :2]
    fwd = rotate(np.array([1.0, 0.0]), th)
    up = rotate(np.array([0.0, 1.0]), th)

    def at(xy, z=0.0):
        return _v3(c1 + rotate(np.array(xy) * H, th), z * H)

    def ell(group, material, centre_xy, ax, ay, az, z=0.0):
        axes = np.stack([_v3(fwd * ax * H), _v3(up * ay * H), np.broadcast_to([0.0, 0.0, az * H], (n, 3))], axis=1)
        return Ellipsoid(group, material, at(centre_xy, z), axes)

    th_n = skel.angles["neck"]
    neck_fwd = _v3(rotate(np.array([1.0, 0.0]), th_n))
    neck = Capsule("torso", "skin", P["C7"] + neck_fwd * 0.014 * H, at((0.012, 0.0)), 0.034 * H, 0.031 * H)
    head = [
        ell("head", "skin", (0.012, 0.045), 0.058, 0.050, 0.044),
        ell("head", "hair", (-0.012, 0.046), 0.050, 0.046, 0.047),  # back of the head
        ell("head", "hair", (0.008, 0.066), 0.060, 0.035, 0.047),   # crown, down to the hairline
        Capsule("head", "skin", at((0.028, 0.006)), at((0.044, -0.026)), 0.033 * H, 0.016 * H),
        Capsule("head", "skin", at((0.052, 0.027)), at((0.060, 0.004)), 0.007 * H, 0.007 * H),
        ell("head", "ear", (-0.002, 0.014), 0.011, 0.019, 0.006, z=0.044),
        ell("head", "brow", (0.050, 0.040), 0.010, 0.0025, 0.004, z=0.018),
        ell("head", "eye", (0.052, 0.031), 0.0045, 0.0035, 0.004, z=0.018),
        Capsule("head", "lip", at((0.050, -0.020), 0.01), at((0.058, -0.019), 0.01), 0.0028 * H, 0.0028 * H),
    ]
    return [neck], head, []


@dataclass(frozen=True, eq=False)
class BodySurface:
    """All primitives of the body for ``n`` frames, grouped for depth sorting."""

    groups: dict[str, list]  # group name -> primitives in drawing order
    rings: Rings


def body_surface(skel: Skeleton, looseness: float = 0.0) -> BodySurface:
    """Build the body's surface primitives for every frame of ``skel``.

    Parameters
    ----------
    skel : Skeleton
    looseness : float
        0 = tight clothes; 1 = loose (shirt and shorts stand off the body).
    """
    groups: dict[str, list] = {}
    for side in ("l", "r"):
        legs, arms = limb_capsules(skel, side, looseness)
        groups[f"leg_{side}"] = legs
        groups[f"arm_{side}"] = arms
    neck, head, _ = head_parts(skel)
    groups["torso"] = neck
    groups["head"] = head
    return BodySurface(groups=groups, rings=trunk_rings(skel, looseness))
