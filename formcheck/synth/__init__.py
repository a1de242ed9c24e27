"""Synthetic lifters with exact ground truth: formcheck's own test-data factory.

A kinematic body (:mod:`.body`) follows generated lifts (:mod:`.motion`,
driving one builder per exercise in :mod:`.lifts`; squats shaped after a real
OpenCap squat), is filmed by a pinhole camera
(:mod:`.camera`) and drawn with numpy + OpenCV (:mod:`.render`) or turned
straight into a noisy :class:`~formcheck.pose.track.PoseTrack` (:mod:`.tracks`).
Every clip carries its truth (:mod:`.truth`): landmarks in the pose model's
convention, true spine/hip/knee angles, phases, reps and faults.

>>> from formcheck.synth import SynthSpec, write_clip
>>> truth = write_clip("rounded.mp4", SynthSpec("deadlift", faults={"lumbar_flexion": 30}))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from formcheck.pose import landmarks as lm
from formcheck.io.files import atomic_path
from formcheck.pose.silhouette import trunk_edges_from_mask
from formcheck.synth.bystander import BYSTANDERS, bystander_body
from formcheck.synth.camera import Camera
from formcheck.synth.faults import EXERCISES, FAULTS, canonical_exercise, validate_faults
from formcheck.synth.motion import IMPLEMENTS, Motion, MotionParams, generate
from formcheck.synth.render import RenderedFrame, Renderer, Style
from formcheck.synth.tracks import TrackNoise, synthetic_track
from formcheck.synth.truth import SynthTruth, build_truth, project_landmarks, truth_paths
from formcheck.pose.track import TRUNK_STATIONS, PoseTrack

CODECS = ("mp4v", "h264")


@dataclass(frozen=True)
class SynthSpec:
    """Everything that defines a synthetic clip; the same spec and seed give the same clip.

    Attributes
    ----------
    exercise : str
        squat, deadlift, rdl, good_morning or kettlebell_swing.
    reps : int
    faults : dict
        ``{fault code: severity}`` (see :data:`formcheck.synth.faults.FAULTS`).
    fault_reps : tuple of int or None
        Reps (0-based) that show the faults; None = all.
    depth : float
        Squat depth, 1 = thighs parallel (0.2–1.3).
    tempo : float
        Multiplies movement durations (>1 slower).
    pause_bottom_s, pause_top_s : float or None
        Pauses at the bottom / between reps (None: exercise default).
    setup_s : float
        Quiet standing before the set.
    fps : float
    height_m : float
        Lifter's body height.
    lean_compensation : float
        Share of the spinal-flexion-induced trunk lean absorbed by the pelvis.
    camera_yaw_deg, camera_distance_m, camera_height_m, focal_px : float
    camera_pitch_deg : float
        Tilt of the camera, + looking down, − looking up (a phone on the floor
        aimed up at the lifter: −5 … −20; see :mod:`formcheck.synth.framing`).
    image_size : tuple of int
        (width, height).
    background : str
        plain, room or gym.
    clothing : str or None
    skin : int or None
    looseness : float
    implement : str or None
        none, barbell, bar (barbell without plates) or kettlebell (None: exercise default).
    noise, blur : float
        Pixel noise sigma (grey levels) and Gaussian blur sigma (px).
    supersample : int
    finish : str
        How a deadlift set ends: ``"stand_up"`` (let go of the bar at the floor
        and stand up, not a rep) or ``"stay_down"`` (stay set at the bar).
    bystander : str
        A second person: ``"none"``, ``"walk_behind"`` (walks across the room
        behind the lifter) or ``"stand_beside"`` (a coach standing beside and
        behind the lifter). See :mod:`formcheck.synth.bystander`.
    seed : int
    """

    exercise: str = "deadlift"
    reps: int = 3
    faults: dict = field(default_factory=dict)
    fault_reps: tuple[int, ...] | None = None
    depth: float = 1.0
    tempo: float = 1.0
    pause_bottom_s: float | None = None
    pause_top_s: float | None = None
    setup_s: float = 1.5
    fps: float = 30.0
    height_m: float = 1.75
    lean_compensation: float = 0.7
    camera_yaw_deg: float = 0.0
    camera_distance_m: float = 4.0
    camera_height_m: float = 1.0
    focal_px: float = 800.0
    camera_pitch_deg: float = 0.0
    image_size: tuple[int, int] = (640, 480)
    background: str = "room"
    clothing: str | None = None
    skin: int | None = None
    looseness: float = 0.0
    implement: str | None = None
    noise: float = 2.0
    blur: float = 0.0
    supersample: int = 2
    finish: str = "stand_up"
    bystander: str = "none"
    seed: int = 0

    def __post_init__(self) -> None:
        exercise = canonical_exercise(self.exercise)
        object.__setattr__(self, "exercise", exercise)
        object.__setattr__(self, "faults", validate_faults(exercise, self.faults))
        if self.fault_reps is not None:
            object.__setattr__(self, "fault_reps", tuple(int(i) for i in self.fault_reps))
            bad = [i for i in self.fault_reps if not 0 <= i < self.reps]
            if bad:
                raise ValueError(f"fault_reps {bad} outside 0–{self.reps - 1}")
        if not -89.0 <= self.camera_yaw_deg <= 89.0:
            raise ValueError("camera_yaw_deg must be within ±89°")
        if self.camera_distance_m < 1.0:
            raise ValueError("camera_distance_m must be at least 1 m")
        if not -45.0 <= self.camera_pitch_deg <= 45.0:
            raise ValueError("camera_pitch_deg must be within ±45°")
        if self.bystander not in BYSTANDERS:
            raise ValueError(f"unknown bystander {self.bystander!r} (choose from {', '.join(BYSTANDERS)})")
        w, h = (int(v) for v in self.image_size)
        object.__setattr__(self, "image_size", (w, h))
        if w % 2 or h % 2:
            raise ValueError("image width and height must be even (video encoders need it)")
        self.camera()  # validates camera values
        self.style()   # validates look values

    def camera(self) -> Camera:
        return Camera(focal_px=self.focal_px, distance_m=self.camera_distance_m, height_m=self.camera_height_m,
                      yaw_deg=self.camera_yaw_deg, pitch_deg=self.camera_pitch_deg, image_size=self.image_size)

    def bystander_body(self, motion: Motion | None = None):
        """The second person in the scene over ``motion``'s frames (None without one)."""
        motion = motion if motion is not None else self.motion()
        return bystander_body(self.bystander, motion.time_s, self.seed)

    def style(self) -> Style:
        return Style(**self._shared_with(Style))

    def motion(self) -> Motion:
        return generate(MotionParams(**{**self._shared_with(MotionParams), "faults": dict(self.faults)}))

    def _shared_with(self, cls) -> dict:
        """This spec's values of the fields ``cls`` has under the same name (the spec is
        their flat union; the others keep ``cls``'s defaults)."""
        return {f.name: getattr(self, f.name) for f in fields(cls) if hasattr(self, f.name)}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["image_size"] = list(self.image_size)
        d["fault_reps"] = None if self.fault_reps is None else list(self.fault_reps)
        return d


def render_frames(spec: SynthSpec) -> Iterator[RenderedFrame]:
    """Render the clip ``spec`` describes, frame by frame (image + exact silhouette mask)."""
    motion = spec.motion()
    return Renderer(spec.camera(), spec.style(), bystander=spec.bystander_body(motion)).frames(motion)


def write_clip(path: str | os.PathLike, spec: SynthSpec, codec: str = "mp4v") -> SynthTruth:
    """Render ``spec`` to an mp4 at ``path`` and save its truth beside it.

    The video (and each truth file) is written to a temporary file in the
    same folder and moved into place, so a crash never leaves a half clip.

    Parameters
    ----------
    path : path-like
        Output ``.mp4``.
    spec : SynthSpec
    codec : {"mp4v", "h264"}
        mp4v via OpenCV (plays in OpenCV/PyAV); h264 via PyAV (also plays in
        browsers).

    Returns
    -------
    SynthTruth
    """
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r} (choose from {', '.join(CODECS)})")
    path = Path(path)
    camera = spec.camera()
    motion = spec.motion()
    xy, _, _ = project_landmarks(motion.skeleton(), camera)
    hips = 0.5 * (xy[:, lm.LEFT_HIP] + xy[:, lm.RIGHT_HIP])
    shoulders = 0.5 * (xy[:, lm.LEFT_SHOULDER] + xy[:, lm.RIGHT_SHOULDER])
    edges = np.full((len(motion), TRUNK_STATIONS, 2, 2), np.nan, np.float32)
    other = spec.bystander_body(motion)
    with atomic_path(path, suffix=".mp4") as tmp:
        frames = Renderer(camera, spec.style(), bystander=other).frames(motion)
        writer = _VideoWriter(tmp, spec.fps, spec.image_size, codec)
        try:
            for f in frames:
                writer.write(f.image)
                edges[f.index] = trunk_edges_from_mask(f.mask, hips[f.index], shoulders[f.index])
        finally:
            writer.close()
    truth = build_truth(motion, camera, edges, meta={"spec": spec.to_dict(), "codec": codec,
                                                     "video": path.name}, bystander=other)
    truth.save(path)
    return truth


def make_track(spec: SynthSpec, noise: TrackNoise | None = TrackNoise(), rng=None) -> PoseTrack:
    """The fast path: a noisy synthetic :class:`PoseTrack` for ``spec``, no rendering."""
    return synthetic_track(spec.motion(), spec.camera(), noise=noise,
                           rng=spec.seed if rng is None else rng)


def make_truth(spec: SynthSpec) -> SynthTruth:
    """Truth for ``spec`` without rendering (trunk edges from the exact silhouette)."""
    motion, camera = spec.motion(), spec.camera()
    track = synthetic_track(motion, camera, noise=None)
    return build_truth(motion, camera, track.trunk_edges, meta={"spec": spec.to_dict()},
                       bystander=spec.bystander_body(motion))


class _VideoWriter:
    """mp4 writer: OpenCV mp4v, or H.264 through PyAV."""

    def __init__(self, path: str, fps: float, size: tuple[int, int], codec: str):
        self.codec = codec
        if codec == "mp4v":
            self._cv = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), float(fps), tuple(size))
            if not self._cv.isOpened():
                raise OSError(f"OpenCV cannot write {path}")
        else:
            import av

            self._container = av.open(path, "w")
            self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
            self._stream.width, self._stream.height = size
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"preset": "veryfast", "crf": "18"}

    def write(self, bgr: np.ndarray) -> None:
        if self.codec == "mp4v":
            self._cv.write(bgr)
        else:
            import av

            frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
            for packet in self._stream.encode(frame):
                self._container.mux(packet)

    def close(self) -> None:
        if self.codec == "mp4v":
            self._cv.release()
        else:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()


__all__ = [
    "SynthSpec", "SynthTruth", "TrackNoise", "write_clip", "render_frames", "make_track", "make_truth",
    "synthetic_track", "Camera", "Style", "EXERCISES", "FAULTS", "truth_paths",
    "Motion", "MotionParams", "generate", "IMPLEMENTS",
]
