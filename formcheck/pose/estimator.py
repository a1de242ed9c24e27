"""Pose stage: MediaPipe PoseLandmarker on frames → :class:`PoseFrame` / :class:`PoseTrack`.

The model is the BlazePose GHUM *full* landmarker bundled in the top-level
``models/`` folder (installed as the package ``formcheck.models``, see
``models/NOTICE.md``); nothing is downloaded. :func:`default_model_path` finds
it in an install or, failing that, in the source checkout.

:func:`estimate_track` and :func:`iter_poses` run the model over frames and
follow one person, the lifter (:class:`~formcheck.pose.lifter.LifterSelector`);
:class:`PoseEstimator` is the model itself, for callers that choose the
person themselves (the live loop).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.resources
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import cv2
import numpy as np

from formcheck.errors import InputError
from formcheck.pose import landmarks as lm
from formcheck.pose.lifter import LifterSelector
from formcheck.pose.plate.finder import PlateFinder
from formcheck.pose.silhouette import trunk_edges_from_mask, trunk_outlines_from_mask
from formcheck.pose.timestamps import MonotonicMs
from formcheck.pose.track import PoseFrame, PoseTrack, TrackBuilder

MODEL_FILE = "pose_landmarker_full.task"
#: The top-level ``models/`` folder of a source checkout (``formcheck/pose/`` → repository root).
CHECKOUT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def default_model_path() -> Path:
    """Path of the bundled pose landmarker ``.task`` file.

    Looked up first in the installed package ``formcheck.models``, then in the
    ``models/`` folder of the source checkout this module was imported from
    (``python -m pytest`` in a clone imports the checkout's ``formcheck/``,
    which has no ``formcheck/models``, even when formcheck is installed).

    Raises
    ------
    InputError
        If the model is in neither place.
    """
    installed = _installed_model_path()
    if installed is not None and installed.is_file():
        return installed
    checkout = CHECKOUT_MODELS_DIR / MODEL_FILE
    if checkout.is_file():
        return checkout
    installed_at = installed if installed is not None else "the package formcheck.models (not installed)"
    raise InputError(f"pose model not found at {installed_at} nor at {checkout}; reinstall formcheck")


def _installed_model_path() -> Path | None:
    """The model's path inside the installed package ``formcheck.models``, or None without that package."""
    try:
        return Path(str(importlib.resources.files("formcheck.models") / MODEL_FILE))
    except ModuleNotFoundError:
        return None


@dataclass(frozen=True)
class PoseOptions:
    """Settings of the pose stage.

    Attributes
    ----------
    model_path : Path or None
        ``.task`` bundle; None uses the bundled full model.
    num_poses : int
        People detected per frame (the lifter is chosen among them). Asking
        for more than one also keeps MediaPipe detecting afresh on every
        frame, without its one-person smoothing (:class:`LifterFollower`).
    with_mask : bool
        Compute the segmentation mask and the trunk silhouette edges the spine
        estimate needs (≈ +1–6 ms per frame).
    max_side : int or None
        Frames are downscaled so their longest side is at most this before
        the model sees them: the model works at 256×256 anyway, and the mask
        cost grows with pixels (NOTES: spine results held at half resolution).
    min_detection_confidence, min_presence_confidence, min_tracking_confidence : float
        MediaPipe thresholds.
    analysis_fps : float
        Pose about this many frames per second (0: every frame): a 60 fps
        phone video is analysed at 30 Hz, every second frame, which is
        plenty for lifting (6 Hz smoothing) and halves the model's work.
    """

    model_path: Path | None = None
    num_poses: int = 2
    with_mask: bool = True
    max_side: int | None = 960
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    analysis_fps: float = 30.0


class PoseEstimator:
    """One MediaPipe PoseLandmarker in VIDEO mode, fed frames in time order.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, options: PoseOptions = PoseOptions()):
        # Imported here so that analysing a saved track never loads mediapipe.
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

        model_path = Path(options.model_path) if options.model_path else default_model_path()
        if not model_path.is_file():
            raise InputError(f"pose model {model_path} is missing; reinstall formcheck")
        self.options = options
        with native_stderr_silenced():
            self._landmarker = PoseLandmarker.create_from_options(
                PoseLandmarkerOptions(
                    base_options=BaseOptions(model_asset_path=str(model_path)),
                    running_mode=RunningMode.VIDEO,
                    num_poses=options.num_poses,
                    min_pose_detection_confidence=options.min_detection_confidence,
                    min_pose_presence_confidence=options.min_presence_confidence,
                    min_tracking_confidence=options.min_tracking_confidence,
                    output_segmentation_masks=options.with_mask,
                )
            )
        self._to_ms = MonotonicMs()
        self._first = True

    def __enter__(self) -> "PoseEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def detect(self, frame_bgr: np.ndarray, time_s: float, keep_mask: bool = False) -> list[PoseFrame]:
        """All people found in one frame, in the frame's pixel coordinates.

        Parameters
        ----------
        frame_bgr : ndarray, shape (H, W, 3), uint8
        time_s : float
            Presentation time; must increase from call to call.
        keep_mask : bool
            Attach the person's mask (frame resolution) to each PoseFrame.
        """
        import mediapipe as mp

        height, width = frame_bgr.shape[:2]
        model_input, scale = _model_input(frame_bgr, self.options.max_side)
        time_ms = self._to_ms(time_s)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=model_input)
        if self._first:
            # The native graph logs warnings on its first frame; keep the user's terminal clean.
            with native_stderr_silenced():
                result = self._landmarker.detect_for_video(image, time_ms)
            self._first = False
        else:
            result = self._landmarker.detect_for_video(image, time_ms)
        in_h, in_w = model_input.shape[:2]
        people = []
        for i, image_landmarks in enumerate(result.pose_landmarks):
            arr = np.array(
                [(p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0) for p in image_landmarks],
                np.float32,
            )
            # Normalised to the (padded) model input; back to frame pixels.
            xy = arr[:, :2] * np.array([in_w, in_h], np.float32) / scale
            z = arr[:, 2] * in_w / scale
            world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks[i]], np.float32)
            edges = np.full((len(PoseFrame.empty(0).trunk_edges), 2, 2), np.nan, np.float32)
            outlines = None
            mask = None
            if result.segmentation_masks:
                model_mask = np.asarray(result.segmentation_masks[i].numpy_view(), np.float32)
                model_mask = model_mask.reshape(in_h, in_w)[: round(height * scale), : round(width * scale)]
                hips = arr[[lm.LEFT_HIP, lm.RIGHT_HIP], :2].mean(0) * (in_w, in_h)
                shoulders = arr[[lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER], :2].mean(0) * (in_w, in_h)
                edges = trunk_edges_from_mask(model_mask, hips, shoulders) / scale
                outlines = trunk_outlines_from_mask(model_mask, hips, shoulders) / scale
                if keep_mask:
                    mask = cv2.resize(model_mask, (width, height), interpolation=cv2.INTER_LINEAR)
            people.append(
                PoseFrame(
                    time_s=float(time_s),
                    xy=xy,
                    z=z,
                    visibility=arr[:, 3],
                    presence=arr[:, 4],
                    world=world,
                    trunk_edges=edges.astype(np.float32),
                    mask=mask,
                    trunk_outlines=outlines,
                )
            )
        return people


@contextlib.contextmanager
def native_stderr_silenced():
    """Redirect file descriptor 2 to /dev/null: the TFLite/absl start-up
    messages are written by native code that Python logging cannot reach."""
    if os.environ.get("FORMCHECK_NATIVE_LOGS"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _model_input(frame_bgr: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """RGB frame for the model, downscaled and padded to a width divisible by 4.

    The padding avoids a native crash in mediapipe 0.10.31 when segmentation
    masks are read from frames whose width is not a multiple of 4 (NOTES).
    """
    height, width = frame_bgr.shape[:2]
    scale = 1.0
    if max_side and max(height, width) > max_side:
        scale = max_side / max(height, width)
        frame_bgr = cv2.resize(
            frame_bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    pad = (-frame_bgr.shape[1]) % 4
    if pad:
        frame_bgr = cv2.copyMakeBorder(frame_bgr, 0, 0, 0, pad, cv2.BORDER_CONSTANT, value=0)
    return np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)), scale


class LifterFollower:
    """The pose model and the lifter choice together: one frame in, the lifter's pose out.

    Every frame is a fresh detection of everyone in view (``num_poses``), and
    :class:`~formcheck.pose.lifter.LifterSelector` keeps the same person
    (biggest × most central first, then the nearest to the lifter's last
    position), so a bystander who comes closer never takes over. Offline
    analysis, batch and live mode all follow the lifter through this class.

    Why not MediaPipe's cheaper one-person tracking (``num_poses=1`` in VIDEO
    mode skips the person detector on most frames): it also smooths the
    landmarks over time and places each frame's crop from the smoothed pose,
    so on fast pulls the pose lags and slides off the lifter (measured on the
    real clips, 2026-12-07: bichraix_bad006, bad019 and good011 lost their
    rep, bad_form_several_reps gained one; the rounded back of bad005 went
    unjudged until a detection every half second restarted the tracker).
    A finding a lifter cannot trust is worse than a slower one.

    Parameters
    ----------
    options : PoseOptions
    """

    def __init__(self, options: PoseOptions = PoseOptions()):
        self.options = options
        self._estimator = PoseEstimator(options)
        self._selector: LifterSelector | None = None

    def __enter__(self) -> "LifterFollower":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._estimator.close()

    def reset(self) -> None:
        """Forget whom is followed: the next frame chooses the lifter afresh."""
        if self._selector is not None:
            self._selector.reset()

    def follow(self, frame_bgr: np.ndarray, time_s: float, keep_mask: bool = False) -> PoseFrame:
        """The lifter's pose in this frame (an empty PoseFrame when no one is found)."""
        if self._selector is None:
            self._selector = LifterSelector((frame_bgr.shape[1], frame_bgr.shape[0]))
        people = self._estimator.detect(frame_bgr, time_s, keep_mask=keep_mask)
        return self._selector.choose(people) or PoseFrame.empty(time_s)


#: A frame is analysed when at least this share of the analysis period has
#: passed since the last one: at 30 Hz, a 30 fps video (even with jittery phone
#: timestamps) keeps every frame, 60 fps every second, 120 fps every third.
ANALYSIS_PERIOD_SHARE = 0.75


class AnalysisClock:
    """Says which frames, by presentation time, are analysed at about ``fps`` (0: all).

    >>> clock = AnalysisClock(30.0)
    >>> [clock.due(t) for t in (0, 1/60, 2/60, 3/60, 4/60)]
    [True, False, True, False, True]
    >>> clock = AnalysisClock(30.0)
    >>> [clock.due(t) for t in (0, 1/30, 2/30)], [AnalysisClock(0).due(t) for t in (0, 0.001)]
    ([True, True, True], [True, True])
    """

    def __init__(self, fps: float):
        self.period = ANALYSIS_PERIOD_SHARE / fps if fps else 0.0
        self._next = -np.inf

    def due(self, time_s: float) -> bool:
        if time_s < self._next:
            return False
        self._next = time_s + self.period - 1e-6  # exact multiples of the frame interval count as due
        return True


def estimate_track(
    frames: Iterable[tuple[float, np.ndarray]],
    options: PoseOptions = PoseOptions(),
    meta: dict | None = None,
    on_frame: Callable[[np.ndarray, PoseFrame], None] | None = None,
    on_skipped: Callable[[np.ndarray, float], None] | None = None,
) -> PoseTrack:
    """Run the pose model over ``(time_s, frame_bgr)`` pairs and follow the lifter.

    Parameters
    ----------
    frames : iterable of (float, ndarray)
        Frames in presentation order.
    options : PoseOptions
        ``analysis_fps`` decides which frames are analysed.
    meta : dict, optional
        Stored in the track's ``meta``.
    on_frame : callable, optional
        Called with each analysed frame and the lifter's pose (an empty
        PoseFrame when nobody was found), e.g. to draw and encode while the
        model works.
    on_skipped : callable, optional
        Called with each frame left out by ``analysis_fps`` and its time.

    Returns
    -------
    PoseTrack
        One entry per analysed frame (``source_index`` says which frame of
        the video); frames without the lifter hold NaN.
    """
    chosen = TrackBuilder()
    times: list[float] = []  # of every frame: the video's own rate
    frame_size = (0, 0)
    plates = PlateFinder()
    clock = AnalysisClock(options.analysis_fps)
    with LifterFollower(options) as follower:
        for index, (time_s, frame) in enumerate(frames):
            frame_size = (frame.shape[1], frame.shape[0])
            times.append(time_s)
            if not clock.due(time_s):
                if on_skipped is not None:
                    on_skipped(frame, time_s)
                continue
            pose = plates(frame, follower.follow(frame, time_s))  # the barbell's near plate (formcheck.pose.plate)
            chosen.append(pose, source_index=index)
            if on_frame is not None:
                on_frame(frame, pose)
    track_meta = {"model": MODEL_FILE, "num_poses": options.num_poses, "max_side": options.max_side,
                  "analysis_fps": options.analysis_fps,
                  "source_frames": len(times), "source_fps": float(1.0 / np.median(np.diff(times))) if len(times) > 1 else 0.0}
    track_meta.update(meta or {})
    return plates.finish(chosen.build(frame_size, track_meta))


def iter_poses(
    frames: Iterable[tuple[float, np.ndarray]], options: PoseOptions = PoseOptions(), keep_mask: bool = False
) -> Iterator[tuple[np.ndarray, PoseFrame]]:
    """Streaming form of :func:`estimate_track`: yields ``(frame, lifter_pose)``."""
    plates = PlateFinder()
    with LifterFollower(options) as follower:
        for time_s, frame in frames:
            yield frame, plates(frame, follower.follow(frame, time_s, keep_mask=keep_mask))
