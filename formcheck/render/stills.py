"""Key frames of ``report.html``: which frames, decoded from the video, drawn on, cached.

Per rep three stills (:func:`pick_key_frames`): set-up, the bottom (or for a
pull from the floor the middle of the pull, or its most rounded moment) and
lockout. :func:`grab_key_frames` decodes them from the video
(:func:`formcheck.io.video.read_frames`, stopping after the last one), crops
each to the lifter, and draws what the analysis graded:

* the back line is the one the spine was judged from
  (:attr:`SpineEstimate.dorsal_points <formcheck.spine.SpineEstimate>`),
  drawn on the frames whose lumbar flexion was assessed;
* the skeleton's hip is the hip that line was measured from
  (:attr:`SpineEstimate.hip_xy <formcheck.spine.SpineEstimate>`): for a
  deadlift the hip placed from the back's outline, not the pose model's.

Both come from :func:`formcheck.analysis.offline.graded_spine`, the same
stages as the analysis (:func:`graded_pose`). Stills can be kept in a cache
folder between runs (re-writing the page after a re-analysis of the same
landmarks then decodes nothing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from formcheck.analysis.offline import graded_spine
from formcheck.errors import InputError
from formcheck.exercises import EXERCISES
from formcheck.io import video as video_io
from formcheck.io.files import write_bytes_atomic
from formcheck.io.provenance import FORMCHECK_VERSION
from formcheck.measure.kinematics import midpoint
from formcheck.pose import landmarks as lm
from formcheck.pose.filters import smooth_track
from formcheck.pose.track import PoseTrack
from formcheck.render.annotators import BackCurveAnnotator, HaloAnnotator, Keypoints, SkeletonAnnotator
from formcheck.render.plots import column
from formcheck.render.words import is_number, pulls_from_floor, shown_name

#: Height of an embedded still (shown at about 2/3 of it, sharp on high-density screens).
STILL_HEIGHT = 480
#: How much smaller the skeleton layer is drawn (so its lines come out bolder).
_LAYER_FACTOR = 2
_BACK_LAYER_FACTOR = 3  # the back outline bolder still: it is what a coach looks for
_JPEG_QUALITY = 82
#: Landmarks left out of stills (eyes, mouth, fingers): at thumbnail size they are clutter.
_STILL_HIDDEN = (1, 2, 3, 4, 5, 6, 9, 10, 17, 18, 19, 20, 21, 22)
#: The annotators of a still: the graded back line under the skeleton, both bold with a dark rim.
_BACK = HaloAnnotator(BackCurveAnnotator(), factor=_BACK_LAYER_FACTOR)
_SKELETON = HaloAnnotator(SkeletonAnnotator(hidden=_STILL_HIDDEN), factor=_LAYER_FACTOR)
#: Bumped whenever stills are drawn from other data (2: the graded hip and back line).
_DRAWING_VERSION = 2


@dataclass(frozen=True)
class KeyFrame:
    """One still for the report: an encoded image of a moment in a rep."""

    rep: int
    label: str
    time_s: float
    image: bytes
    mime: str = "image/jpeg"


@dataclass(frozen=True, eq=False)
class GradedPose:
    """What the stills draw, per frame of the track (pose pixels).

    Attributes
    ----------
    track : PoseTrack
        The smoothed track, as analysed (it also sets the crop).
    xy : ndarray, shape (n, 33, 2)
        Its landmarks with both hip landmarks moved so that their midpoint is
        the graded hip (unchanged where the model's hip was graded).
    back : ndarray, shape (n, k, 2), or None
        The graded back line (``SpineEstimate.dorsal_points``); None when no
        spine was estimated (an exercise the registry does not know).
    hip : ndarray, shape (n, 2), or None
        The graded hip (``SpineEstimate.hip_xy``).
    """

    track: PoseTrack
    xy: np.ndarray
    back: np.ndarray | None
    hip: np.ndarray | None


# ====================================================================== which frames
def pick_key_frames(
    report: Mapping[str, Any], time_s: np.ndarray | None, frame_numbers: np.ndarray | None = None
) -> list[tuple[int, str, int]]:
    """Which frames of the video to show per rep, as ``(rep, label, frame number)``.

    Squat: set-up (rep start), bottom, lockout. Deadlift: set-up (start of the
    pull), mid-pull (or the most rounded moment when the lower back rounded
    past a threshold), lockout.

    Parameters
    ----------
    report : mapping
        ``report.json`` as a dict.
    time_s : ndarray or None
        Time of each analysed frame (the track's, best: ``angles.csv`` keeps
        only 4 significant digits); None falls back to the frame rate.
    frame_numbers : ndarray or None
        The video frame of each of those (``PoseTrack.source_index`` or
        angles.csv's ``frame``: a 60 fps video analysed at 30 Hz); None when
        every frame was analysed.
    """
    time = None if time_s is None else np.asarray(time_s, np.float64)
    n_frames = int((report.get("video", {}) or {}).get("frames") or (len(time) if time is not None else 0))
    fps = float((report.get("video", {}) or {}).get("fps") or 30.0)

    def index_at(t: float) -> int:
        if time is not None and len(time):
            i = int(np.searchsorted(time, t))
            if i > 0 and (i >= len(time) or abs(time[i - 1] - t) <= abs(time[i] - t)):
                i -= 1
            i = int(np.clip(i, 0, len(time) - 1))
            return int(frame_numbers[i]) if frame_numbers is not None and i < len(frame_numbers) else i
        return int(np.clip(round(t * fps), 0, max(n_frames - 1, 0)))

    def middle_of(rep, phase: str) -> int | None:
        span = (rep.get("phases", {}) or {}).get(phase)
        return index_at(0.5 * (span[0] + span[1])) if span and None not in span else None

    picks = []
    for rep in report.get("reps", []):
        index = int(rep["index"])
        frames = rep.get("frames", {}) or {}
        start, bottom, end = (int(frames.get(k, 0)) for k in ("start", "bottom", "end"))
        last = max(start, end - 1)
        lockout = middle_of(rep, "lockout")
        if pulls_from_floor(report.get("exercise")):
            middle, label = middle_of(rep, "ascent"), "Mid-pull"
            peak = (rep.get("metrics", {}) or {}).get("peak_flexion_time_s")
            if any(f["code"] == "lumbar_flexion" for f in rep.get("faults", [])) and is_number(peak):
                middle, label = index_at(peak), "Most rounded"
            chosen = [("Set-up", bottom), (label, middle if middle is not None else bottom),
                      ("Lockout", lockout if lockout is not None else last)]
        else:
            chosen = [("Set-up", start), ("Bottom", bottom), ("Lockout", lockout if lockout is not None else last)]
        picks.extend((index, label, int(i)) for label, i in chosen)
    return picks


# ====================================================================== what is drawn
def graded_pose(track: PoseTrack, exercise: str | None) -> GradedPose | None:
    """The pose and back line the analysis graded, for drawing (None if no one was seen).

    Parameters
    ----------
    track : PoseTrack
        The raw track (``landmarks.npz``), as the analysis was given it.
    exercise : str or None
        The report's exercise: it chooses the hip the back was measured from
        (``Exercise.spine_calibration``).
    """
    if not track.detected.any():
        return None
    if exercise not in EXERCISES:
        smoothed = smooth_track(track)
        return GradedPose(smoothed, smoothed.xy.astype(np.float64), None, None)
    smoothed, spine = graded_spine(track, exercise)
    xy = smoothed.xy.astype(np.float64)
    if spine.hip_xy is not None:
        # Move both hip landmarks with their midpoint: the skeleton's hip is then the graded one.
        shift = spine.hip_xy - midpoint(xy, "hip")
        shift[~np.isfinite(shift).all(axis=1)] = 0.0
        xy[:, [lm.LEFT_HIP, lm.RIGHT_HIP]] += shift[:, None, :]
    return GradedPose(smoothed, xy, spine.dorsal_points, spine.hip_xy)


def grab_key_frames(
    video: Path,
    picks: Sequence[tuple[int, str, int]],
    track: PoseTrack | None = None,
    frames_table: Mapping[str, Any] | None = None,
    *,
    exercise: str | None = None,
    cache: str | Path | None = None,
) -> list[KeyFrame]:
    """Decode the picked frames, draw the graded pose and back line, crop to the lifter, encode JPEG.

    Frames are decoded in order and decoding stops after the last one needed.

    Parameters
    ----------
    video : Path
    picks : sequence of (rep, label, frame index)
        From :func:`pick_key_frames`.
    track : PoseTrack, optional
        The analysed track (``landmarks.npz``): it gives the skeleton, the
        back line and the crop (:func:`graded_pose`); without it the whole
        frame is shown undrawn.
    frames_table : mapping, optional
        The report's per-frame table: the back line is drawn only on frames
        whose lumbar flexion was assessed (a finite ``lumbar_flexion``).
    exercise : str, optional
        The report's exercise, which chose the hip the back was graded from.
    cache : path-like, optional
        A folder where each still is also stored under a name made of
        everything it is drawn from (the video file and the track's content,
        the exercise, the frame, the frames of its rep that set the crop,
        whether the back line is drawn), and taken from there when all picks
        are found: a still does not depend on the thresholds, so re-analysing
        the same landmarks with another profile decodes nothing.

    Returns
    -------
    list of KeyFrame
        In the order of ``picks`` (those that could be decoded).
    """
    if not picks:
        return []
    lumbar = column(frames_table or {}, "lumbar_flexion")
    stored = (
        _StillCache(Path(cache), video, track, exercise, picks, lumbar) if cache is not None and track is not None else None
    )
    if stored is not None and (cached := stored.load()) is not None:
        return cached
    wanted: dict[int, list[tuple[int, str]]] = {}
    for rep, label, index in picks:
        wanted.setdefault(index, []).append((rep, label))
    pose = graded_pose(track, exercise) if track is not None else None
    # Picks are video frames; the track holds the analysed ones (all, or every second at 60 fps).
    row = (lambda frame: frame) if track is None else (lambda frame: track_row(track.source_index, frame))
    crops = _rep_crops([(r, label, row(i)) for r, label, i in picks], pose.track) if pose is not None else {}
    grabbed: dict[tuple[int, str], KeyFrame] = {}
    try:
        reader = video_io.read_frames(video)
    except InputError:
        return []
    with reader:
        for frame_number, time_s, frame in reader.frames_at(wanted):
            i = row(frame_number)
            for rep, label in wanted[frame_number]:
                xy = vis = curve = None
                if pose is not None and i < len(pose.track):
                    sx = frame.shape[1] / pose.track.frame_size[0]
                    sy = frame.shape[0] / pose.track.frame_size[1]
                    scale = np.array([sx, sy])
                    xy, vis = pose.xy[i] * scale, pose.track.visibility[i]
                    if pose.back is not None and lumbar is not None and i < len(lumbar) and np.isfinite(lumbar[i]):
                        curve = pose.back[i] * scale
                    crop = crops.get(rep)
                    crop = None if crop is None else (crop * np.array([sx, sy, sx, sy])).astype(int)
                else:
                    crop = None
                image = draw_still(frame, xy, vis, curve, crop)
                grabbed[(rep, label)] = KeyFrame(rep, label, float(time_s), image)
                if stored is not None:
                    stored.save(rep, label, image)
    return [grabbed[(rep, label)] for rep, label, _ in picks if (rep, label) in grabbed]


def draw_still(
    frame: np.ndarray,
    xy: np.ndarray | None,
    visibility: np.ndarray | None,
    back: np.ndarray | None,
    crop: Sequence[int] | None = None,
) -> bytes:
    """One key frame as JPEG: cropped, resized to :data:`STILL_HEIGHT`, the back line and skeleton drawn.

    Parameters
    ----------
    frame : ndarray
        The decoded BGR frame (left untouched).
    xy, visibility : ndarray or None
        Landmarks ``(33, 2)`` in the frame's pixels (None: no skeleton).
    back : ndarray or None
        The back line ``(k, 2)`` in the frame's pixels (None: not drawn).
    crop : (x0, y0, x1, y1), optional
        The part of the frame to keep.
    """
    if crop is not None:
        x0, y0, x1, y1 = crop
        frame = frame[y0:y1, x0:x1]
        offset = np.array([x0, y0], np.float64)
    else:
        offset = np.zeros(2)
    zoom = STILL_HEIGHT / frame.shape[0]
    size = (max(2, round(frame.shape[1] * zoom)), STILL_HEIGHT)
    still = cv2.resize(frame, size, interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
    if back is not None:
        _BACK.annotate(still, (back - offset) * zoom)
    if xy is not None:
        _SKELETON.annotate(still, Keypoints((xy - offset) * zoom, visibility))
    ok, encoded = cv2.imencode(".jpg", still, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise RuntimeError("could not encode a key frame as JPEG")
    return encoded.tobytes()


def track_row(source_index: np.ndarray, frame_number: int) -> int:
    """The row of the track analysed nearest to a video frame.

    >>> import numpy as np
    >>> track_row(np.array([0, 2, 4]), 3), track_row(np.array([0, 2, 4]), 4), track_row(np.arange(5), 3)
    (1, 2, 3)
    """
    if len(source_index) == 0:
        return frame_number
    i = int(np.searchsorted(source_index, frame_number))
    if i > 0 and (i >= len(source_index) or frame_number - source_index[i - 1] <= source_index[i] - frame_number):
        i -= 1
    return i


def _rep_crops(picks, track) -> dict[int, np.ndarray]:
    """Per rep, a box ``(x0, y0, x1, y1)`` in track pixels around the lifter in its key frames."""
    boxes: dict[int, np.ndarray] = {}
    w, h = track.frame_size
    for rep in sorted({p[0] for p in picks}):
        indices = [i for r, _, i in picks if r == rep and i < len(track)]
        pts = track.xy[indices].reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) < 4:
            continue
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        size = max(x1 - x0, y1 - y0)
        # Room for the head above the face landmarks, plates and bar around the body.
        x0, x1 = x0 - 0.18 * size, x1 + 0.18 * size
        y0, y1 = y0 - 0.22 * size, y1 + 0.1 * size
        # Not too tall and thin nor too wide: between 3:4 portrait and 4:3 landscape.
        bw, bh = x1 - x0, y1 - y0
        if bw < 0.75 * bh:
            x0, x1 = x0 - (0.75 * bh - bw) / 2, x1 + (0.75 * bh - bw) / 2
        elif bw > 1.33 * bh:
            y0, y1 = y0 - (bw / 1.33 - bh) / 2, y1 + (bw / 1.33 - bh) / 2
        box = np.array([max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)])
        if box[2] - box[0] >= 16 and box[3] - box[1] >= 16:
            boxes[rep] = box
    return boxes


# ====================================================================== the cache
#: Changes whenever stills would be drawn differently (invalidates cached ones). The version covers
#: changes of the smoothing and back-outline code the drawing uses.
_STILL_STYLE = (
    f"{FORMCHECK_VERSION}-{_DRAWING_VERSION}-{STILL_HEIGHT}-{_LAYER_FACTOR}-{_BACK_LAYER_FACTOR}-{_JPEG_QUALITY}-"
    f"{list(_STILL_HIDDEN)}"
)


class _StillCache:
    """Key-frame JPEGs kept between runs, named by what they are drawn from."""

    def __init__(self, folder: Path, video: Path, track: PoseTrack, exercise: str | None, picks, lumbar):
        digest = hashlib.sha256(_STILL_STYLE.encode())
        digest.update(f"{Path(video).stat().st_size}:{track.frame_size}:{len(track)}:{exercise}".encode())
        for array in (track.time_s, track.xy, track.visibility, track.detected, track.trunk_edges):
            if array is not None:
                digest.update(np.ascontiguousarray(array).tobytes())
        # What a later stage stored with the track (the placed hip) and its version.
        for name in sorted(track.derived):
            digest.update(f"{name}:{track.meta.get('derived', {}).get(name)}".encode())
            digest.update(np.ascontiguousarray(track.derived[name]).tobytes())
        self.folder = folder / digest.hexdigest()[:24]
        self.track = track
        self.picks = picks
        rep_frames = {rep: "_".join(str(i) for r, _, i in picks if r == rep) for rep, _, _ in picks}
        self.names = {}
        for rep, label, i in picks:
            back = lumbar is not None and i < len(lumbar) and bool(np.isfinite(lumbar[i]))
            self.names[(rep, label)] = f"{i}-{rep_frames[rep]}-{int(back)}.jpg"

    def load(self) -> list[KeyFrame] | None:
        """Every pick's still, or None if any is missing."""
        key_frames = []
        for rep, label, i in self.picks:
            if i >= len(self.track):
                return None
            try:
                image = (self.folder / self.names[(rep, label)]).read_bytes()
            except OSError:
                return None
            key_frames.append(KeyFrame(rep, label, float(self.track.time_s[i]), image))
        return key_frames

    def save(self, rep: int, label: str, image: bytes) -> None:
        try:
            write_bytes_atomic(self.folder / self.names[(rep, label)], image)
        except OSError:  # a cache we cannot write only costs time
            pass


# ====================================================================== finding the inputs
def find_video(report: Mapping[str, Any], out_dir: Path, video: str | Path | None = None) -> Path | None:
    """The analysed video: ``video`` if given, else the report's source (as given, or beside ``out_dir``)."""
    if video is not None:
        path = Path(video)
        return path if path.is_file() else None
    source = str(report.get("source", "") or "")
    if not source or source.lower().endswith(".npz"):
        return None
    path = Path(source)
    for candidate in (path, out_dir / path, out_dir / path.name):
        if candidate.is_file():
            return candidate
    return None


def missing_video_note(report: Mapping[str, Any], video=None) -> str:
    """Why the page shows no key frames, when the video was not found."""
    name = shown_name(str(video) if video is not None else report.get("source", ""))
    if name.lower().endswith(".npz"):
        return "Key frames are not shown: this analysis was made from saved landmarks, without the video."
    return (f"Key frames are not shown: the video {name} was not found "
            "(regenerate with `formcheck report DIR --video PATH`).")


def load_track(path: Path) -> PoseTrack | None:
    """The folder's ``landmarks.npz``, or None when it is missing or unreadable (no stills drawn on)."""
    if not path.is_file():
        return None
    try:
        return PoseTrack.load(path)
    except (ValueError, OSError):
        return None
