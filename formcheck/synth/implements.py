"""Barbell and kettlebell as 3D primitives (see :mod:`formcheck.synth.surface`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.synth.surface import Capsule, Ellipsoid

#: Olympic bar: shaft radius, sleeve radius, half-length of the shaft, end of the sleeves (m).
BAR_RADIUS, SLEEVE_RADIUS, SHAFT_HALF, SLEEVE_END = 0.014, 0.025, 0.655, 1.05
PLATE_RADIUS = 0.225


@dataclass(frozen=True, eq=False)
class Disc:
    """A plate: a cylinder whose axis is lab Z, from ``z0`` to ``z1``."""

    group: str
    material: str
    centre: np.ndarray  # (n, 3) with the z of the plate's middle
    radius: float
    half_thickness: float


def barbell(anchor: np.ndarray, plates: bool = True) -> dict[str, list]:
    """Bar with one 20 kg-size plate and a smaller one per side, centred on ``anchor`` (n, 3).

    Groups: the far and near halves are separate so they sort in depth
    against the body. ``plates=False`` draws the bar alone.
    """
    groups: dict[str, list] = {}
    for name, sign in (("bar_l", -1.0), ("bar_r", 1.0)):
        def at(z):
            p = anchor.copy()
            p[:, 2] = sign * z
            return p

        parts = [Capsule(name, "bar", at(0.0), at(SHAFT_HALF), BAR_RADIUS, BAR_RADIUS)]
        if plates:
            parts += [Disc(name, "plate", at(SHAFT_HALF + 0.035), PLATE_RADIUS, 0.028),
                      Disc(name, "plate2", at(SHAFT_HALF + 0.085), 0.16, 0.02)]
        parts += [Capsule(name, "bar", at(SHAFT_HALF), at(SLEEVE_END), SLEEVE_RADIUS, SLEEVE_RADIUS),
                  Disc(name, "collar", at(SHAFT_HALF - 0.005), 0.04, 0.012)]
        groups[name] = parts
    return groups


def kettlebell(anchor: np.ndarray, hang_dir: np.ndarray, size: float = 1.0) -> dict[str, list]:
    """Kettlebell whose handle is at ``anchor`` (n, 3), body hanging along ``hang_dir`` (n, 3)."""
    r = 0.105 * size
    d = hang_dir / np.linalg.norm(hang_dir, axis=-1, keepdims=True)
    body_c = anchor + d * (0.06 + r) * size
    n = len(anchor)
    parts = []
    for z in (-0.065, 0.065):
        top = anchor.copy()
        top[:, 2] = z * size
        foot = body_c - d * 0.7 * r
        foot[:, 2] = 0.6 * z * size
        parts.append(Capsule("kettlebell", "iron", top, foot, 0.013 * size, 0.016 * size))
    left, right = anchor.copy(), anchor.copy()
    left[:, 2], right[:, 2] = -0.065 * size, 0.065 * size
    parts.append(Capsule("kettlebell", "iron", left, right, 0.013 * size, 0.013 * size))
    axes = np.broadcast_to(np.eye(3) * r, (n, 3, 3)).copy()
    axes[:, 1, 1] *= 0.95
    parts.insert(0, Ellipsoid("kettlebell", "iron", body_c, axes))
    return {"kettlebell": parts}
