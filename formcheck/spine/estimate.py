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

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from formcheck.faults.core import Fault, RepContext, Threshold, hold_frames, sustained_max
from formcheck.pose.filters import nan_median_filter, odd_window, smooth_track
from formcheck.measure.kinematics import Kinematics, compute_kinematics, midpoint
from formcheck.spine.pelvis import silhouette_hip
from formcheck.reps.counter import Rep
from formcheck.pose.track import PoseTrack

# ---------------------------------------------------------------- parameters
#: Part of the hip→shoulder line whose back outline is used (fractions).
TRIM = (0.1, 0.9)
#: Where the lower and upper line fits meet (fraction of the hip→shoulder line).
SPLIT = 0.5
#: Edge points are stored in float32: a station at exactly ``TRIM`` or
#: ``SPLIT`` may land this far off (trunk lengths).
STATION_TOLERANCE = 1e-4
#: Version of the placed hip stored in ``PoseTrack.hip_from_outline`` (bump
#: when :mod:`formcheck.spine.pelvis` or its inputs change, so old stores are redone).
PLACED_HIP_VERSION = 2
#: Share of the model hip's usable frames the placed hip's back profile must
#: keep, or the clip falls back to the model's hip (:data:`MODEL_HIP`).
MIN_PLACED_USABLE = 0.8
#: Fewest valid stations each half needs (of 9 with 21 stations).
MIN_POINTS_PER_HALF = 6
#: Lean by which a standing lordosis has flattened into the hinge (degrees).
FLATTENED_LEAN_DEG = 25.0
#: How much of the lifter's own standing kink (vs the population's) sets his
#: neutral: all of it upright, ``LIFTER_WEIGHT_HINGED`` of it once hinged.
LIFTER_WEIGHT_HINGED = 0.25
#: Standing frames: trunk lean and landmark hip angle below these (degrees).
STANDING_LEAN_DEG = (-5.0, 15.0)
STANDING_HIP_FLEXION_DEG = 25.0
#: Fewest standing frames that make a personal reference.
MIN_STANDING_FRAMES = 5
#: Standing still: trunk lean changing slower than this (degrees per second).
STILL_DEG_PER_S = 40.0
#: Outlier limits for edge points, in trunk lengths.
MAX_FIT_RESIDUAL = 0.03
MAX_TIME_JUMP = 0.05
#: Running-median spans over time (seconds), so a 60 fps phone video is
#: smoothed over the same time as a 30 fps one (5 and 9 frames at 30 fps).
KINK_MEDIAN_S = 5 / 30
TIME_JUMP_MEDIAN_S = 0.3
#: A back point must lie this far out from the hip–shoulder line (trunk lengths).
DEPTH_RANGE = (0.02, 0.6)
#: Trunk lean from which the back counts as loaded in a hinge (degrees).
LOADED_LEAN_DEG = 25.0
#: Hinge ratio: an assessable frame within this trunk lean (degrees) of the
#: rep's most upright frame gives the upright lumbar level.
UPRIGHT_MATCH_DEG = 15.0
#: A flexion peak must be held this long to count (seconds).
HOLD_S = 0.25
#: Frames below this confidence are not assessed.
MIN_CONFIDENCE = 0.5
#: Share of pose frames that need a usable back outline.
MIN_USABLE_FRACTION = 0.5
#: A load at the hips (plates or a kettlebell held at lockout): the front of the
#: silhouette next to the hip (stations ``LOAD_STATIONS``) sticks out this much
#: further (trunk lengths) than the belly (``BELLY_STATIONS``) while upright.
#: The mask swallows the load and the pose model drags the hip (and shoulder)
#: landmarks towards it, so the back's outline is measured in the wrong place:
#: such frames are not assessed and never make the standing reference.
LOAD_BULGE = 0.12
#: ... or the back's edge next to the hip lies this far (trunk lengths) inside
#: its line at the lower back: an upright back always stands out at the
#: buttock, so a plate in front of the hips has cut into the silhouette
#: (rendered lifters filmed 15° off side-on: lockout frames read ≈ 13° RMS wrong).
MIN_BUTTOCK_BULGE = -0.03
LOAD_STATIONS = (0.0, 0.1)
BELLY_STATIONS = (0.25, 0.5)
#: Sideness (degrees, 90 = pure side) from which the view gives full confidence.
FULL_SIDENESS_DEG = 70.0

#: Shortest hip→shoulder distance (pixels, median over the clip) at which the
#: back's outline is judged: rendered lifters 150 px tall (≈ 50 px trunk) read
#: 7° low with confident misses; the smallest real clip here has ≈ 63 px.
MIN_TRUNK_PX = 55.0

#: Default thresholds of the spine faults, as change from the lifter's neutral.
SPINE_THRESHOLDS: dict[str, Threshold] = {
    "lumbar_flexion": Threshold(caution=25.0, fault=35.0),
    "lockout_hyperextension": Threshold(caution=12.0, fault=20.0),
    "butt_wink": Threshold(caution=15.0, fault=25.0),
    "lumbar_hyperextension": Threshold(caution=20.0, fault=30.0),
}


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

    def __len__(self) -> int:
        return len(self.time_s)


# ---------------------------------------------------------------- estimation
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

    standing = _standing_frames(kin, reps) & np.isfinite(kink) & ~loaded_hips
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
        reason = (
            f"the back's shape needs a side view (this video is {kin.view}); "
            "film from the side at hip height"
        )
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
        calibration=calibration,
    )


def _trunk_px(track: PoseTrack) -> float:
    """Median hip-midpoint → shoulder-midpoint distance in pixels."""
    xy = track.xy.astype(np.float64)
    length = np.linalg.norm(midpoint(xy, "shoulder") - midpoint(xy, "hip"), axis=-1)
    return float(np.nanmedian(length)) if np.isfinite(length).any() else 0.0


def placed_hip(
    track: PoseTrack, kin: Kinematics, dorsal: int, loaded_hips: np.ndarray, first_frame: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The hip placed from the back's outline (:func:`formcheck.spine.pelvis.silhouette_hip`).

    Taken from ``track.hip_from_outline`` when :func:`with_placed_hip` stored
    it for this version of the method; computed otherwise. It depends on the
    track alone (not on the reps or the exercise), so both give the same.
    When computed, only frames from ``first_frame`` on are placed (the live
    analyser's rep, not its whole window); earlier frames keep the model's hip.

    Returns
    -------
    hip : ndarray (n, 2)
    placed : ndarray of bool (n,)
        Frames whose hip came from the outline.
    """
    if track.meta.get("hip_from_outline") == PLACED_HIP_VERSION:
        stored = np.asarray(track.hip_from_outline, np.float64)
        placed = np.all(np.isfinite(stored), axis=1)
        return np.where(placed[:, None], stored, midpoint(track.xy.astype(np.float64), "hip")), placed
    lean = np.asarray(kin["trunk_inclination"], np.float64)
    standing = _standing_frames(kin, None) & ~loaded_hips
    hip = midpoint(track.xy.astype(np.float64), "hip")
    placed = np.zeros(len(track), bool)
    hip[first_frame:], placed[first_frame:] = silhouette_hip(
        track[first_frame:], lean[first_frame:], dorsal, standing[first_frame:]
    )
    return hip, placed


def with_placed_hip(track: PoseTrack) -> PoseTrack:
    """The track with its hip placed from the outline stored in ``hip_from_outline``.

    The pipeline calls this once after the pose model, so that the saved
    ``landmarks.npz`` carries the registration (≈ 0.35 ms per frame) and a
    re-analysis does not redo it. The hip is placed on the offline-smoothed
    track, as :func:`formcheck.analysis.offline.analyze_track` sees it; NaN where it
    could not be placed (no side view, no outline).
    """
    hip = np.full((len(track), 2), np.nan)
    if track.detected.any():
        smoothed = smooth_track(track)
        kin = compute_kinematics(smoothed)
        side, _ = dorsal_side(smoothed, kin)
        if side is not None:
            placed_xy, placed = placed_hip(smoothed, kin, side, load_at_hips(smoothed, kin, side))
            hip[placed] = placed_xy[placed]
    return dataclasses.replace(
        track, hip_from_outline=hip.astype(np.float32), meta={**track.meta, "hip_from_outline": PLACED_HIP_VERSION}
    )


def load_at_hips(track: PoseTrack, kin: Kinematics, dorsal: int) -> np.ndarray:
    """Upright frames where something held in front of the hips widens the silhouette.

    At a deadlift's lockout the plates (or a kettlebell) sit against the
    thighs, side-on to the camera. The person mask swallows them and the pose
    model pulls the hip landmark towards the bar, which shifts the measured
    part of the back onto the buttock (on rendered lifters: ≈ 25° of false
    extension). The sign is the front edge next to the hip (stations
    ``LOAD_STATIONS``) standing out ``LOAD_BULGE`` trunk lengths beyond the
    belly (``BELLY_STATIONS``), or, filmed a little off side-on, the back's
    edge there lying ``MIN_BUTTOCK_BULGE`` inside the lower back with the
    hips straight and the hands at the hips (a plate cuts into the outline:
    standing, the back always stands out at the buttock).
    Only upright frames count, because in a hinge the thighs lie in front of
    the hip anyway.

    Parameters
    ----------
    track : PoseTrack
    kin : Kinematics
    dorsal : int
        The back's side of ``trunk_edges`` (:func:`dorsal_side`).

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    front, back = (_hip_bulge(track, side) for side in (1 - dorsal, dorsal))
    with np.errstate(invalid="ignore"):
        upright = np.asarray(kin["trunk_inclination"], np.float64) < LOADED_LEAN_DEG
        # The buttock's shape is known only with the hips straight (at the bottom
        # of an upright squat the back's edge there can lie inside the line), and
        # a plate can only be there with the hands at the hips (below the middle
        # of the trunk; not a bar on the back).
        hips_straight = np.asarray(kin["hip_flexion"], np.float64) < STANDING_HIP_FLEXION_DEG
        mid_trunk = 0.5 * (np.asarray(kin["hip_height"], np.float64) + np.asarray(kin["shoulder_height"], np.float64))
        hands_low = np.asarray(kin["wrist_height"], np.float64) < mid_trunk
        cut_in = hips_straight & hands_low & (back < MIN_BUTTOCK_BULGE)
        return upright & ((front > LOAD_BULGE) | cut_in)


def _hip_bulge(track: PoseTrack, side: int) -> np.ndarray:
    """How far one side's edge next to the hip (``LOAD_STATIONS``) stands out
    beyond the same side at the belly or lower back (``BELLY_STATIONS``), in trunk lengths."""
    _, depth, _ = edge_profile(track, side)
    u = station_fractions(depth.shape[1])
    near_hip, belly = _in_range(u, LOAD_STATIONS), _in_range(u, BELLY_STATIONS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without a mask
        return np.nanmedian(depth[:, near_hip], axis=1) - np.nanmedian(depth[:, belly], axis=1)


def dorsal_side(track: PoseTrack, kin: Kinematics) -> tuple[int | None, str]:
    """Which ``trunk_edges`` side is the back (0 or 1), or None with a reason.

    The back is away from where the lifter faces; in a hinge with the hands
    below the hips they hang on the front side, which must not contradict it.
    """
    xy = track.xy.astype(np.float64)
    hip, shoulder, wrist = (midpoint(xy, k) for k in ("hip", "shoulder", "wrist"))
    axis = shoulder - hip
    normal = np.stack([-axis[:, 1], axis[:, 0]], axis=-1)  # side 0 direction (unnormalised)
    hands = np.einsum("nd,nd->n", wrist - hip, normal) / np.maximum(np.sum(axis**2, axis=-1), 1e-9)
    # Hands hang in front only in a hinge with the hands low (not a back squat's bar).
    with np.errstate(invalid="ignore"):
        bent = (np.asarray(kin["trunk_inclination"]) > 30.0) & (kin["wrist_height"] < kin["hip_height"])
    hands_vote = np.sign(np.nanmedian(hands[bent])) if np.isfinite(hands[bent]).sum() >= 3 else 0.0
    hands_side = None if hands_vote == 0 else (1 if hands_vote > 0 else 0)  # back is opposite the hands
    if kin.facing != 0:
        # Facing image right: side 0 (clockwise normal of an upright trunk) points right = front.
        side = 1 if kin.facing > 0 else 0
        if hands_side is not None and hands_side != side:
            return None, "could not tell which side is the back (the hands and the face disagree)"
        return side, ""
    if hands_side is not None:
        return hands_side, ""
    return None, "could not tell which side is the back (the lifter's facing is unknown)"


def back_profile(
    track: PoseTrack, side: int, hip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Back outline in trunk coordinates, with outliers removed.

    ``hip`` (n, 2) replaces the model's hip midpoint as the line's lower end
    (e.g. :func:`formcheck.spine.pelvis.silhouette_hip`).

    Returns
    -------
    s, d : ndarray, shape (n, k)
        Position along the hip→shoulder line and distance out to the back, in
        trunk lengths (NaN where missing, trimmed or rejected).
    points : ndarray, shape (n, k, 2)
        The accepted points in image pixels.
    noise : ndarray, shape (n,)
        RMS distance of the accepted points from a smooth (cubic) outline, in
        trunk lengths: how ragged the edge is.
    """
    s, d, edge = edge_profile(track, side, hip)
    with np.errstate(invalid="ignore"):
        keep = _in_range(_positions(s, hip is not None), TRIM)
        bad = ~keep | ~np.isfinite(d) | (d < DEPTH_RANGE[0]) | (d > DEPTH_RANGE[1])
    d = np.where(bad, np.nan, d)
    d = _reject_time_jumps(d, track.time_s)
    d, noise = _reject_shape_outliers(np.where(np.isfinite(d), s, np.nan), d)
    s = np.where(np.isfinite(d), s, np.nan)
    points = np.where(np.isfinite(d)[..., None], edge, np.nan)
    return s, d, points, noise


def edge_profile(
    track: PoseTrack, side: int, hip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One side's ``trunk_edges`` in trunk coordinates.

    The line runs from the model's hip midpoint, or ``hip`` (n, 2) when
    given, to the shoulder midpoint.

    Returns
    -------
    s, d : ndarray, shape (n, k)
        Distance along the hip→shoulder line and out from it on that side,
        in trunk lengths (NaN where the edge is missing).
    edge : ndarray, shape (n, k, 2)
        The same points in image pixels.
    """
    xy = track.xy.astype(np.float64)
    shoulder = midpoint(xy, "shoulder")
    hip = midpoint(xy, "hip") if hip is None else np.asarray(hip, np.float64)
    axis = shoulder - hip
    length = np.linalg.norm(axis, axis=-1)
    edge = track.trunk_edges[:, :, side].astype(np.float64)
    rel = edge - hip[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        along = axis / length[:, None]
        # Side 0 lies along the clockwise normal (-ay, ax); side 1 opposite.
        outward = np.stack([-along[:, 1], along[:, 0]], axis=-1) * (1.0 if side == 0 else -1.0)
        s = np.einsum("nkd,nd->nk", rel, along) / length[:, None]
        d = np.einsum("nkd,nd->nk", rel, outward) / length[:, None]
    return s, d, edge


def station_fractions(stations: int) -> np.ndarray:
    """Fractions of the hip→shoulder line at which ``trunk_edges`` are sampled."""
    return np.linspace(0.0, 1.0, stations)


def kink_angle(s: np.ndarray, d: np.ndarray, placed_hip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Angle between lines fitted to the lower and upper halves of the back.

    Parameters
    ----------
    s, d : ndarray, shape (n, k)
        Back profile from :func:`back_profile` (NaN = no point).
    placed_hip : bool
        The profile was measured from a placed hip (:func:`back_profile`
        with ``hip``): trim and split by each point's ``s`` rather than by
        its station.

    Returns
    -------
    kink : ndarray, shape (n,)
        Degrees, + convex (rounded), − concave (arched); NaN when a half has
        fewer than ``MIN_POINTS_PER_HALF`` points.
    used : ndarray, shape (n,)
        Share of the trimmed stations that were usable.
    """
    valid = np.isfinite(s) & np.isfinite(d)
    position = _positions(s, placed_hip)
    with np.errstate(invalid="ignore"):
        trimmed = valid & _in_range(position, TRIM)
        slope_lo, n_lo = _line_slope(s, d, trimmed & _in_range(position, (-np.inf, SPLIT)))
        slope_hi, n_hi = _line_slope(s, d, trimmed & _in_range(position, (SPLIT, np.inf)))
    enough = (n_lo >= MIN_POINTS_PER_HALF) & (n_hi >= MIN_POINTS_PER_HALF)
    kink = np.where(enough, np.degrees(np.arctan(slope_lo) - np.arctan(slope_hi)), np.nan)
    # Stations in the trimmed range on the model's own line (17 of 21).
    expected = int(round((TRIM[1] - TRIM[0]) * (s.shape[1] - 1))) + 1
    used = np.minimum(trimmed.sum(axis=1) / expected, 1.0)
    return kink, used


def _positions(s: np.ndarray, placed_hip: bool) -> np.ndarray:
    """Where each station's point lies along the line, for trimming and splitting.

    From the model's hip, the station's own fraction (the line the pose stage
    sampled, before smoothing moved the landmarks); from a placed hip, the
    point's position ``s`` on the new line.
    """
    return s if placed_hip else np.broadcast_to(station_fractions(s.shape[-1]), s.shape)


def _in_range(s: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """``bounds[0] <= s <= bounds[1]``, with a tolerance for stations stored in float32."""
    return (s >= bounds[0] - STATION_TOLERANCE) & (s <= bounds[1] + STATION_TOLERANCE)


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


# ---------------------------------------------------------------- per rep
def rep_summary(spine: SpineEstimate, kin: Kinematics, rep: Rep) -> dict:
    """Per-rep numbers of the spine estimate.

    Returns
    -------
    dict
        ``peak_lumbar_flexion_deg``, ``peak_flexion_time_s``,
        ``peak_extension_deg``, ``hinge_ratio`` (share of the rep's change in
        trunk lean that came from the hips: 1 − Δlumbar / Δtrunk, 0–1),
        ``assessable`` and ``reason``.
    """
    return _rep_summary(spine, kin.signals, kin.time_s, rep)


def _rep_summary(spine: SpineEstimate, signals, time_s: np.ndarray, rep: Rep) -> dict:
    nan = float("nan")
    out = {
        "peak_lumbar_flexion_deg": nan,
        "peak_flexion_time_s": nan,
        "peak_extension_deg": nan,
        "hinge_ratio": nan,
        "assessable": False,
        "reason": spine.reason,
    }
    if spine.reason:
        return out
    window = np.arange(rep.start, min(rep.end, len(spine)))
    lean = np.asarray(signals["trunk_inclination"], np.float64)
    ok = window[spine.assessable[window]]
    hidden = spine.load_at_hips[window] if spine.load_at_hips is not None else np.zeros(len(window), bool)
    seen = window[np.isfinite(lean[window]) & ~hidden]
    if len(seen) == 0 or len(ok) < 0.6 * len(seen):
        out["reason"] = "the back's outline was unclear during most of this rep"
        return out
    deepest = seen[np.argmax(lean[seen])]
    near_deepest = ok[np.abs(ok - deepest) <= max(3, len(window) // 10)]
    if len(near_deepest) == 0:
        out["reason"] = "the back's outline was unclear at the bottom of this rep"
        return out
    flexion = spine.lumbar_flexion_deg
    loaded = ok[lean[ok] >= LOADED_LEAN_DEG]
    peak, at = sustained_max(flexion, loaded, _hold_frames(time_s))
    extension, _ = sustained_max(-flexion, ok, _hold_frames(time_s))
    upright = seen[np.argmin(lean[seen])]
    d_trunk = lean[deepest] - lean[upright]
    # Upright frames hidden by a load at the hips give no value; the estimate's
    # own reference (0 = the neutral upright) stands in when no nearly upright frame is left.
    upright_ok = ok[lean[ok] <= lean[upright] + UPRIGHT_MATCH_DEG]
    upright_level = _value_near(flexion, upright_ok, upright) if len(upright_ok) else 0.0
    d_lumbar = max(float(np.median(flexion[near_deepest])) - upright_level, 0.0)
    out.update(
        peak_lumbar_flexion_deg=peak,
        peak_flexion_time_s=float(time_s[at]) if at >= 0 else nan,
        peak_extension_deg=float(max(extension, 0.0)) if np.isfinite(extension) else nan,
        hinge_ratio=float(np.clip(1.0 - d_lumbar / d_trunk, 0.0, 1.0)) if d_trunk > 10 else nan,
        assessable=True,
        reason="",
    )
    return out


def _hold_frames(time_s: np.ndarray) -> int:
    """Frames a spine value must be held (``HOLD_S``, at least 2)."""
    return max(2, hold_frames(time_s, HOLD_S))


def _value_near(values: np.ndarray, frames: np.ndarray, target: int) -> float:
    """Value at the assessable frame nearest ``target``."""
    return float(values[frames[np.argmin(np.abs(frames - target))]])


# ---------------------------------------------------------------- fault checks
def _spine_ctx(ctx: RepContext) -> tuple[SpineEstimate | None, np.ndarray]:
    """The spine estimate and the rep's assessable frames (empty if none)."""
    spine = ctx.spine
    if spine is None or spine.reason:
        return None, np.zeros(0, int)
    window = np.arange(ctx.rep.start, min(ctx.rep.end, len(spine)))
    summary = _rep_summary(spine, ctx.signals, ctx.time_s, ctx.rep)
    if not summary["assessable"]:
        return None, np.zeros(0, int)
    return spine, window[spine.assessable[window]]


def _grade(ctx: RepContext, spine: SpineEstimate, code: str, value: float, frames: np.ndarray, cue: str, message: str,
           confidence: float | None = None):
    """make_fault with the span where the value is past caution and the spine's
    confidence over it (or ``confidence`` when the value does not come from the outline)."""
    if len(frames) == 0:
        return None
    if confidence is None:
        confidence = float(np.median(spine.confidence[frames]))
    quality = min(ctx.quality, confidence)
    ctx = dataclasses.replace(ctx, quality=quality)
    return ctx.make_fault(code, value, (int(frames.min()), int(frames.max()) + 1), cue=cue, message=message, unit="deg")


def _frames_in(ctx: RepContext, ok: np.ndarray, *phases: str) -> np.ndarray:
    keep = np.zeros(0, int)
    for name in phases:
        if name in ctx.rep.phases:
            a, b = ctx.rep.phases[name]
            keep = np.concatenate([keep, ok[(ok >= a) & (ok < b)]])
    return np.unique(keep)


def check_lumbar_flexion(ctx: RepContext) -> Fault | None:
    """Deadlift: the lower back rounds during the pull or the lowering.

    The value is the highest flexion beyond neutral held for ``HOLD_S`` while
    the trunk leans at least ``LOADED_LEAN_DEG``.
    """
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    lean = np.asarray(ctx.signals["trunk_inclination"], np.float64)
    frames = _frames_in(ctx, ok, "setup", "bottom", "ascent", "lockout", "descent")
    frames = frames[lean[frames] >= LOADED_LEAN_DEG]
    peak, at = sustained_max(spine.lumbar_flexion_deg, frames, _hold_frames(ctx.time_s))
    if at < 0:
        return None
    caution = ctx.thresholds["lumbar_flexion"].caution
    span = frames[spine.lumbar_flexion_deg[frames] >= min(caution, peak)]
    lowering_from = ctx.rep.phases.get("lockout", (ctx.rep.end, ctx.rep.end))[0]
    when = "while lowering the bar" if at >= lowering_from else "during the pull"
    return _grade(
        ctx, spine, "lumbar_flexion", peak, span,
        cue="Brace and keep your lower back flat as the bar leaves the floor.",
        message=f"the lower back rounded about {peak:.0f}° beyond neutral {when}",
    )


def check_lockout_hyperextension(ctx: RepContext) -> Fault | None:
    """Deadlift: leaning back and over-arching the lower back at lockout.

    With the hips and knees straight, a lean behind vertical comes mostly from
    arching the lower back, so the value is the lean behind vertical held for
    ``HOLD_S`` near the top of the rep (a lean back often falls outside the
    short ``lockout`` phase: the landmark hip angle cannot tell hip
    hyperextension from flexion). The outline's own extension is reported in
    the message but not graded: at lockout the bar and plates sit at the
    hips, and on rendered lifters that alone moved the kink by ≈ 10° from the
    walk-in standing reference.
    """
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    lean = np.asarray(ctx.signals["trunk_inclination"], np.float64)
    # The lean needs no outline, so frames where only the load at the hips hides it count too.
    hidden = np.flatnonzero(spine.load_at_hips) if spine.load_at_hips is not None else np.zeros(0, int)
    window = np.union1d(ok, hidden[(hidden >= ctx.rep.start) & (hidden < ctx.rep.end)])
    frames = _frames_in(ctx, window[np.isfinite(lean[window])], "ascent", "lockout", "descent")
    frames = frames[lean[frames] < 0]
    lean_back, _ = sustained_max(-lean, frames, _hold_frames(ctx.time_s))
    if not np.isfinite(lean_back):
        return None
    arch, _ = sustained_max(-spine.lumbar_flexion_deg, np.intersect1d(frames, ok), _hold_frames(ctx.time_s))
    arched = f" and the lower back arched about {arch:.0f}°" if np.isfinite(arch) and arch > 5 else ""
    return _grade(
        ctx, spine, "lockout_hyperextension", lean_back, frames,
        cue="Finish tall: squeeze your glutes and stop when you are straight, don't lean back.",
        message=f"at lockout you leaned back {lean_back:.0f}° behind vertical{arched}",
        confidence=float(np.median(spine.confidence[ok])) if len(ok) else 0.0,
    )


def _descent_start_level(ctx: RepContext, spine: SpineEstimate, ok: np.ndarray) -> float:
    """Median lumbar flexion over the first quarter (≥ 3 frames) of the descent: the
    same rep's own reference for squat checks (NaN without assessable descent frames)."""
    start = _frames_in(ctx, ok, "descent")
    if len(start) == 0:
        return float("nan")
    return float(np.median(spine.lumbar_flexion_deg[start[: max(3, len(start) // 4)]]))


def check_butt_wink(ctx: RepContext) -> Fault | None:
    """Squat: the lower back rounds at the bottom compared with the start of the descent."""
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    start_level = _descent_start_level(ctx, spine, ok)
    bottom = _frames_in(ctx, ok, "bottom")
    if not np.isfinite(start_level) or len(bottom) == 0:
        return None
    wink = float(np.max(spine.lumbar_flexion_deg[bottom]) - start_level)
    return _grade(
        ctx, spine, "butt_wink", wink, bottom,
        cue="Stop just above where your lower back starts to tuck under; brace before you go down.",
        message=f"at the bottom the lower back tucked under about {wink:.0f}° compared with the start",
    )


def check_lumbar_hyperextension(ctx: RepContext) -> Fault | None:
    """Squat: the lower back over-arches under load, compared with the start of the descent."""
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    start_level = _descent_start_level(ctx, spine, ok)
    frames = _frames_in(ctx, ok, "descent", "bottom", "ascent")
    if not np.isfinite(start_level) or len(frames) == 0:
        return None
    arch, _ = sustained_max(start_level - spine.lumbar_flexion_deg, frames, _hold_frames(ctx.time_s))
    if not np.isfinite(arch):
        return None
    span = frames[start_level - spine.lumbar_flexion_deg[frames] >= min(ctx.thresholds["lumbar_hyperextension"].caution, arch)]
    return _grade(
        ctx, spine, "lumbar_hyperextension", arch, span,
        cue="Ribs down, brace your belly: keep your lower back neutral, not arched.",
        message=f"the lower back arched about {arch:.0f}° more than at the start of the squat",
    )


# ---------------------------------------------------------------- helpers
def _standing_frames(kin: Kinematics, reps: list[Rep] | None) -> np.ndarray:
    """Frames where the lifter stands still and upright (the personal reference)."""
    lean = np.asarray(kin["trunk_inclination"], np.float64)
    hip = np.asarray(kin["hip_flexion"], np.float64)
    t = np.asarray(kin.time_s, np.float64)
    with np.errstate(invalid="ignore"):
        speed = np.abs(np.gradient(lean, t)) if len(t) > 1 else np.zeros(len(t))
        upright = (lean > STANDING_LEAN_DEG[0]) & (lean < STANDING_LEAN_DEG[1]) & (hip < STANDING_HIP_FLEXION_DEG)
        still = speed < STILL_DEG_PER_S
    standing = upright & still
    if reps:
        # Prefer the reps' own standing moments (lockout, squat set-up) and walk-ins.
        allowed = np.ones(len(lean), bool)
        for rep in reps:
            allowed[rep.start : rep.end] = False
            for name in ("lockout", "setup"):
                if name in rep.phases:
                    a, b = rep.phases[name]
                    allowed[a:b] = True
        if (standing & allowed).sum() >= MIN_STANDING_FRAMES:
            standing = standing & allowed
    return standing


def _line_slope(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope of y against x per row over the masked entries, and the count."""
    x0, y0 = np.where(mask, x, 0.0), np.where(mask, y, 0.0)
    n = mask.sum(axis=1).astype(np.float64)
    sx, sy = x0.sum(axis=1), y0.sum(axis=1)
    den = n * (x0 * x0).sum(axis=1) - sx * sx
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(np.abs(den) > 1e-12, (n * (x0 * y0).sum(axis=1) - sx * sy) / den, np.nan)
    return slope, n


def _reject_shape_outliers(s: np.ndarray, d: np.ndarray, rounds: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Drop points further than ``MAX_FIT_RESIDUAL`` from a cubic through each
    frame's profile (refitted after each round); also returns the RMS
    residual of the kept points (edge noise, trunk lengths; NaN if too few)."""
    d = d.copy()
    rms = np.full(len(d), np.nan)
    for _ in range(rounds):
        valid = np.isfinite(s) & np.isfinite(d)
        enough = valid.sum(axis=1) >= 8
        if not enough.any():
            break
        x = np.where(valid, s, 0.0)
        basis = np.stack([np.ones_like(x), x, x * x, x * x * x], axis=-1)  # (n, k, 4)
        weighted = basis * valid[..., None]
        ata = np.einsum("nki,nkj->nij", weighted, weighted)[enough] + 1e-9 * np.eye(4)
        atb = np.einsum("nki,nk->ni", weighted, np.where(valid, d, 0.0))[enough]
        coef = np.linalg.solve(ata, atb[..., None])[..., 0]
        resid = np.full(d.shape, np.nan)
        resid[enough] = np.abs(d[enough] - np.einsum("nki,ni->nk", basis[enough], coef))
        with np.errstate(invalid="ignore"):
            kept = resid <= MAX_FIT_RESIDUAL
            d[resid > MAX_FIT_RESIDUAL] = np.nan
            rms[enough] = np.sqrt(np.sum(np.where(kept, resid, 0.0) ** 2, axis=1) / np.maximum(kept.sum(axis=1), 1))[enough]
    return d, rms


def _reject_time_jumps(d: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Drop points that jump away from the same station's running median (≈ 0.3 s)."""
    if len(d) < 5:
        return d
    median = nan_median_filter(d, odd_window(time_s, TIME_JUMP_MEDIAN_S))  # every station at once
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(d - median) > MAX_TIME_JUMP, np.nan, d)
