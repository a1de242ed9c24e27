"""The true value of what each fault check measures, per rep, and what hides each landmark.

The analyser's checks grade measured quantities (the thigh angle at the bottom
of a squat, the trunk angle at the start of a pull, the lean behind vertical
at lockout, …). For a rendered clip the same quantities are known exactly
from the lifter's 3D skeleton, so a check's *value* can be scored against
the truth, not only its verdict. :func:`rep_measures` gives them per rep
under the names in :data:`MEASURES`; :func:`occlusion` says, per frame and
landmark, whether the camera could see it.

All angles are in the sagittal plane of the lifter (lab geometry, not the
image): a camera that is pitched or turned changes what the analyser reads,
never the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from formcheck.pose import landmarks as lm
from formcheck.synth import body as bm
from formcheck.synth import implements as imp
from formcheck.synth.camera import Camera
from formcheck.synth.motion import Motion
from formcheck.synth.timeline import PHASE_CODE

#: What every per-rep measure means (units in the name).
MEASURES = {
    "peak_lumbar_flexion_deg": "largest lumbar flexion beyond the neutral standing curve during the rep",
    "thigh_above_parallel_deg": "squat: hip→knee line at the deepest moment, degrees above horizontal (+ hip above knee)",
    "heel_rise_cm": "squat: largest rise of the back of the heel relative to the toe tip, vs standing (cm)",
    "lean_over_shin_deg": "squat: largest (trunk − shin) inclination in the deeper half, vs standing (deg)",
    "shin_forward_deg": "squat: largest shin inclination at the bottom, vs standing (deg)",
    "butt_wink_deg": "squat: largest lumbar flexion at the bottom minus at the start of the descent (deg)",
    "lumbar_arch_deg": "squat: largest lumbar extension below the start of the descent (deg)",
    "descent_s": "top-start lifts: time to cover 5–95 % of the way down (s)",
    "lowering_s": "deadlift: time to cover 5–95 % of the lowering, lockout to floor (s)",
    "start_trunk_deg": "deadlift: trunk inclination (hip centre → top of the shoulder) at lift-off (deg, + forward)",
    "start_thigh_above_parallel_deg": "deadlift: thigh angle above horizontal at lift-off (deg)",
    "start_hip_above_bar_plate_radii": "deadlift: hip joint height above the bar at lift-off, in plate radii",
    "early_trunk_rise_deg": "deadlift: largest rise of the trunk inclination over the first 40 % of the pull (deg)",
    "bar_forward_cm": "deadlift: largest forward travel of the bar from its lift-off position while held (cm)",
    "lockout_lean_back_deg": "hinges: largest lean of the trunk behind vertical at the top of the rep (deg, + back)",
    "lean_back_vs_standing_deg": "hinges: the same, relative to the lifter's standing trunk angle (deg)",
    "lockout_short_deg": "hinges: at the top, the more bent of the straightest hip and knee flexion (deg)",
    "knee_bend_deg": "hinges: largest knee flexion in the deeper half, vs standing (deg)",
    "hinge_deg": "hinges: largest shoulder–hip–knee angle beyond standing (the landmark hip angle, deg)",
    "hip_hidden_at_top": "barbell: share of the top frames in which the near plate hides both hip joints",
    "knee_hidden_at_start": "barbell: share of the frames within 0.2 s of lift-off in which it hides both knees",
    "in_frame_share": "share of this rep's frames in which all 33 landmarks are inside the image",
}

#: Occlusion codes of :func:`occlusion`.
SEEN, BEHIND_PLATE, OUT_OF_FRAME, BEHIND_PERSON = 0, 1, 2, 3
OCCLUSION_CODES = {SEEN: "seen", BEHIND_PLATE: "inside the near plate's disc", OUT_OF_FRAME: "outside the frame",
                   BEHIND_PERSON: "hidden by another person"}
#: The movement edges a duration is timed between (as the analyser's tempo).
_EDGE = 0.05
#: "Top of the rep": frames within this of the straightest hip (deg), as the analyser's lockout window.
_TOP_WINDOW_DEG = 15.0
_LIFT_OFF_WINDOW_S = 0.2


def inside_convex(polygon: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Whether each point (k, 2) lies inside a convex polygon (m, 2) of either orientation.

    >>> square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    >>> inside_convex(square, np.array([[0.5, 0.5], [1.5, 0.5]])).tolist()
    [True, False]
    """
    poly = np.asarray(polygon, float)
    pts = np.asarray(points, float)
    edge = np.roll(poly, -1, axis=0) - poly                       # (m, 2)
    rel = pts[:, None, :] - poly[None, :, :]                      # (k, m, 2)
    cross = edge[None, :, 0] * rel[..., 1] - edge[None, :, 1] * rel[..., 0]
    return np.all(cross >= 0, axis=1) | np.all(cross <= 0, axis=1)


def plate_outline(anchor: np.ndarray, camera: Camera, n_points: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Image outline (n, 2·n_points, 2) and camera depth (n,) of the bar's plate nearer the camera.

    The outline holds both faces of the plate (its convex hull is what hides the body).
    """
    phi = np.linspace(0, 2 * np.pi, n_points, endpoint=False)
    ring = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], -1) * imp.PLATE_RADIUS
    z_mid = imp.SHAFT_HALF + 0.035
    best_xy, best_depth = None, None
    for sign in (-1.0, 1.0):
        centre = np.array(anchor, float)
        centre[:, 2] = sign * z_mid
        _, depth = camera.project(centre)
        faces = [camera.project(centre[:, None, :] + ring[None] + [0, 0, dz])[0] for dz in (-0.028, 0.028)]
        xy = np.concatenate(faces, axis=1)
        if best_depth is None:
            best_xy, best_depth = xy, depth
        else:
            nearer = depth < best_depth
            best_xy = np.where(nearer[:, None, None], xy, best_xy)
            best_depth = np.where(nearer, depth, best_depth)
    return best_xy, best_depth


def occlusion(motion: Motion, camera: Camera, xy: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Per frame and landmark: :data:`SEEN`, :data:`BEHIND_PLATE` or :data:`OUT_OF_FRAME` (n, 33) int8.

    ``xy`` and ``depth`` are the true landmarks' pixels and camera depths. A
    landmark is behind the plate when it lies inside the near plate's outline
    and further from the camera than the plate. (Rendered bystanders stay
    behind or beside the lifter, so :data:`BEHIND_PERSON` is never set here.)
    """
    codes = np.zeros(xy.shape[:2], np.int8)
    w, h = camera.image_size
    with np.errstate(invalid="ignore"):
        outside = ~((xy[..., 0] >= 0) & (xy[..., 0] <= w - 1) & (xy[..., 1] >= 0) & (xy[..., 1] <= h - 1))
    if motion.implement == "barbell":
        held = np.isfinite(motion.implement_anchor[:, 0])
        outline, plate_depth = plate_outline(np.nan_to_num(motion.implement_anchor), camera)
        for i in np.flatnonzero(held):
            hull = cv2.convexHull(outline[i].astype(np.float32)).reshape(-1, 2)
            hidden = inside_convex(hull, xy[i]) & (depth[i] > plate_depth[i])
            codes[i, hidden] = BEHIND_PLATE
    codes[outside] = OUT_OF_FRAME
    return codes


def _movement_time(signal: np.ndarray, t: np.ndarray, a: int, b: int) -> float:
    """Seconds ``signal`` takes to cover 5–95 % of its change between frames a and b."""
    d = np.asarray(signal[a : b + 1], float)
    if len(d) < 3 or abs(d[-1] - d[0]) < 1e-9:
        return float("nan")
    u = (d - d[0]) / (d[-1] - d[0])
    begin = np.flatnonzero(u <= _EDGE)
    end = np.flatnonzero(u >= 1.0 - _EDGE)
    if len(begin) == 0 or len(end) == 0:
        return float("nan")
    first_end = int(end[0])
    last_begin = int(begin[begin <= first_end][-1])
    return float(t[a + first_end] - t[a + last_begin])


def _above_horizontal(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Angle of the lower→upper line above horizontal (deg, + upper end higher), sagittal plane."""
    d = upper - lower
    return np.degrees(np.arctan2(d[..., 1], np.abs(d[..., 0])))


def _landmark_hip_angle(skel: bm.Skeleton) -> np.ndarray:
    """Shoulder(top)–hip–knee angle as flexion (0 straight), 3D midpoints."""
    sh, hip, knee = skel.points["shoulder_top_centre"], skel.points["hip_centre"], skel.midpoint("knee")
    a, b = sh - hip, knee - hip
    cos = np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


@dataclass(frozen=True)
class _Lift:
    """Per-frame true quantities of one clip (lab geometry), computed once for every rep."""

    motion: Motion
    pose: dict                 # the joint angles used (deg), per frame
    trunk: np.ndarray          # hip centre → top of the shoulder vs vertical (deg, + forward)
    shin: np.ndarray           # ankle → knee vs vertical (deg, + knee ahead)
    thigh: np.ndarray          # knee → hip above horizontal (deg, + hip above knee)
    heel_lift: np.ndarray      # back of the heel above the toe tip (m)
    hip_height: np.ndarray     # hip joint centre above the floor (m)
    landmark_hip: np.ndarray   # shoulder–hip–knee flexion (deg)
    hips_hidden: np.ndarray    # both hips behind the near plate
    knees_hidden: np.ndarray   # both knees behind the near plate
    all_in: np.ndarray         # every landmark inside the frame

    @classmethod
    def of(cls, motion: Motion, camera: Camera, codes: np.ndarray | None) -> "_Lift":
        skel = motion.skeleton()
        if codes is None:
            xy, depth = camera.project(bm.blazepose_landmarks(skel))
            codes = occlusion(motion, camera, xy, depth)
        knee, ankle = skel.midpoint("knee"), skel.midpoint("ankle")
        behind = codes == BEHIND_PLATE
        return cls(
            motion=motion, pose=skel.pose, trunk=bm.trunk_inclination_deg(skel), shin=bm.segment_inclination_deg(ankle, knee),
            thigh=_above_horizontal(skel.points["hip_centre"], knee),
            heel_lift=skel.midpoint("foot_heel")[:, 1] - skel.midpoint("foot_toe_tip")[:, 1],
            hip_height=skel.points["hip_centre"][:, 1], landmark_hip=_landmark_hip_angle(skel),
            hips_hidden=behind[:, lm.LEFT_HIP] & behind[:, lm.RIGHT_HIP],
            knees_hidden=behind[:, lm.LEFT_KNEE] & behind[:, lm.RIGHT_KNEE],
            all_in=np.all(codes != OUT_OF_FRAME, axis=1),
        )


#: The clip starts in quiet standing: frame 0 is the lifter's standing reference.
_STAND = 0


def _in_phases(lift: _Lift, frames: np.ndarray, *names: str) -> np.ndarray:
    return frames[np.isin(lift.motion.phase[frames], [PHASE_CODE[k] for k in names])]


def _deadlift(lift: _Lift, rep, a: int, b: int) -> dict[str, float]:
    """From the floor: the start position, the early pull, the lowering and the bar's travel."""
    motion, t, pose = lift.motion, lift.motion.time_s, lift.pose
    lock = np.flatnonzero((motion.phase == PHASE_CODE["lockout"]) & (t >= rep.start_s - 1e-9) & (t <= rep.end_s + 1e-9))
    lock_start = int(lock[0]) if len(lock) else int(round(rep.lockout_s * motion.fps))
    lock_end = int(lock[-1]) if len(lock) else lock_start
    pull = np.arange(a, max(lock_start, a + 2))
    early = pull[: max(2, int(round(0.4 * len(pull))))]
    frames = np.arange(a, b + 1)
    held = frames[motion.implement_attached[frames]]
    anchor = motion.implement_anchor
    out = {
        "start_trunk_deg": float(lift.trunk[a]),
        "start_thigh_above_parallel_deg": float(lift.thigh[a]),
        "start_hip_above_bar_plate_radii": float((lift.hip_height[a] - anchor[a, 1]) / imp.PLATE_RADIUS),
        "early_trunk_rise_deg": float(np.max(lift.trunk[early]) - lift.trunk[a]),
        "lowering_s": _movement_time(pose["hip_flexion"], t, lock_end, b),
    }
    if len(held):
        out["bar_forward_cm"] = float(100.0 * np.max(anchor[held, 0] - anchor[held[0], 0]))
    return out


def _squat(lift: _Lift, frames: np.ndarray) -> dict[str, float]:
    """At the bottom: depth, heels, lean over the shins, knees forward; the lower back against the descent's start."""
    motion, lumbar, s = lift.motion, lift.pose["lumbar_flexion"], _STAND
    drop = lift.hip_height[s] - lift.hip_height[frames]
    deep = frames[drop >= 0.5 * np.max(drop)]
    deepest = int(frames[np.argmin(lift.hip_height[frames])])
    bottom = frames[motion.phase[frames] == PHASE_CODE["bottom"]]
    bottom = bottom if len(bottom) else np.array([deepest])
    descent = frames[motion.phase[frames] == PHASE_CODE["descent"]]
    start_lumbar = float(lumbar[descent[0]]) if len(descent) else float(lumbar[frames[0]])
    moving = _in_phases(lift, frames, "descent", "bottom", "ascent")
    return {
        "thigh_above_parallel_deg": float(lift.thigh[deepest]),
        "heel_rise_cm": float(100.0 * (np.max(lift.heel_lift[frames]) - lift.heel_lift[s])),
        "lean_over_shin_deg": float(np.max((lift.trunk - lift.shin)[deep]) - (lift.trunk[s] - lift.shin[s])),
        "shin_forward_deg": float(np.max(lift.shin[bottom]) - lift.shin[s]),
        "butt_wink_deg": float(np.max(lumbar[bottom]) - start_lumbar),
        "lumbar_arch_deg": float(max(0.0, np.max(start_lumbar - lumbar[moving]))) if len(moving) else float("nan"),
    }


def _hinge(lift: _Lift, frames: np.ndarray) -> dict[str, float]:
    """Hinges and the deadlift: the top of the rep (lean back, soft lockout) and the depth of the hinge."""
    pose, s = lift.pose, _STAND
    hip_flex = pose["hip_flexion"]
    top = _in_phases(lift, frames, "ascent", "lockout", "descent")
    top = top[hip_flex[top] <= np.min(hip_flex[top]) + _TOP_WINDOW_DEG] if len(top) else top
    out = {}
    if len(top):
        out.update(lockout_lean_back_deg=float(np.max(-lift.trunk[top])),
                   lean_back_vs_standing_deg=float(np.max(lift.trunk[s] - lift.trunk[top])),
                   lockout_short_deg=float(max(np.min(hip_flex[top]), np.min(pose["knee_flexion"][top]))))
    hip = lift.landmark_hip
    half = frames[hip[frames] >= 0.5 * (np.max(hip[frames]) + np.min(hip[frames]))]
    out.update(knee_bend_deg=float(np.max(pose["knee_flexion"][half]) - pose["knee_flexion"][s]),
               hinge_deg=float(np.max(hip[frames]) - hip[s]))
    if lift.motion.implement == "barbell" and len(top):
        out["hip_hidden_at_top"] = float(np.mean(lift.hips_hidden[top]))
    return out


def rep_measures(motion: Motion, camera: Camera, codes: np.ndarray | None = None) -> list[dict[str, float]]:
    """Per rep, the true values of :data:`MEASURES` that apply to the exercise.

    Parameters
    ----------
    motion : Motion
    camera : Camera
    codes : ndarray (n, 33), optional
        :func:`occlusion` codes (computed when not given).

    Returns
    -------
    list of dict
        One ``{measure: value}`` per rep (floats, NaN where undefined).
    """
    lift = _Lift.of(motion, camera, codes)
    pose = lift.pose
    t, fps, n = motion.time_s, motion.fps, len(motion)
    out = []
    for rep in motion.reps:
        a = int(round(rep.start_s * fps))
        b = min(int(round(rep.end_s * fps)), n - 1)
        frames = np.arange(a, b + 1)
        m: dict[str, float] = {
            "peak_lumbar_flexion_deg": float(np.max(pose["lumbar_flexion"][frames])),
            "in_frame_share": float(np.mean(lift.all_in[frames])),
        }
        if motion.exercise == "deadlift":
            m.update(_deadlift(lift, rep, a, b))
        else:  # lifts that start at the top
            bottom = min(int(round(rep.bottom_s * fps)), n - 1)
            signal = lift.hip_height if motion.exercise == "squat" else pose["hip_flexion"]
            m["descent_s"] = _movement_time(signal, t, a, bottom)
        if motion.exercise == "squat":
            m.update(_squat(lift, frames))
        else:
            m.update(_hinge(lift, frames))
        if motion.implement == "barbell" and motion.exercise == "deadlift":
            near = frames[np.abs(t[frames] - rep.start_s) <= _LIFT_OFF_WINDOW_S]
            m["knee_hidden_at_start"] = float(np.mean(lift.knees_hidden[near])) if len(near) else float("nan")
        out.append({k: float(v) for k, v in m.items()})
    return out
