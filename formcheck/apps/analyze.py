"""Offline video analysis: file → frames → pose → analysis → output files.

Decoding runs on a background thread, the pose model on the calling thread,
and the annotated video (streaming analysis, drawing, H.264 encoding) on two
more threads, so on two cores the whole job runs at nearly the speed of the
pose model alone.

Outputs in ``out_dir`` (each written atomically):

``report.json``   the :class:`~formcheck.analysis.report.Report` (docs/report-schema.md)
``angles.csv``    the per-frame table, units in the column names
``landmarks.npz`` the raw pose track, for ``formcheck analyze --landmarks``
``annotated.mp4`` skeleton, key angles, back curve, rep counter, gauges, cue banner
                  (:class:`~formcheck.render.annotators.LiveStateAnnotator`)
``report.html``   the self-contained page to read and send (:mod:`formcheck.render.html`)
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from formcheck.analysis.offline import AnalysisOptions, analyze_track
from formcheck.analysis.report import Report
from formcheck.analysis.streaming import StreamingAnalyzer
from formcheck.errors import InputError
from formcheck.measure.bar import DEFAULT_PLATE_DIAMETER_M
from formcheck.io.video import prefetch, read_frames
from formcheck.io.writer import VideoWriter, frame_size_for
from formcheck.pose.estimator import PoseOptions, estimate_track
from formcheck.pose.track import PoseFrame, PoseTrack
from formcheck.render.annotators import LiveStateAnnotator
from formcheck.render.html import write_html_report
from formcheck.spine import with_placed_hip

OVERLAY_MAX_SIDE = 960


@dataclass(frozen=True)
class OutputPaths:
    report: Path
    angles: Path
    landmarks: Path
    video: Path

    @classmethod
    def in_dir(cls, out_dir: Path) -> "OutputPaths":
        return cls(out_dir / "report.json", out_dir / "angles.csv", out_dir / "landmarks.npz", out_dir / "annotated.mp4")


def analyze_video(
    path: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    exercise: str = "auto",
    landmarks: str | os.PathLike | PoseTrack | None = None,
    video: bool = True,
    html: bool = True,
    thresholds=None,
    pose_options: PoseOptions = PoseOptions(),
    progress: Callable[[int], None] | None = None,
    plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M,
) -> Report:
    """Analyse one video (or a saved landmark track) and write the outputs.

    Parameters
    ----------
    path : path-like
        A video file, or a ``.npz`` landmark track saved by an earlier run.
    out_dir : path-like, optional
        Where to write the outputs; nothing is written when None.
    exercise : str
        ``"auto"``, ``"squat"`` or ``"deadlift"``.
    landmarks : path-like or PoseTrack, optional
        Re-use this saved (or already loaded) track instead of running the pose model.
    video : bool
        Write ``annotated.mp4`` (needs the video file).
    html : bool
        Write ``report.html`` (plots and key frames: about a second).
    thresholds : dict, optional
        ``exercise → code → Threshold`` overrides (from a profile).
    pose_options : PoseOptions
    progress : callable, optional
        Called with the number of frames processed so far.
    plate_diameter_m : float
        Diameter of the barbell's plates: the scale of the bar's path and speed.

    Returns
    -------
    Report

    Raises
    ------
    InputError
        Unreadable input. A video without a person gives a report that says so.
    """
    path = Path(path)
    options = AnalysisOptions(exercise=exercise, thresholds=thresholds, plate_diameter_m=plate_diameter_m)
    outputs = OutputPaths.in_dir(Path(out_dir)) if out_dir is not None else None
    if outputs:
        Path(out_dir).mkdir(parents=True, exist_ok=True)

    if landmarks is not None or path.suffix.lower() == ".npz":
        if isinstance(landmarks, PoseTrack):
            track = landmarks
        else:
            track = load_track(Path(landmarks) if landmarks is not None else path)
        report = analyze_track(track, options)
        if outputs and video and landmarks is not None and path.suffix.lower() != ".npz":
            _render_from_track(path, track, outputs.video, exercise, thresholds, plate_diameter_m)
        if outputs:
            _write_outputs(report, None, outputs, html)
        return report

    reader = read_frames(path)
    info = reader.info
    annotator = None
    if outputs and video:
        size = frame_size_for(info.width, info.height, OVERLAY_MAX_SIDE)
        annotator = AnnotatedVideo(outputs.video, info.fps or 30.0, size, exercise, thresholds, plate_diameter_m)
    counter = {"n": 0}

    def on_frame(frame: np.ndarray, pose: PoseFrame) -> None:
        counter["n"] += 1
        if annotator is not None:
            annotator.submit(frame, pose)
        if progress is not None:
            progress(counter["n"])

    try:
        track = estimate_track(
            prefetch(reader),
            pose_options,
            meta={"source": str(path), "rotation_deg": info.rotation_deg, "truncated": False},
            on_frame=on_frame,
        )
    except BaseException:
        if annotator is not None:
            annotator.abort()
        raise
    if reader.truncated:
        track = PoseTrack(**{**track.__dict__, "meta": {**track.meta, "truncated": True}})
    if len(track) == 0:
        if annotator is not None:
            annotator.abort()
        raise InputError(f"{path}: no frames could be decoded")
    # Placed once here and saved with the landmarks: re-analyses skip the registration.
    track = with_placed_hip(track)
    report = analyze_track(track, options)
    if reader.truncated:
        report = _with_note(report, "the video file is truncated; only the frames before the damage were analysed")
    if annotator is not None:
        if track.detected.any():
            annotator.close()
        else:
            annotator.abort()
    if outputs:
        _write_outputs(report, track, outputs, html)
    return report


def load_track(path: Path) -> PoseTrack:
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    try:
        return PoseTrack.load(path)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _with_note(report: Report, note: str) -> Report:
    return replace(report, notes=report.notes + (note,))


def _write_outputs(report: Report, track: PoseTrack | None, outputs: OutputPaths, html: bool = True) -> None:
    if track is not None:
        track.save(outputs.landmarks)
    if report.frames:
        report.write_angles_csv(outputs.angles)
    report.write_json(outputs.report)
    if html:
        write_html_report(outputs.report.parent)  # built from the files just written


# ---------------------------------------------------------------------- annotated video
class AnnotatedVideo:
    """Draws the streaming analysis over each frame and encodes it, on its own thread.

    Frames are handed over with :meth:`submit` (blocking only if the encoder
    falls far behind, which bounds memory). Each is shrunk to ``size``, the
    :class:`~formcheck.analysis.streaming.StreamingAnalyzer`'s state drawn on
    it by a :class:`~formcheck.render.annotators.LiveStateAnnotator` (the
    live window's too), and encoded.
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int], exercise: str, thresholds=None,
                 plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M):
        self.size = size
        self.analyzer = StreamingAnalyzer(exercise, thresholds=thresholds, plate_diameter_m=plate_diameter_m)
        self.annotator = LiveStateAnnotator()
        self.writer = VideoWriter(path, fps, size)
        self._queue: queue.Queue = queue.Queue(maxsize=32)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="formcheck-annotate", daemon=True)
        self._thread.start()

    def submit(self, frame: np.ndarray, pose: PoseFrame) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((frame, pose))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            self.writer.abort()
            raise self._error
        self.writer.close()

    def abort(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self.writer.abort()

    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                frame, pose = item
                state = self.analyzer.update(pose, (frame.shape[1], frame.shape[0]))
                scale = self.size[0] / frame.shape[1]
                small = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA) if scale != 1 else frame.copy()
                self.annotator.scale = scale
                self.writer.write(self.annotator.annotate(small, state), pose.time_s)
        except BaseException as exc:  # reported to the producer on its next submit/close
            self._error = exc
            while self._queue.get() is not None:
                pass


def _render_from_track(path: Path, track: PoseTrack, out: Path, exercise: str, thresholds,
                       plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M) -> None:
    """Annotated video from a saved track (no pose model): decode and draw."""
    reader = read_frames(path)
    info = reader.info
    size = frame_size_for(info.width, info.height, OVERLAY_MAX_SIDE)
    annotator = AnnotatedVideo(out, info.fps or 30.0, size, exercise, thresholds, plate_diameter_m)
    try:
        for i, (time_s, frame) in enumerate(prefetch(reader)):
            if i >= len(track):
                break
            annotator.submit(frame, track[i])
    except BaseException:
        annotator.abort()
        raise
    annotator.close()
