"""Per-rep numbers of the spine estimate: peak flexion, peak extension, hinge ratio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.measure.held import hold_frames, sustained_max
from formcheck.reps import Rep
from formcheck.spine._reference import LOADED_LEAN_DEG
from formcheck.spine.estimate import SpineEstimate

#: Hinge ratio: an assessable frame within this trunk lean (degrees) of the
#: rep's most upright frame gives the upright lumbar level.
UPRIGHT_MATCH_DEG = 15.0
#: A flexion peak must be held this long to count (seconds).
HOLD_S = 0.25
#: Share of the rep's seen frames whose back must be assessable.
MIN_ASSESSABLE_SHARE = 0.6

_NAN = float("nan")


@dataclass(frozen=True)
class SpineRepSummary:
    """The spine over one rep.

    Attributes
    ----------
    peak_lumbar_flexion_deg : float
        Most flexion beyond neutral held for ``HOLD_S`` while the trunk leans
        at least ``LOADED_LEAN_DEG`` (NaN if not seen).
    peak_flexion_time_s : float
        When that stretch began.
    peak_extension_deg : float
        Most extension (arching) held, ≥ 0.
    hinge_ratio : float
        Share of the rep's change in trunk lean that came from the hips:
        1 − Δlumbar / Δtrunk, 0–1 (NaN when the trunk moved ≤ 10°).
    assessable : bool
        Whether the spine checks may judge this rep.
    reason : str
        Why not ('' when assessable).
    """

    peak_lumbar_flexion_deg: float = _NAN
    peak_flexion_time_s: float = _NAN
    peak_extension_deg: float = _NAN
    hinge_ratio: float = _NAN
    assessable: bool = False
    reason: str = ""

    def metrics(self) -> dict[str, float]:
        """The numbers a rep reports (``report.json`` ``reps[].metrics``)."""
        return {
            "peak_lumbar_flexion_deg": self.peak_lumbar_flexion_deg,
            "peak_flexion_time_s": self.peak_flexion_time_s,
            "peak_extension_deg": self.peak_extension_deg,
            "hinge_ratio": self.hinge_ratio,
        }


def spine_hold_frames(time_s: np.ndarray) -> int:
    """Frames a spine value must be held (``HOLD_S``, at least 2)."""
    return max(2, hold_frames(time_s, HOLD_S))


def rep_summary(spine: SpineEstimate, trunk_inclination: np.ndarray, time_s: np.ndarray, rep: Rep) -> SpineRepSummary:
    """Summarise the spine estimate over one rep.

    Parameters
    ----------
    spine : SpineEstimate
    trunk_inclination : ndarray
        Trunk lean from vertical per frame (degrees; the kinematics' signal).
    time_s : ndarray
    rep : Rep

    Returns
    -------
    SpineRepSummary
        Not assessable, with the reason, when the clip's spine is withheld or
        the back's outline was unclear over most of the rep or at its bottom.
    """
    if spine.reason:
        return SpineRepSummary(reason=spine.reason)
    window = np.arange(rep.start, min(rep.end, len(spine)))
    lean = np.asarray(trunk_inclination, np.float64)
    ok = window[spine.assessable[window]]
    hidden = spine.load_at_hips[window] if spine.load_at_hips is not None else np.zeros(len(window), bool)
    seen = window[np.isfinite(lean[window]) & ~hidden]
    if len(seen) == 0 or len(ok) < MIN_ASSESSABLE_SHARE * len(seen):
        return SpineRepSummary(reason="the back's outline was unclear during most of this rep")
    deepest = seen[np.argmax(lean[seen])]
    near_deepest = ok[np.abs(ok - deepest) <= max(3, len(window) // 10)]
    if len(near_deepest) == 0:
        return SpineRepSummary(reason="the back's outline was unclear at the bottom of this rep")
    flexion = spine.lumbar_flexion_deg
    loaded = ok[lean[ok] >= LOADED_LEAN_DEG]
    hold = spine_hold_frames(time_s)
    peak, at = sustained_max(flexion, loaded, hold)
    extension, _ = sustained_max(-flexion, ok, hold)
    upright = seen[np.argmin(lean[seen])]
    d_trunk = lean[deepest] - lean[upright]
    # Upright frames hidden by a load at the hips give no value; the estimate's
    # own reference (0 = the neutral upright) stands in when no nearly upright frame is left.
    upright_ok = ok[lean[ok] <= lean[upright] + UPRIGHT_MATCH_DEG]
    upright_level = _value_near(flexion, upright_ok, upright) if len(upright_ok) else 0.0
    d_lumbar = max(float(np.median(flexion[near_deepest])) - upright_level, 0.0)
    return SpineRepSummary(
        peak_lumbar_flexion_deg=peak,
        peak_flexion_time_s=float(time_s[at]) if at >= 0 else _NAN,
        peak_extension_deg=float(max(extension, 0.0)) if np.isfinite(extension) else _NAN,
        hinge_ratio=float(np.clip(1.0 - d_lumbar / d_trunk, 0.0, 1.0)) if d_trunk > 10 else _NAN,
        assessable=True,
    )


def _value_near(values: np.ndarray, frames: np.ndarray, target: int) -> float:
    """Value at the assessable frame nearest ``target``."""
    return float(values[frames[np.argmin(np.abs(frames - target))]])
