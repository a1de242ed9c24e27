"""Spine stage: lumbar flexion from the outline of the back in a side view.

Public API:

:func:`estimate_spine`
    Per-frame lumbar flexion, confidence and whether each frame may be judged
    (:class:`SpineEstimate`), from a smoothed track and its kinematics.
:func:`rep_summary`
    The estimate over one rep (:class:`SpineRepSummary`): peak flexion, peak
    extension, hinge ratio, and whether the rep's back can be judged.
:func:`with_placed_hip`
    The track with the hip placed from the back's outline, computed once after
    the pose model and stored with the landmarks.
:data:`MODEL_HIP`, :data:`PLACED_HIP`
    The two calibrations an exercise chooses between (:class:`SpineCalibration`).
:func:`back_profile`, :func:`dorsal_side`
    The back's outline the estimate was measured on (for drawing).

The method is described in :mod:`formcheck.spine.estimate`; the private
modules hold its parts: ``_profile`` (the outline and its kink), ``_load``
(a load at the hips hiding the outline), ``_reference`` (standing frames),
``_hip`` and :mod:`formcheck.spine.pelvis` (placing the hip from the outline).
"""

from formcheck.spine._hip import PLACED_HIP_VERSION, placed_hip, with_placed_hip
from formcheck.spine._load import load_at_hips
from formcheck.spine._profile import back_profile, dorsal_side, edge_profile, kink_angle, station_fractions
from formcheck.spine._reference import LOADED_LEAN_DEG
from formcheck.spine.estimate import MODEL_HIP, PLACED_HIP, SpineCalibration, SpineEstimate, estimate_spine
from formcheck.spine.summary import SpineRepSummary, rep_summary, spine_hold_frames

__all__ = [
    "LOADED_LEAN_DEG", "MODEL_HIP", "PLACED_HIP", "PLACED_HIP_VERSION", "SpineCalibration", "SpineEstimate",
    "SpineRepSummary", "back_profile", "dorsal_side", "edge_profile", "estimate_spine", "kink_angle", "load_at_hips",
    "placed_hip", "rep_summary", "spine_hold_frames", "station_fractions", "with_placed_hip",
]
