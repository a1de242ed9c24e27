"""Spine stage: lumbar flexion from the outline of the back in a side view.

BlazePose has no landmark between hip and shoulder, so the hip–shoulder line
cannot tell a hip hinge from a rounded lower back (about 70 % of lumbar
flexion shows up as extra trunk lean). The back's outline can: the person
segmentation mask gives, at ``TRUNK_STATIONS`` stations along the hip→shoulder
line, the silhouette edge on each side (``PoseTrack.trunk_edges``).

Method
------
1. **Dorsal side.** The back is the side away from where the lifter faces
   (``Kinematics.facing``); the hands hang on the other side, which is used as
   a cross-check (and as the answer when the facing is unknown).
2. **Hip.** The pose model's hip landmark slides up the trunk in a deep
   hinge (on rendered deadlifts up to 0.2 trunk lengths at the set-up), and
   the line measured from it tilts with it. Where the exercise asks for it
   (``Exercise.spine_calibration``), the hip is placed instead by registering
   the outline of the sacrum and buttock against the lifter's own outline
   (:mod:`formcheck.spine.pelvis`).
3. **Back profile.** Each dorsal edge point becomes ``(s, d)``: distance along
   the hip→shoulder line and out to the back, both in trunk lengths. Only the
   middle 80 % (``TRIM``) is used: clothing bunches at the neck and the hip end
   sits on the buttock. Points are rejected when they jump away from a robust
   cubic through the frame's profile (an arm, the bar or a plate across
   the back, an overlay drawn on the video) or from the same station's
   running median over time.
4. **Kink.** Straight lines are fitted to the lower and upper halves of the
   profile; the kink is the angle between them, + convex (rounded), −
   concave (arched).
5. **Neutral.** No absolute kink transfers across lifters, clothes and
   cameras. The neutral kink at each frame is a population curve over trunk
   lean (:class:`SpineCalibration`) anchored on the lifter's own standing
   kink: fully when upright, by ``LIFTER_WEIGHT_HINGED`` once hinged (on real
   side-view deadlifts the standing kink, −34…+5°, hardly predicted where a
   flat back sat at the floor). Measured from the model's hip, a flat back's
   kink rises ≈ 10° into the hinge, mostly the landmark's slide; from the
   placed hip it stays level.
6. **Degrees.** ``lumbar_flexion = (kink − neutral) / kink_per_flexion``: on
   rendered lifters the kink grows by ≈ 0.55–0.6° per degree of true lumbar
   flexion (NOTES). The kink also responds to upper-back (thoracic) rounding,
   which it cannot tell from lumbar rounding.

A verdict is withheld (``assessable`` False, with ``reason``) when the view is
not a side view, the back's outline is missing or broken on too many frames,
or the per-frame confidence is low: a silent wrong answer is worse than none.

Secondary cue: the ratio of the metric (3D world) hip–shoulder distance to the
lifter's standing value (``trunk_length_ratio``; in 3D it shrinks ≈ 6 / 9 /
13 % at 20 / 30 / 40° of lumbar flexion). It is reported, not fused: on real
side-view deadlifts it fell to 0.82–0.90 for neutral and rounded backs alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.measure.kinematics import Kinematics, midpoint, view_read
from formcheck.pose.filters import nan_median_filter, odd_window
from formcheck.pose.track import PoseTrack
from formcheck.reps import Rep
from formcheck.spine._hip import placed_hip
from formcheck.spine._load import load_at_hips
from formcheck.spine._profile import back_profile, dorsal_side, kink_angle
from formcheck.spine._reference import MIN_STANDING_FRAMES, standing_frames

# ---------------------------------------------------------------- parameters
#: Share of the model hip's usable frames the placed hip's back profile must
#: keep, or the clip falls back to the model's hip (:data:`MODEL_HIP`).
MIN_PLACED_USABLE = 0.8

#: Lean by which a standing lordosis has flattened into the hinge (degrees).
FLATTENED_LEAN_DEG = 25.0

#: How much of the lifter's own standing kink (vs the population's) sets his
#: neutral: all of it upright, ``LIFTER_WEIGHT_HINGED`` of it once hinged.
LIFTER_WEIGHT_HINGED = 0.25

#: Running-median spans over time (seconds), so a 60 fps phone video is
#: smoothed over the same time as a 30 fps one (5 and 9 frames at 30 fps).
KINK_MEDIAN_S = 5 / 30

#: Frames below this confidence are not assessed.
MIN_CONFIDENCE = 0.5

#: Share of pose frames that need a usable back outline.
MIN_USABLE_FRACTION = 0.5

#: Sideness (degrees, 90 = pure side) from which the view gives full confidence.
FULL_SIDENESS_DEG = 70.0

#: Shortest hip→shoulder distance (pixels, median over the clip) at which the
#: back's outline is judged: rendered lifters 150 px tall (≈ 50 px trunk) read
#: 7° low with confident misses; the smallest real clip here has ≈ 63 px.
MIN_TRUNK_PX = 55.0


@dataclass(frozen=True)
class SpineCalibration:
    """How the back's kink becomes degrees of lumbar flexion, for one way of placing the hip.

    Attributes
    ----------
    place_hip : bool
        Place the hip from the back's outline (:mod:`formcheck.spine.pelvis`)
        rather than taking the pose model's hip landmark.
    neutral_standing, neutral_hinged : float
        Population kink of a flat back (degrees) upright and at
        ``hinged_lean_deg`` of trunk lean, linear in between.
    hinged_lean_deg : float
    kink_per_flexion : float
        Degrees of kink per degree of true lumbar flexion.
    """

    place_hip: bool
    neutral_standing: float
    neutral_hinged: float
    kink_per_flexion: float
    hinged_lean_deg: float = 60.0


#: The pose model's hip: a flat back's kink rises by 10° into the hinge (the
#: landmark slides up the trunk); set on rendered and real lifters.
MODEL_HIP = SpineCalibration(place_hip=False, neutral_standing=-12.0, neutral_hinged=-2.0, kink_per_flexion=0.58)


#: The hip placed from the outline: fitted on the rendered side-view deadlifts
#: (28,000 frames; −7.6° upright, −7.5° hinged, gain 0.60). On rendered squats
#: it reads worse than the model's hip (docs/synthetic-benchmark.md), so each
#: exercise chooses.
PLACED_HIP = SpineCalibration(place_hip=True, neutral_standing=-7.5, neutral_hinged=-7.5, kink_per_flexion=0.60)


@dataclass(frozen=True, eq=False)
class SpineEstimate:
    """Per-frame lumbar flexion estimate of one lifter (arrays of length n).

    Attributes
    ----------
    lumbar_flexion_deg : ndarray
        + flexion / − extension relative to the lifter's neutral, degrees.
    confidence : ndarray
        0–1 per frame.
    assessable : ndarray of bool
        Frames whose estimate may be used.
    back_kink_deg : ndarray
        Raw kink of the back outline (+ convex), before any reference.
    neutral_kink_deg : ndarray
        The kink a flat back of this lifter would show at that trunk lean.
    trunk_length_ratio : ndarray
        Metric hip–shoulder distance over the lifter's standing value.
    dorsal_points : ndarray, shape (n, k, 2)
        Accepted back outline points in image pixels (NaN where rejected or
        trimmed), for drawing.
    reason : str
        Why the clip cannot be assessed ('' if it can).
    standing_kink_deg : float
        The lifter's own standing kink (NaN if no standing frames were seen).
    load_at_hips : ndarray of bool
        Upright frames where a load held at the hips hides them
        (:func:`load_at_hips`); not assessed, and not counted against the
        rep's share of assessable frames.
    hip_xy : ndarray, shape (n, 2), or None
        The hip midpoint the back's line was measured from (pixels).
    calibration : SpineCalibration or None
        The calibration used: :data:`MODEL_HIP` when the hip could not be
        placed from the outline (no outline stored, or no registration).
    lean_deg : ndarray, shape (n,), or None
        Trunk lean from vertical (+ forward, degrees) of the line from that
        hip to the shoulders: with the placed hip, the lean the pose model's
        hip cannot give where a plate covers it (it slides onto the plate and
        makes an upright lifter lean back). NaN outside side views.
    """

    time_s: np.ndarray
    lumbar_flexion_deg: np.ndarray
    confidence: np.ndarray
    assessable: np.ndarray
    back_kink_deg: np.ndarray
    neutral_kink_deg: np.ndarray
    trunk_length_ratio: np.ndarray
    dorsal_points: np.ndarray
    reason: str = ""
    standing_kink_deg: float = float("nan")
    load_at_hips: np.ndarray | None = None
    hip_xy: np.ndarray | None = None
    calibration: SpineCalibration | None = None
    lean_deg: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time_s)


def estimate_spine(
    track: PoseTrack, kin: Kinematics, reps: list[Rep] | None = None, calibration: SpineCalibration = MODEL_HIP,
    place_hip_from: int = 0,
) -> SpineEstimate:
    """Lumbar flexion per frame from the back outline of a side view.

    Parameters
    ----------
    track : PoseTrack
        The smoothed track (with ``trunk_edges``) the kinematics came from.
    kin : Kinematics
        Its kinematics (view, facing, trunk inclination, hip flexion).
    reps : list of Rep, optional
        When given, the lifter's standing reference is taken from the reps'
        ``lockout`` and ``setup`` phases (and frames outside any rep) rather
        than from every standing frame.
    calibration : SpineCalibration
        Where the hip comes from and how kink becomes degrees (the exercise's
        ``spine_calibration``).
    place_hip_from : int
        First frame whose hip is placed from the outline when the track does
        not carry it (:func:`placed_hip`).

    Returns
    -------
    SpineEstimate
    """
    lean = np.asarray(kin["trunk_inclination"], np.float64)
    side, reason = dorsal_side(track, kin)
    loaded_hips = load_at_hips(track, kin, side) if side is not None else np.zeros(len(track), bool)
    # The model's hip unless the exercise asks for the placed one and it holds.
    hip = midpoint(track.xy.astype(np.float64), "hip")
    profile = back_profile(track, side if side is not None else 0)
    kink, used = kink_angle(profile[0], profile[1])
    wanted = calibration
    if wanted.place_hip:
        calibration = MODEL_HIP
    if side is not None and wanted.place_hip:
        placed_xy, placed = placed_hip(track, kin, side, loaded_hips, place_hip_from)
        if placed.any():  # else no outline stored (an older track) or nothing registered
            placed_profile = back_profile(track, side, placed_xy)
            placed_kink, placed_used = kink_angle(placed_profile[0], placed_profile[1], True)
            # A placed hip that pulls the line off the back (the outline misread) loses
            # the profile on many frames: then the model's hip serves the whole clip.
            if np.isfinite(placed_kink).sum() >= MIN_PLACED_USABLE * np.isfinite(kink).sum():
                hip, profile, kink, used, calibration = placed_xy, placed_profile, placed_kink, placed_used, wanted
    s, d, points, noise = profile
    kink = nan_median_filter(kink, odd_window(track.time_s, KINK_MEDIAN_S))

    standing = standing_frames(kin, reps) & np.isfinite(kink) & ~loaded_hips
    stand_kink = float(np.median(kink[standing])) if standing.sum() >= MIN_STANDING_FRAMES else float("nan")
    neutral = neutral_kink(lean, stand_kink, calibration)
    flexion = (kink - neutral) / calibration.kink_per_flexion

    # Confidence: share of usable stations, raggedness of the edge, view, personal reference.
    c_points = np.clip((used - 0.5) / 0.4, 0.0, 1.0)
    c_fit = np.clip(1.0 - (np.nan_to_num(noise, nan=1.0) - 0.005) / 0.015, 0.0, 1.0)
    sideness = kin.sideness_deg if np.isfinite(kin.sideness_deg) else 0.0
    c_view = float(np.clip((sideness - 45.0) / (FULL_SIDENESS_DEG - 45.0), 0.0, 1.0))
    c_ref = 1.0 if np.isfinite(stand_kink) else 0.75
    confidence = np.where(np.isfinite(flexion) & ~loaded_hips, c_points * c_fit * c_view * c_ref, 0.0)

    detected = track.detected
    usable = np.isfinite(kink) | loaded_hips
    if kin.view != "side":
        reason = f"the back's shape needs a side view ({view_read(kin.view, kin.sideness_deg)}); film from the side at hip height"
    elif not detected.any():
        reason = "no person was found"
    elif _trunk_px(track) < MIN_TRUNK_PX:
        reason = "the lifter is too small in the frame to judge the back's shape; film closer"
    elif not reason and usable[detected].mean() < MIN_USABLE_FRACTION:
        reason = (
            f"the outline of the back was hidden or unclear in {1 - usable[detected].mean():.0%} of frames "
            "(arms, bar, plates, baggy clothes or a busy background)"
        )
    assessable = np.isfinite(flexion) & (confidence >= MIN_CONFIDENCE) & (reason == "")
    if not reason and not assessable.any():
        reason = "the back's outline was too uncertain to judge the spine"

    return SpineEstimate(
        time_s=np.asarray(track.time_s, np.float64),
        lumbar_flexion_deg=flexion,
        confidence=confidence,
        assessable=assessable,
        back_kink_deg=kink,
        neutral_kink_deg=neutral,
        trunk_length_ratio=trunk_length_ratio(track, standing if standing.any() else None),
        dorsal_points=points,
        reason=reason,
        standing_kink_deg=stand_kink,
        load_at_hips=loaded_hips,
        hip_xy=hip,
        lean_deg=_lean(track, hip, kin.facing),
        calibration=calibration,
    )


def _lean(track: PoseTrack, hip: np.ndarray, facing: int) -> np.ndarray:
    """Trunk lean from vertical of the hip → shoulder-midpoint line, + toward where the lifter faces."""
    if not facing:
        return np.full(len(track), np.nan)
    d = midpoint(track.xy.astype(np.float64), "shoulder") - np.asarray(hip, np.float64)
    return np.degrees(np.arctan2(facing * d[:, 0], -d[:, 1]))


def _trunk_px(track: PoseTrack) -> float:
    """Median hip-midpoint → shoulder-midpoint distance in pixels."""
    xy = track.xy.astype(np.float64)
    length = np.linalg.norm(midpoint(xy, "shoulder") - midpoint(xy, "hip"), axis=-1)
    return float(np.nanmedian(length)) if np.isfinite(length).any() else 0.0


def neutral_kink(
    lean_deg: np.ndarray, standing_kink: float = float("nan"), calibration: SpineCalibration = MODEL_HIP
) -> np.ndarray:
    """Kink a flat back shows at each trunk lean.

    The calibration's population curve (linear from ``neutral_standing``
    upright to ``neutral_hinged`` at ``hinged_lean_deg``), shifted by the
    lifter's own standing kink's difference from it: all of it upright,
    ``LIFTER_WEIGHT_HINGED`` of it once the trunk leans
    ``FLATTENED_LEAN_DEG`` (the standing lordosis flattens in a hinge, so
    the personal offset fades).
    """
    lean = np.asarray(lean_deg, np.float64)
    ramp = np.clip(lean / calibration.hinged_lean_deg, 0.0, 1.0)
    curve = calibration.neutral_standing + ramp * (calibration.neutral_hinged - calibration.neutral_standing)
    if np.isfinite(standing_kink):
        flattened = np.clip(lean / FLATTENED_LEAN_DEG, 0.0, 1.0)
        weight = 1.0 - flattened * (1.0 - LIFTER_WEIGHT_HINGED)
        curve = curve + weight * (standing_kink - calibration.neutral_standing)
    return curve


def trunk_length_ratio(track: PoseTrack, standing: np.ndarray | None = None) -> np.ndarray:
    """Metric hip–shoulder distance over the lifter's standing value.

    ``standing`` marks the reference frames; without it the 90th percentile
    of the clip is the reference (the trunk is longest upright).
    """
    world = track.world.astype(np.float64)
    length = np.linalg.norm(midpoint(world, "shoulder") - midpoint(world, "hip"), axis=-1)
    if not np.isfinite(length).any():
        return np.full(len(track), np.nan)
    if standing is not None and np.isfinite(length[standing]).any():
        reference = np.nanmedian(length[standing])
    else:
        reference = np.nanpercentile(length, 90)
    return length / reference if reference > 0 else np.full(len(track), np.nan)
