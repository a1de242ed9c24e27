"""Offline video analysis: file → frames → pose → analysis → output files.

Decoding runs on a background thread, the pose model on the calling thread,
and the annotated video (streaming analysis, drawing, H.264 encoding) on two
more threads, so on two cores the whole job runs at nearly the speed of the
pose model alone.

Outputs in ``out_dir``, written as one set: into a staging folder beside it,
then swapped in whole (:mod:`formcheck.apps.outputs`), so the folder never
mixes two runs and a failed run leaves the previous set as it was:

``report.json``   the :class:`~formcheck.analysis.report.Report` (docs/report-schema.md)
``angles.csv``    the per-frame table, units in the column names
``landmarks.npz`` the raw pose track, for ``formcheck analyze --landmarks``
``annotated.mp4`` skeleton, key angles, back curve, rep counter, gauges, cue banner
                  (:class:`~formcheck.render.annotators.LiveStateAnnotator`)
``report.html``   the self-contained page to read and send (:mod:`formcheck.render.html`)

Inputs are checked before the pose model runs (:func:`check_inputs`): the
video opens and declares a frame rate (or one is given), and a saved track
given with ``landmarks=`` was made from this video (the digest it records,
else frame size and count).
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
from formcheck.analysis.streaming import LiveState, StreamingAnalyzer
from formcheck.apps.outputs import StagedOutput
from formcheck.errors import InputError
from formcheck.io.files import file_sha256, require_file
from formcheck.io.video import prefetch, probe, read_frames
from formcheck.measure.bar import DEFAULT_PLATE_DIAMETER_M
from formcheck.io.writer import VideoWriter, frame_size_for
from formcheck.pose.estimator import PoseOptions, estimate_track
from formcheck.pose.track import SOURCE_DIGEST, PoseFrame, PoseTrack, interpolate_pose
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
    fps: float | None = None,
    plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M,
) -> Report:
    """Analyse one video (or a saved landmark track) and write the outputs.

    Parameters
    ----------
    path : path-like
        A video file, or a ``.npz`` landmark track saved by an earlier run.
    out_dir : path-like, optional
        Where to write the outputs; nothing is written when None. The folder
        is replaced by this run's set as a whole, once the set is complete; a
        folder holding files formcheck did not write is refused.
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
    fps : float, optional
        The video's frame rate, for a file whose header has none or a wrong one.
    plate_diameter_m : float
        Diameter of the barbell's plates: the scale of the bar's path and speed.

    Returns
    -------
    Report

    Raises
    ------
    InputError
        Unreadable input, a landmark track made from another video, or an
        output folder that cannot take the results; all checked before the
        pose model runs. A video without a person gives a report that says so.
    """
    path = Path(path)
    track = check_inputs(path, landmarks, fps)
    settings = dict(exercise=exercise, landmarks=track, video=video, html=html, thresholds=thresholds,
                    pose_options=pose_options, progress=progress, fps=fps, plate_diameter_m=plate_diameter_m)
    if out_dir is None:
        return analyze_into(path, None, **settings)
    with StagedOutput(out_dir) as stage:
        return analyze_into(path, stage.path, **settings)


def analyze_into(
    path: Path,
    out_dir: Path | None,
    *,
    exercise: str = "auto",
    landmarks: PoseTrack | None = None,
    video: bool = True,
    html: bool = True,
    thresholds=None,
    pose_options: PoseOptions = PoseOptions(),
    progress: Callable[[int], None] | None = None,
    fps: float | None = None,
    plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M,
) -> Report:
    """:func:`analyze_video` writing straight into ``out_dir``, a new folder that is
    the caller's to make atomic (a staging folder), with inputs already checked.

    ``landmarks`` is the loaded track (of ``path`` itself when it is an ``.npz``).
    """
    path = Path(path)
    options = AnalysisOptions(exercise=exercise, thresholds=thresholds, plate_diameter_m=plate_diameter_m)
    outputs = OutputPaths.in_dir(Path(out_dir)) if out_dir is not None else None

    if landmarks is not None or path.suffix.lower() == ".npz":
        track = landmarks if landmarks is not None else load_track(path)
        report = analyze_track(track, options)
        if outputs and video and path.suffix.lower() != ".npz":
            _render_from_track(path, track, outputs.video, exercise, thresholds, fps, plate_diameter_m)
        if outputs:
            _write_outputs(report, track, outputs, html, _video_of(path))
        return report

    digest = _digest_in_background(path)
    reader = read_frames(path, fps=fps, on_warning=_said_in_the_report)
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

    def on_skipped(frame: np.ndarray, time_s: float) -> None:
        counter["n"] += 1
        if annotator is not None:
            annotator.submit_between(frame, time_s)
        if progress is not None:
            progress(counter["n"])

    try:
        track = estimate_track(
            prefetch(reader),
            pose_options,
            meta={"source": str(path), "rotation_deg": info.rotation_deg, "truncated": False},
            on_frame=on_frame,
            on_skipped=on_skipped,
        )
    except BaseException:
        if annotator is not None:
            annotator.abort()
        raise
    if reader.truncated:
        track = PoseTrack(**{**track.__dict__, "meta": {**track.meta, "truncated": True}})
    track = _with_source_digest(track, digest())
    if len(track) == 0:
        if annotator is not None:
            annotator.abort()
        raise InputError(f"{path}: no frames could be decoded")
    # Placed once here and saved with the landmarks: re-analyses skip the registration.
    track = with_placed_hip(track)
    report = analyze_track(track, options)
    if reader.truncated:
        report = _with_note(report, "the video file is truncated; only the frames before the damage were analysed")
    if reader.damaged_packets:
        report = _with_note(report, f"the video file is damaged: {reader.damaged_packets} unreadable part(s) were "
                                    "skipped, so a few frames after each may show smeared blocks")
    if annotator is not None:
        if track.detected.any():
            annotator.close()
        else:
            annotator.abort()
    if outputs:
        _write_outputs(report, track, outputs, html, path)
    return report


# ---------------------------------------------------------------------- inputs, before the pose model
def check_inputs(path: Path, landmarks: str | os.PathLike | PoseTrack | None, fps: float | None = None) -> PoseTrack | None:
    """Check everything about the inputs that can be checked before the pose model runs.

    Returns the landmark track to re-use (``landmarks`` loaded, or ``path``
    itself when it is an ``.npz``), or None when the pose model is to run.

    Raises
    ------
    InputError
        The video cannot be read or declares no frame rate (and ``fps`` is not
        given); the track cannot be read; or the track was made from another
        video (its recorded digest differs, or else its frame size or count).
    """
    if path.suffix.lower() == ".npz":
        if landmarks is not None:
            raise InputError(f"{path} is a landmark track already: give a video with --landmarks, or the track alone")
        return load_track(path)
    info = probe(require_file(path, "video file"), fps=fps)  # opens it and decodes one frame
    if landmarks is None:
        return None
    track = landmarks if isinstance(landmarks, PoseTrack) else load_track(Path(landmarks))
    digest = file_sha256(path) if track.source_digest else None
    problem = track.source_mismatch((info.width, info.height), info.frame_count, digest)
    if problem:
        named = "the landmarks" if isinstance(landmarks, PoseTrack) else f"--landmarks {landmarks}"
        raise InputError(f"{named} do not belong to {path}: {problem}; analyse the video without --landmarks")
    # The report names the video analysed (the track may have been made under another name or path).
    return replace(track, meta={**track.meta, "source": str(path)})


def load_track(path: Path) -> PoseTrack:
    """A saved track, or InputError (with the reason) for a file that is not one."""
    return PoseTrack.load(require_file(path, "landmark track (.npz)"))


def _video_of(path: Path) -> Path | None:
    return None if path.suffix.lower() == ".npz" else path


def _digest_in_background(path: Path) -> Callable[[], str | None]:
    """Start hashing the video on a thread (hashing releases the GIL); the call returns the digest."""
    result: dict[str, str | None] = {}

    def run() -> None:
        try:
            result["digest"] = file_sha256(path)
        except OSError:  # the analysis reports an unreadable file itself
            result["digest"] = None

    thread = threading.Thread(target=run, name="formcheck-digest", daemon=True)
    thread.start()

    def digest() -> str | None:
        thread.join()
        return result.get("digest")

    return digest


def _with_source_digest(track: PoseTrack, digest: str | None) -> PoseTrack:
    """The track, recording the digest of the video it was made from (``--landmarks`` checks it)."""
    if digest is None:
        return track
    return replace(track, meta={**track.meta, SOURCE_DIGEST: digest})


def _said_in_the_report(message: str) -> None:
    """The reader's warning (truncated, damaged): the report's notes say it, so nothing is printed."""


def _with_note(report: Report, note: str) -> Report:
    return replace(report, notes=report.notes + (note,))


def _write_outputs(
    report: Report, track: PoseTrack, outputs: OutputPaths, html: bool = True, video: Path | None = None
) -> None:
    """The set's files, into the (staging) folder: the track (unless already there), tables, report, page."""
    if not outputs.landmarks.exists():  # a batch links its cached track in beforehand
        track.save(outputs.landmarks)
    if report.frames:
        report.write_angles_csv(outputs.angles)
    report.write_json(outputs.report)
    if html:  # built from this set's files only, with the video analysed
        write_html_report(outputs.report.parent, _video_of(video) if video is not None else None, track=track)  # the track in memory


# ---------------------------------------------------------------------- annotated video
class AnnotatedVideo:
    """Draws the streaming analysis over each frame and encodes it, on its own thread.

    Frames are handed over with :meth:`submit` (blocking only if the encoder
    falls far behind, which bounds memory). Each is shrunk to ``size``, the
    :class:`~formcheck.analysis.streaming.StreamingAnalyzer`'s state drawn on
    it by a :class:`~formcheck.render.annotators.LiveStateAnnotator` (the
    live window's too), and encoded. Frames the pose model skipped
    (``analysis_fps``) come with :meth:`submit_between`: they are kept until
    the next analysed frame and drawn with the pose interpolated between the
    two (for drawing only), so the video keeps the source's frame rate.
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
        self._queue.put((frame, pose.time_s, pose))

    def submit_between(self, frame: np.ndarray, time_s: float) -> None:
        """A frame the pose model did not see (drawn once the next analysed frame arrives)."""
        if self._error is not None:
            raise self._error
        self._queue.put((frame, time_s, None))

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

    def _write(self, frame: np.ndarray, time_s: float, state: LiveState | None) -> None:
        scale = self.size[0] / frame.shape[1]
        small = cv2.resize(frame, self.size, interpolation=_shrink(scale)) if scale != 1 else frame.copy()
        if state is not None:
            self.annotator.scale = scale
            small = self.annotator.annotate(small, state)
        self.writer.write(small, time_s)

    def _run(self) -> None:
        try:
            state = None
            waiting: list[tuple[np.ndarray, float]] = []  # skipped frames after the last analysed one
            while (item := self._queue.get()) is not None:
                frame, time_s, pose = item
                if pose is None:
                    if state is None:  # nothing analysed yet: nothing to draw from
                        self._write(frame, time_s, None)
                    else:
                        waiting.append((frame, time_s))
                    continue
                previous = state
                state = self.analyzer.update(pose, (frame.shape[1], frame.shape[0]))
                for between, between_s in waiting:
                    drawn = interpolate_pose(previous.pose, pose, between_s) if previous.pose is not None else None
                    self._write(between, between_s, replace(previous, pose=drawn, time_s=between_s, finished_rep=None))
                waiting.clear()
                self._write(frame, time_s, state)
            for between, between_s in waiting:  # after the last analysed frame: its state
                self._write(between, between_s, replace(state, time_s=between_s, finished_rep=None))
        except BaseException as exc:  # reported to the producer on its next submit/close
            self._error = exc
            while self._queue.get() is not None:
                pass


def _render_from_track(path: Path, track: PoseTrack, out: Path, exercise: str, thresholds, fps=None,
                       plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M) -> None:
    """Annotated video from a saved track (no pose model): decode and draw."""
    reader = read_frames(path, fps=fps, on_warning=_said_in_the_report)
    info = reader.info
    size = frame_size_for(info.width, info.height, OVERLAY_MAX_SIDE)
    annotator = AnnotatedVideo(out, info.fps or 30.0, size, exercise, thresholds, plate_diameter_m)
    analysed = {int(source): i for i, source in enumerate(track.source_index)}
    last = int(track.source_index[-1]) if len(track) else -1
    try:
        for index, (time_s, frame) in enumerate(prefetch(reader)):
            if index > last:
                break
            if index in analysed:
                annotator.submit(frame, track[analysed[index]])
            else:  # a frame the pose model skipped (analysis_fps)
                annotator.submit_between(frame, time_s)
    except BaseException:
        annotator.abort()
        raise
    annotator.close()


def _shrink(scale: float) -> int:
    """OpenCV interpolation for shrinking by ``scale``: area averaging only where
    linear would alias (INTER_AREA is several times slower at mild ratios)."""
    return cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA
