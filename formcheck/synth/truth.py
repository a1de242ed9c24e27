"""Ground truth of a synthetic clip, saved next to it.

``clip.mp4`` gets ``clip.truth.npz`` (all arrays, plus the same header as
JSON inside) and ``clip.truth.json`` (a human-readable summary: reps, faults,
camera, spec, and per rep the true values of what each check measures,
``check_truth``; :mod:`formcheck.synth.measures`). Landmarks follow the pose model's convention (see
:func:`formcheck.synth.body.blazepose_landmarks`); world landmarks are metres,
hip-centred, x right / y down / z away from the camera in the horizontal plane.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from formcheck.io.files import atomic_file, write_text_atomic
from formcheck.measure.bar import rep_bar_metrics
from formcheck.synth import body as bm
from formcheck.synth import implements as imp
from formcheck.synth.bystander import BystanderBody
from formcheck.synth.camera import Camera
from formcheck.synth.measures import occlusion, rep_measures
from formcheck.synth.motion import Motion
from formcheck.synth.timeline import PHASES

TRUTH_FORMAT_VERSION = 1
_ARRAYS = ("time_s", "landmarks_xy", "world", "trunk_edges", "lumbar_flexion_deg", "hip_flexion_deg",
           "knee_flexion_deg", "trunk_inclination_deg", "pelvis_tilt_deg", "phase", "implement_xy",
           "rep_start_s", "rep_bottom_s", "rep_lockout_s", "rep_end_s")
#: Arrays that truth files written before they existed lack (None when absent).
_OPTIONAL_ARRAYS = ("landmark_hidden", "bystander_xy")
#: Bar arrays added later: truth files written before them load with NaN.
_BAR_ARRAYS = ("plate_xy", "plate_radius_px", "bar_height_m", "bar_forward_m")
#: The near plate's front face, along the bar from its centre (m): a 20 kg plate
#: next to the collar, plus half its thickness (:mod:`formcheck.synth.implements`).
NEAR_PLATE_OFFSET_M = imp.SHAFT_HALF + 0.035 + 0.028
#: A rep's bar metrics are taken from this long before its pull starts (s).
BAR_SETUP_S = 0.5


@dataclass(frozen=True, eq=False)
class SynthTruth:
    """What really happened in a synthetic clip (``n`` frames, ``r`` reps).

    Attributes
    ----------
    time_s : (n,)
    landmarks_xy : (n, 33, 2)
        True image landmarks, pose-model convention (shoulder = top of the
        shoulder, ear 3 cm forward, hips/knees/ankles joint centres).
    world : (n, 33, 3)
        Metres, hip-centred, x right, y down, z away from the camera.
    trunk_edges : (n, TRUNK_STATIONS, 2, 2)
        Silhouette edges along the hip→shoulder landmark axis (as in PoseTrack).
    lumbar_flexion_deg : (n,)
        + flexion relative to the lifter's neutral standing curve.
    hip_flexion_deg : (n,)
        Thigh vs pelvis, 0 standing, + flexed.
    knee_flexion_deg : (n,)
        0 straight.
    trunk_inclination_deg : (n,)
        Hip-joint-centre → shoulder-landmark line vs vertical in the sagittal
        plane, + forward (toward where the lifter faces).
    pelvis_tilt_deg : (n,)
        + anterior, relative to standing.
    phase : (n,) int8
        Index into ``PHASES`` (setup, descent, bottom, ascent, lockout).
    implement_xy : (n, 2)
        Pixel position of the bar axis / kettlebell handle (NaN without one).
    rep_start_s, rep_bottom_s, rep_lockout_s, rep_end_s : (r,)
        See :class:`formcheck.synth.motion.Rep`.
    plate_xy : (n, 2)
        Pixel centre of the barbell's near plate (its face toward the camera),
        where the plate tracker should find it; NaN without plates.
    plate_radius_px : (n,)
        That face's radius in pixels.
    bar_height_m, bar_forward_m : (n,)
        The bar's height above the floor and its position toward where the
        lifter faces (m, lab frame); NaN without a bar. The summary's per-rep
        ``mean_concentric_velocity_m_s``, ``peak_concentric_velocity_m_s`` and
        ``bar_drift_cm`` come from them with the analysis's own definitions
        (:func:`formcheck.measure.bar.rep_bar_metrics`).
    rep_faults : tuple of tuple of str
        Fault codes each rep shows.
    exercise : str
    camera_yaw_deg : float
    person_height_px : float
        Standing height in the image (top of the head to the soles), first frame.
    fps : float
    frame_size : tuple of int
    severities : dict
        Requested fault severities.
    meta : dict
        Spec and camera, JSON-serialisable.
    landmark_hidden : (n, 33) int8 or None
        Whether the camera could see each landmark: codes of
        :data:`formcheck.synth.measures.OCCLUSION_CODES` (0 seen, 1 inside the
        near plate's disc, 2 outside the frame).
    bystander_xy : (n, 33, 2) or None
        Image landmarks of the second person in the scene (None without one).
    rep_measures : tuple of dict
        Per rep, the true values of what the fault checks measure
        (:data:`formcheck.synth.measures.MEASURES`); ``check_truth`` in the JSON.
    """

    time_s: np.ndarray
    landmarks_xy: np.ndarray
    world: np.ndarray
    trunk_edges: np.ndarray
    lumbar_flexion_deg: np.ndarray
    hip_flexion_deg: np.ndarray
    knee_flexion_deg: np.ndarray
    trunk_inclination_deg: np.ndarray
    pelvis_tilt_deg: np.ndarray
    phase: np.ndarray
    implement_xy: np.ndarray
    rep_start_s: np.ndarray
    rep_bottom_s: np.ndarray
    rep_lockout_s: np.ndarray
    rep_end_s: np.ndarray
    rep_faults: tuple[tuple[str, ...], ...]
    exercise: str
    camera_yaw_deg: float
    person_height_px: float
    fps: float
    frame_size: tuple[int, int]
    severities: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    phases: tuple[str, ...] = PHASES
    landmark_hidden: np.ndarray | None = None
    bystander_xy: np.ndarray | None = None
    rep_measures: tuple[dict[str, float], ...] = ()
    plate_xy: np.ndarray | None = None
    plate_radius_px: np.ndarray | None = None
    bar_height_m: np.ndarray | None = None
    bar_forward_m: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.time_s)
        for name in _BAR_ARRAYS:
            if getattr(self, name) is None:
                shape = (n, 2) if name == "plate_xy" else (n,)
                object.__setattr__(self, name, np.full(shape, np.nan, np.float32))

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def phase_names(self) -> list[str]:
        return [self.phases[int(p)] for p in self.phase]

    @property
    def rep_count(self) -> int:
        return len(self.rep_start_s)

    # ------------------------------------------------------------ persistence
    def _header(self) -> dict[str, Any]:
        return {
            "format": "formcheck.SynthTruth",
            "version": TRUTH_FORMAT_VERSION,
            "exercise": self.exercise,
            "fps": self.fps,
            "frame_size": list(self.frame_size),
            "camera_yaw_deg": self.camera_yaw_deg,
            "person_height_px": self.person_height_px,
            "phases": list(self.phases),
            "rep_faults": [list(f) for f in self.rep_faults],
            "severities": self.severities,
            "meta": self.meta,
            **({"rep_measures": [dict(m) for m in self.rep_measures]} if self.rep_measures else {}),
        }

    def summary(self) -> dict[str, Any]:
        """The human-readable JSON summary."""
        reps = []
        for i in range(self.rep_count):
            sel = (self.time_s >= self.rep_start_s[i] - 1e-9) & (self.time_s <= self.rep_end_s[i] + 1e-9)
            if self.rep_start_s[i] == self.rep_bottom_s[i]:  # floor start: include the pull's start
                sel |= np.isclose(self.time_s, self.rep_start_s[i])
            reps.append({
                "index": i,
                "start_s": round(float(self.rep_start_s[i]), 4),
                "bottom_s": round(float(self.rep_bottom_s[i]), 4),
                "lockout_s": round(float(self.rep_lockout_s[i]), 4),
                "end_s": round(float(self.rep_end_s[i]), 4),
                "faults": list(self.rep_faults[i]),
                "max_lumbar_flexion_deg": round(float(np.max(self.lumbar_flexion_deg[sel])), 2),
                "min_lumbar_flexion_deg": round(float(np.min(self.lumbar_flexion_deg[sel])), 2),
                "max_trunk_inclination_deg": round(float(np.max(self.trunk_inclination_deg[sel])), 2),
                "max_hip_flexion_deg": round(float(np.max(self.hip_flexion_deg[sel])), 2),
                "max_knee_flexion_deg": round(float(np.max(self.knee_flexion_deg[sel])), 2),
                **self.rep_bar_metrics(i),
            })
            if i < len(self.rep_measures):
                reps[-1]["check_truth"] = {k: (round(v, 3) if np.isfinite(v) else None)
                                           for k, v in self.rep_measures[i].items()}
        head = self._header()
        head.update(n_frames=len(self), duration_s=round(float(self.time_s[-1]), 4) if len(self) else 0.0,
                    rep_count=self.rep_count, reps=reps,
                    lumbar_flexion_convention="+ flexion relative to the neutral standing curve",
                    trunk_inclination_convention="hip joint centre to shoulder landmark vs vertical, + forward")
        return head

    def rep_bar_metrics(self, i: int) -> dict[str, float]:
        """Rep ``i``'s bar speed and drift (rounded; empty without a bar), as the analysis defines them."""
        if not np.isfinite(self.bar_height_m).any():
            return {}
        # From a little before the pull (the bar resting on the floor), as the analysis's reps include their set-up.
        before = max(self.rep_start_s[i] - BAR_SETUP_S, self.rep_end_s[i - 1] if i else -np.inf)
        frames = np.flatnonzero((self.time_s >= before - 1e-9) & (self.time_s <= self.rep_end_s[i] + 1e-9))
        if len(frames) < 4:
            return {}
        m = rep_bar_metrics(self.time_s, self.bar_height_m, self.bar_forward_m, int(frames[0]), int(frames[-1]))
        keys = ("mean_concentric_velocity_m_s", "peak_concentric_velocity_m_s", "bar_drift_cm")
        return {k: (round(float(m[k]), 4) if np.isfinite(m[k]) else None) for k in keys}

    def save(self, clip_path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<clip>.truth.npz`` and ``<clip>.truth.json`` beside ``clip_path``, atomically."""
        npz_path, json_path = truth_paths(clip_path)
        arrays = {name: getattr(self, name) for name in _ARRAYS + _BAR_ARRAYS}
        arrays.update({name: getattr(self, name) for name in _OPTIONAL_ARRAYS if getattr(self, name) is not None})
        with atomic_file(npz_path) as fh:
            np.savez_compressed(fh, header=np.array(json.dumps(self._header())), **arrays)
        write_text_atomic(json_path, json.dumps(self.summary(), indent=2))
        return npz_path, json_path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SynthTruth":
        """Read a truth file (the ``.truth.npz``, or the clip path next to it)."""
        path = Path(path)
        if not path.name.endswith(".truth.npz"):
            path = truth_paths(path)[0]
        with np.load(path, allow_pickle=False) as data:
            head = json.loads(str(data["header"]))
            arrays = {name: data[name] for name in _ARRAYS}
            arrays.update({name: data[name] for name in (*_OPTIONAL_ARRAYS, *_BAR_ARRAYS) if name in data.files})
        if head.get("format") != "formcheck.SynthTruth":
            raise ValueError(f"{path}: not a formcheck synthetic truth file")
        measures = tuple({k: float("nan") if v is None else float(v) for k, v in m.items()}
                         for m in head.get("rep_measures", ()))
        return cls(rep_faults=tuple(tuple(f) for f in head["rep_faults"]), exercise=head["exercise"],
                   camera_yaw_deg=head["camera_yaw_deg"], person_height_px=head["person_height_px"],
                   fps=head["fps"], frame_size=tuple(head["frame_size"]), severities=head["severities"],
                   meta=head["meta"], phases=tuple(head["phases"]), rep_measures=measures, **arrays)


def truth_paths(clip_path: str | os.PathLike) -> tuple[Path, Path]:
    """``clip.mp4`` → (``clip.truth.npz``, ``clip.truth.json``)."""
    p = Path(clip_path)
    stem = p.with_suffix("") if p.suffix else p
    return stem.with_name(stem.name + ".truth.npz"), stem.with_name(stem.name + ".truth.json")


# ---------------------------------------------------------------- building truth
def project_landmarks(skel: bm.Skeleton, camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels (n, 33, 2), camera depth (n, 33) and world landmarks (n, 33, 3) of a skeleton."""
    lab = bm.blazepose_landmarks(skel)
    xy, depth = camera.project(lab)
    world = (lab - skel.points["hip_centre"][:, None, :]) @ camera.horizontal_axes().T
    return xy, depth, world


def person_height_px(skel: bm.Skeleton, camera: Camera, frame: int = 0) -> float:
    """Height of the lifter in the image at ``frame``: top of the head to the floor under the feet."""
    head_top = skel.points["C1"][frame].copy()
    head_top[1] = bm.body_top_y(skel)[frame]
    floor = skel.points["hip_centre"][frame].copy()
    floor[1] = 0.0
    (top_xy, floor_xy), _ = camera.project(np.stack([head_top, floor]))
    return float(abs(floor_xy[1] - top_xy[1]))


def build_truth(motion: Motion, camera: Camera, trunk_edges: np.ndarray, meta: dict | None = None,
                bystander: BystanderBody | None = None) -> SynthTruth:
    """Assemble :class:`SynthTruth` for ``motion`` seen by ``camera``.

    ``trunk_edges`` (n, TRUNK_STATIONS, 2, 2) come from the silhouette the
    caller rendered (see :func:`formcheck.pose.silhouette.trunk_edges_from_mask`);
    ``bystander`` is the second person in the scene, if any.
    """
    skel = motion.skeleton()
    xy, depth, world = project_landmarks(skel, camera)
    hidden = occlusion(motion, camera, xy, depth)
    other_xy = None if bystander is None else camera.project(bystander.landmarks)[0].astype(np.float32)
    anchor_xy, _ = camera.project(np.nan_to_num(motion.implement_anchor))
    anchor_xy[~np.isfinite(motion.implement_anchor[:, 0])] = np.nan
    plate_xy, plate_r, bar_height, bar_forward = bar_truth(motion, camera)
    pose = skel.pose
    reps = motion.reps
    return SynthTruth(
        time_s=motion.time_s.astype(np.float64),
        landmarks_xy=xy.astype(np.float32),
        world=world.astype(np.float32),
        trunk_edges=np.asarray(trunk_edges, np.float32),
        lumbar_flexion_deg=pose["lumbar_flexion"].astype(np.float32),
        hip_flexion_deg=pose["hip_flexion"].astype(np.float32),
        knee_flexion_deg=pose["knee_flexion"].astype(np.float32),
        trunk_inclination_deg=bm.trunk_inclination_deg(skel).astype(np.float32),
        pelvis_tilt_deg=pose["pelvis_tilt"].astype(np.float32),
        phase=motion.phase.astype(np.int8),
        implement_xy=anchor_xy.astype(np.float32),
        rep_start_s=np.array([r.start_s for r in reps]),
        rep_bottom_s=np.array([r.bottom_s for r in reps]),
        rep_lockout_s=np.array([r.lockout_s for r in reps]),
        rep_end_s=np.array([r.end_s for r in reps]),
        rep_faults=tuple(r.faults for r in reps),
        exercise=motion.exercise,
        camera_yaw_deg=float(camera.yaw_deg),
        person_height_px=person_height_px(skel, camera),
        fps=float(motion.fps),
        frame_size=tuple(int(v) for v in camera.image_size),
        severities=dict(motion.severities),
        meta=dict(meta or {}),
        landmark_hidden=hidden,
        bystander_xy=other_xy,
        rep_measures=tuple(rep_measures(motion, camera, hidden)),
        plate_xy=plate_xy.astype(np.float32),
        plate_radius_px=plate_r.astype(np.float32),
        bar_height_m=bar_height.astype(np.float32),
        bar_forward_m=bar_forward.astype(np.float32),
    )


def bar_truth(motion: Motion, camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The near plate's pixel centre (n, 2) and radius (n,), and the bar's height and
    forward position (m) (n,) each; NaN where the clip has no barbell (plates or bar).

    The bar's centre is ``implement_anchor``; the near plate is on the bar's axis
    ``NEAR_PLATE_OFFSET_M`` toward the camera (lab Z, the side whose face is nearer).
    """
    n = len(motion)
    nan2, nan1 = np.full((n, 2), np.nan), np.full(n, np.nan)
    if motion.implement not in ("barbell", "bar"):
        return nan2, nan1, nan1.copy(), nan1.copy()
    anchor = np.asarray(motion.implement_anchor, np.float64)
    height, forward = anchor[:, 1].copy(), anchor[:, 0].copy()
    if motion.implement != "barbell":
        return nan2, nan1, height, forward
    faces = []
    for side in (-1.0, 1.0):
        centre = anchor.copy()
        centre[:, 2] = side * NEAR_PLATE_OFFSET_M
        xy, depth = camera.project(centre)
        faces.append((float(np.nanmedian(depth)), xy, depth))
    _, xy, depth = min(faces, key=lambda face: face[0])
    return xy, imp.PLATE_RADIUS * camera.focal_px / depth, height, forward
