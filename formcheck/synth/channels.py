"""Joint-angle channels: the per-frame angles a lift builder fills, turned into a body pose.

The builders (:mod:`formcheck.synth.lifts`) write :data:`CHANNELS` (shank
lean, knee flexion, pelvis tilt, lumbar, thoracic and neck flexion, heel
rise; degrees) segment by segment into :class:`Frames`;
:func:`pose_from_channels` turns them into a
:class:`~formcheck.synth.body.BodyPose` with the feet flat on the floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from formcheck.synth import body as bm

#: Joint-angle channels (degrees): shank lean, knee flexion, pelvis tilt, lumbar, thoracic and
#: neck flexion, heel rise.
CHANNELS = ("shank", "knee", "pelvis", "lumbar", "thoracic", "neck", "heel")


@dataclass
class Frames:
    """Per-frame channel arrays being filled segment by segment.

    Besides :data:`CHANNELS`, builders keep their own per-frame values here
    (``"sway"``: how much quiet-standing sway to add; ``"depth"``, ``"alpha"``,
    ``"bar_forward"``, … for the arms and the implement).
    """

    n: int
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def set(self, name: str, index: np.ndarray, value) -> None:
        if name not in self.values:
            self.values[name] = np.full(self.n, np.nan)
        self.values[name][index] = value


def standing() -> dict[str, float]:
    """The standing key pose: every channel 0."""
    return {k: 0.0 for k in CHANNELS}


def lerp(a: dict, b: dict, prog: dict | np.ndarray, keys: Iterable[str]) -> dict:
    """From key pose ``a`` toward ``b`` by ``prog`` (one progress for all, or one per channel; 0 if absent)."""
    out = {}
    for k in keys:
        p = prog.get(k, 0.0) if isinstance(prog, dict) else prog
        out[k] = a[k] + (b[k] - a[k]) * p
    return out


def standing_sway(t: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Quiet-standing sway and breathing, a fraction of a degree."""
    ph = rng.uniform(0, 2 * np.pi, 3)
    return {
        "pelvis": 0.8 * np.sin(2 * np.pi * 0.23 * t + ph[0]),
        "shank": 0.5 * np.sin(2 * np.pi * 0.17 * t + ph[1]),
        "thoracic": 0.8 * np.sin(2 * np.pi * 0.25 * t + ph[2]),
    }


def pose_from_channels(ch: dict[str, np.ndarray], mid_foot_x: float = 0.0, **arms) -> bm.BodyPose:
    """The body pose of channel values (``arms``: shoulder/elbow angles, if already known)."""
    # With feet flat, the thigh's orientation is shank lean − knee flexion, so
    # the hip flexion follows from the pelvis tilt.
    hip = ch["pelvis"] - (ch["shank"] - ch["knee"])
    return bm.BodyPose(
        pelvis_tilt=ch["pelvis"], hip_flexion=hip, knee_flexion=ch["knee"], heel_rise=ch["heel"],
        lumbar_flexion=ch["lumbar"], thoracic_flexion=ch["thoracic"], neck_flexion=ch["neck"],
        mid_foot_x=mid_foot_x, **arms,
    )


def lumbar_lean_gain(dims: bm.BodyDims, lumbar: np.ndarray, thoracic: np.ndarray | float = 0.0) -> np.ndarray:
    """Extra trunk inclination (deg) caused by spinal flexion with the pelvis held still."""
    lumbar = np.atleast_1d(np.asarray(lumbar, float))
    with_flex = bm.forward_kinematics(dims, bm.BodyPose(lumbar_flexion=lumbar, thoracic_flexion=thoracic))
    neutral = bm.forward_kinematics(dims, bm.BodyPose(lumbar_flexion=np.zeros_like(lumbar)))
    return bm.trunk_inclination_deg(with_flex) - bm.trunk_inclination_deg(neutral)
