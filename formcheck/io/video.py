"""Video files decoded with PyAV (cameras and other live sources: :mod:`formcheck.io.camera`).

Frames come out as ``(time_s, frame)`` pairs: ``time_s`` is the frame's
presentation time in seconds since the start of the video stream (taken from
the container, so variable-frame-rate phone video keeps its true timing) and
``frame`` is a contiguous, writeable BGR ``uint8`` array turned upright the way
a phone player shows it.

Rotation
--------
Phones store portrait video as landscape pictures plus a *display matrix* in
the container. PyAV (18.x) exposes its rotation per decoded frame as
``VideoFrame.rotation``: degrees **counter-clockwise**, in [-180, 180] (a
portrait iPhone clip reads -90). :attr:`VideoInfo.rotation_deg` reports the
same turn as **clockwise** degrees in {0, 90, 180, 270}, the convention of the
legacy ``rotate`` tag and of OpenCV's ``CAP_PROP_ORIENTATION_META``. Mirroring
in the display matrix (rare) is not applied.

Damaged files
-------------
Unusable input raises :class:`~formcheck.errors.InputError` with a one-line
message; no PyAV exception escapes. A file that is readable but damaged is
not an error, because most of it can still be analysed:

- *truncated* (a cut-off download, a recording interrupted mid-write): the
  frames present are yielded, iteration stops cleanly and
  :attr:`FrameReader.truncated` is True. It is detected from the container's
  sample index pointing past the end of the file, or a read error.
- *corrupt packets* in the middle: each packet the decoder rejects is skipped
  (counted in :attr:`FrameReader.damaged_packets`) and decoding goes on, as
  players do; the next few frames may show smeared blocks until a key frame.

Either way one warning per problem is reported at the end of iteration, to
``on_warning`` if given, else to the ``logging`` module.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import queue
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import av
import cv2
import numpy as np

from formcheck.errors import InputError
from formcheck.io.files import require_file

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Frame rate assumed when a stream declares none (only used to invent the
#: time of a frame that has no timestamp at all).
FALLBACK_FPS = 30.0
#: Frame rates a user may give for a file (``fps=``).
MIN_FPS, MAX_FPS = 1.0, 1000.0
#: A header rate above this is taken as wrong (a clock rate, not frames) and the timestamps asked instead.
MAX_PLAUSIBLE_FPS = 480.0

# Demuxers that read single pictures; a renamed PNG/JPEG opens as a
# one-frame "video" with these.
_IMAGE_FORMAT_SUFFIXES = ("_pipe",)
_IMAGE_FORMATS = {"image2"}

# VideoFrame.rotation is counter-clockwise; cv2.rotate codes by CCW quarter turns.
_CV2_ROTATE_FOR_CCW_QUARTERS = {
    1: cv2.ROTATE_90_COUNTERCLOCKWISE,
    2: cv2.ROTATE_180,
    3: cv2.ROTATE_90_CLOCKWISE,
}


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a video file.

    Attributes
    ----------
    path : str
        The file.
    width, height : int
        Size of the *displayed* frame in pixels (after rotation).
    rotation_deg : int
        Clockwise turn (0, 90, 180 or 270) a player applies to the stored
        picture; :func:`read_frames` applies it too.
    fps : float
        Average frame rate declared by the container (informational: frame
        times come from timestamps). 0 if unknown.
    frame_count : int
        Number of frames according to the container index (an estimate, 0 if
        unknown).
    duration_s : float
        Duration of the video stream in seconds (0 if unknown).
    codec : str
        Decoder name, e.g. ``"h264"``.
    truncated : bool
        The container's index points past the end of the file: the tail of
        the video is missing.
    """

    path: str
    width: int
    height: int
    rotation_deg: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str
    truncated: bool = False


def probe(path: str | os.PathLike, fps: float | None = None) -> VideoInfo:
    """Describe a video file (decodes only its first frame); ``fps`` as in :func:`read_frames`.

    Raises
    ------
    InputError
        If the file is missing, empty, not a video or cannot be decoded, or
        declares no frame rate (and ``fps`` is not given).
    """
    with FrameReader(path, fps=fps) as reader:
        return reader.info


def read_frames(
    path: str | os.PathLike,
    max_side: int | None = None,
    *,
    on_warning: Callable[[str], None] | None = None,
    fps: float | None = None,
) -> "FrameReader":
    """Decode a video file frame by frame.

    Parameters
    ----------
    path : path-like
        The video file.
    max_side : int, optional
        Downscale so the longest side is at most this many pixels (OpenCV,
        ``INTER_AREA`` beyond 2x, ``INTER_LINEAR`` below). Never upscales.
    on_warning : callable, optional
        Receives a one-line message if the file turns out to be truncated or
        damaged; without it the message is logged.
    fps : float, optional
        The frame rate, for a file whose header has none or a wrong one: frame
        ``i`` is then at ``i / fps`` seconds, whatever the container says.

    Returns
    -------
    FrameReader
        An iterator of ``(time_s, frame_bgr)`` with strictly increasing
        ``time_s``; also exposes ``info``, ``truncated``, ``damaged_packets``
        and ``dropped_duplicates``. The file is opened (and bad input
        reported) immediately.

    Raises
    ------
    InputError
        If the file is missing, empty, not a video or cannot be decoded, or
        declares no frame rate (and ``fps`` is not given).
    """
    return FrameReader(path, max_side, on_warning=on_warning, fps=fps)


class FrameReader:
    """Iterator over the upright BGR frames of a video file (see :func:`read_frames`).

    Attributes
    ----------
    info : VideoInfo
    truncated : bool
        The file is cut short (see module docstring); known from the index at
        opening, or found while reading.
    damaged_packets : int
        Packets the decoder rejected and that were skipped.
    dropped_duplicates : int
        Frames skipped because their timestamp did not increase.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        max_side: int | None = None,
        *,
        on_warning: Callable[[str], None] | None = None,
        fps: float | None = None,
    ) -> None:
        if max_side is not None and max_side < 1:
            raise ValueError(f"max_side must be a positive number of pixels, got {max_side}")
        if fps is not None and not (math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
            raise InputError(f"a frame rate of {fps:g} fps is not plausible (give {MIN_FPS:g} to {MAX_FPS:g})")
        self.path = Path(path)
        self.max_side = max_side
        self._on_warning = on_warning
        self.truncated = False
        self.damaged_packets = 0
        self._container, self._stream = _open_video_stream(self.path)
        try:
            self._decoded = self._decode_packets()
            first = next(self._decoded, None)
            if first is None:
                raise InputError(f"{self.path} contains no video frames that can be decoded")
        except BaseException:
            self._container.close()
            raise
        self._pending_first: av.VideoFrame | None = first
        self._ccw_quarter_turns = _ccw_quarter_turns(first.rotation)
        self.info = _describe(self.path, self._container, self._stream, first, self._ccw_quarter_turns)
        if fps is None and _avi_declares_no_rate(self.path, self._container.format.name):
            self._container.close()
            raise InputError(
                f"{self.path} does not say its frame rate (its header gives 0 fps), so its times and tempo "
                "would be guesses; give the rate with --fps N (e.g. --fps 30)"
            )
        if fps is not None:
            self.info = dataclasses.replace(self.info, fps=float(fps))
        self._fixed_rate = fps is not None
        self.truncated = self.info.truncated
        self._times = FrameTimes(
            self._stream.time_base, self._stream.start_time, self.info.fps or FALLBACK_FPS
        )
        self._frames = ((time_s, image) for _, time_s, image in self._upright_frames())

    @property
    def dropped_duplicates(self) -> int:
        return self._times.dropped

    # ------------------------------------------------------------------ iteration
    def __iter__(self) -> "FrameReader":
        return self

    def __next__(self) -> tuple[float, np.ndarray]:
        return next(self._frames)

    def close(self) -> None:
        """Stop decoding and release the file (also done at the end of iteration)."""
        self._frames.close()
        self._decoded.close()
        self._container.close()

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _decode_packets(self) -> Iterator[av.VideoFrame]:
        """Decoded frames, skipping packets the decoder rejects.

        A packet that fails to decode is skipped (``damaged_packets``) and
        decoding goes on, as video players do; a read error from the file
        ends the video (``truncated``).
        """
        decoded_any = False
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError as exc:
                if not decoded_any:
                    raise InputError(f"{self.path} cannot be read as video (FFmpeg: {_reason(exc)})") from None
                self.truncated = True
                log.debug("reading %s stopped: %s", self.path, exc)
                break
            try:
                frames = self._stream.decode(packet)
            except av.FFmpegError as exc:
                self.damaged_packets += 1
                log.debug("skipped a damaged packet in %s: %s", self.path, exc)
                continue
            for frame in frames:
                decoded_any = True
                yield frame
        if not decoded_any and self.damaged_packets:
            raise InputError(f"{self.path} cannot be decoded as video (every packet was rejected)")

    def frames_at(self, indices: Iterable[int]) -> Iterator[tuple[int, float, np.ndarray]]:
        """Only the frames at these 0-based indices, as ``(index, time_s, frame)``.

        The other frames are decoded but never converted to BGR, and decoding
        stops after the last index wanted: several times cheaper than reading
        everything when only a few stills are needed.
        """
        return self._upright_frames(set(indices))

    def _upright_frames(self, wanted: set[int] | None = None) -> Iterator[tuple[int, float, np.ndarray]]:
        last_wanted = max(wanted) if wanted else None
        index = -1
        try:
            while True:
                if self._pending_first is not None:
                    frame, self._pending_first = self._pending_first, None
                else:
                    frame = next(self._decoded, None)
                    if frame is None:
                        break
                time_s = self._times.next_time(None if self._fixed_rate else frame.pts)
                if time_s is None:
                    continue
                index += 1
                if wanted is not None:
                    if index > last_wanted:
                        return
                    if index not in wanted:
                        continue
                yield index, time_s, self._to_bgr(frame)
            if self.truncated:
                self._warn(f"{self.path} is truncated: it ends after {self._times.last_time:.2f} s")
            if self.damaged_packets:
                self._warn(f"{self.path} is damaged: skipped {self.damaged_packets} unreadable packet(s)")
        finally:
            self._container.close()

    def _to_bgr(self, frame: av.VideoFrame) -> np.ndarray:
        image = frame.to_ndarray(format="bgr24")
        if self.max_side is not None and max(image.shape[:2]) > self.max_side:
            # Resize before rotating: the longest side is the same either way.
            scale = self.max_side / max(image.shape[:2])
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            # INTER_AREA avoids aliasing when shrinking more than 2x; below
            # that, bilinear samples every source pixel too and is 2-5x faster
            # than OpenCV's INTER_AREA at non-integer ratios (e.g. 1280 -> 960).
            interpolation = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
            image = cv2.resize(image, size, interpolation=interpolation)
        if self._ccw_quarter_turns:
            image = cv2.rotate(image, _CV2_ROTATE_FOR_CCW_QUARTERS[self._ccw_quarter_turns])
        return np.ascontiguousarray(image)

    def _warn(self, message: str) -> None:
        if self._on_warning is not None:
            self._on_warning(message)
        else:
            log.warning(message)


class FrameTimes:
    """Turns frame timestamps into strictly increasing seconds.

    Parameters
    ----------
    time_base : Fraction
        Seconds per timestamp tick.
    start_pts : int or None
        Timestamp of the stream start (becomes 0 s).
    fps : float
        Used only to place a frame that has no timestamp: 1/fps after the
        previous one.

    Attributes
    ----------
    last_time : float
        Time of the last accepted frame (-inf before the first).
    dropped : int
        Frames rejected because their time did not increase.

    Examples
    --------
    A 90 kHz clock starting at tick 3000, a repeated timestamp and a frame
    without one:

    >>> from fractions import Fraction
    >>> times = FrameTimes(Fraction(1, 90000), start_pts=3000, fps=30.0)
    >>> [times.next_time(pts) for pts in (3000, 6000, 6000, None, 12000)]
    [0.0, 0.03333333333333333, None, 0.06666666666666667, 0.1]
    >>> times.dropped
    1
    """

    def __init__(self, time_base, start_pts: int | None, fps: float) -> None:
        self.time_base = time_base
        self.start_pts = start_pts or 0
        self.frame_interval = 1.0 / fps
        self.last_time = -math.inf
        self.dropped = 0

    def next_time(self, pts: int | None) -> float | None:
        """Seconds for a frame with this timestamp, or None to drop the frame."""
        if pts is None:
            time_s = 0.0 if self.last_time == -math.inf else self.last_time + self.frame_interval
        else:
            time_s = float((pts - self.start_pts) * self.time_base)
        if time_s <= self.last_time:
            self.dropped += 1
            return None
        self.last_time = time_s
        return time_s


# ---------------------------------------------------------------------------- prefetch
_ITEM, _ERROR, _END = "item", "error", "end"


def prefetch(iterable: Iterable[T], maxsize: int = 8) -> Iterator[T]:
    """Run an iterator in a background thread, ``maxsize`` items ahead.

    Decoding (which releases the GIL) then overlaps with the consumer, e.g.
    the pose model on the other core. Exceptions raised by the iterator are
    re-raised in the consumer. If the consumer stops early (``break``, or
    ``close()`` on this generator) the thread stops and, if the iterator has a
    ``close()`` method, closes it.
    """
    items: queue.Queue = queue.Queue(maxsize)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                items.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(iterable)
        try:
            for item in iterator:
                if not put((_ITEM, item)):
                    return
            put((_END, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put((_ERROR, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="formcheck-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = items.get()
            if kind == _ITEM:
                yield payload
            elif kind == _ERROR:
                raise payload
            else:
                return
    finally:
        stop.set()
        thread.join(timeout=5.0)


# ---------------------------------------------------------------------------- helpers
def _open_video_stream(path: Path):
    """Open ``path`` and return ``(container, video_stream)``, or raise InputError."""
    require_file(path, "video file")  # a pipe or device is named, never opened (reading one may wait forever)
    try:
        container = av.open(os.fsdecode(path))
    except PermissionError:
        raise InputError(f"{path} cannot be read (permission denied)") from None
    except av.FFmpegError as exc:
        raise InputError(
            f"{path} is not a readable video (FFmpeg: {_reason(exc)}); is it truncated, or another kind of file?"
        ) from None
    format_name = container.format.name
    if format_name in _IMAGE_FORMATS or format_name.endswith(_IMAGE_FORMAT_SUFFIXES):
        container.close()
        raise InputError(f"{path} is a still image ({format_name.removesuffix('_pipe')}), not a video")
    if not container.streams.video:
        container.close()
        raise InputError(f"{path} has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # frame + slice threads: decode uses both cores
    return container, stream


def _describe(path: Path, container, stream, first: av.VideoFrame, ccw_quarter_turns: int) -> VideoInfo:
    width, height = first.width, first.height
    if ccw_quarter_turns % 2:
        width, height = height, width
    rate = stream.average_rate or stream.guessed_rate
    if (not rate or not MIN_FPS <= float(rate) <= MAX_PLAUSIBLE_FPS) and _indexes_every_frame(container):
        # missing or wrong: the timestamps say (MP4 and AVI index every frame; Matroska only key frames)
        entries = stream.index_entries
        ticks = [entry.timestamp for entry in entries if not entry.is_discard] if len(entries) else []
        rate = rate_from_timestamps(ticks, stream.time_base) or rate
    if stream.duration is not None and stream.time_base is not None:
        duration_s = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration_s = container.duration / av.time_base
    else:
        duration_s = 0.0
    return VideoInfo(
        path=str(path),
        width=width,
        height=height,
        rotation_deg=(4 - ccw_quarter_turns) % 4 * 90,
        fps=float(rate) if rate else 0.0,
        frame_count=_frame_count(stream),
        duration_s=duration_s,
        codec=stream.codec_context.name,
        truncated=_index_points_past_end(stream, path.stat().st_size),
    )


def rate_from_timestamps(ticks, time_base) -> float:
    """Frames per second from frame timestamps (the median step), or 0 with fewer than two.

    >>> from fractions import Fraction
    >>> rate_from_timestamps([0, 3000, 6000, 9000, 12100], Fraction(1, 90000))
    30.0
    """
    if len(ticks) < 2 or not time_base:
        return 0.0
    steps = np.diff(np.sort(np.asarray(ticks, np.float64)))
    steps = steps[steps > 0]
    if not len(steps):
        return 0.0
    return float(1.0 / (np.median(steps) * float(time_base)))


def _indexes_every_frame(container) -> bool:
    names = set(container.format.name.split(","))
    return bool(names & {"mov", "mp4", "avi"})


def _frame_count(stream) -> int:
    entries = stream.index_entries
    if len(entries):
        # Edit-list pre-roll samples are indexed but never shown.
        return sum(1 for entry in entries if not entry.is_discard)
    return int(stream.frames or 0)


def _index_points_past_end(stream, file_size: int) -> bool:
    """True when the container's sample index (MP4/MOV) refers to bytes the file lacks."""
    entries = stream.index_entries
    if not len(entries):
        return False
    return max(entry.pos + entry.size for entry in entries) > file_size


def _ccw_quarter_turns(rotation: int | float) -> int:
    quarters = round(rotation / 90.0)
    if abs(rotation - 90.0 * quarters) > 1.0:
        log.warning("display rotation of %s degrees rounded to %d", rotation, 90 * quarters)
    return quarters % 4


def _avi_declares_no_rate(path: Path, format_name: str) -> bool:
    """True for an AVI whose header gives no frame rate at all.

    Its timestamps count frames, and the seconds per frame come from the
    stream header's ``dwRate / dwScale`` or else the main header's
    ``dwMicroSecPerFrame``. When both are 0 FFmpeg quietly assumes 25 fps,
    which is wrong for most phone and webcam video (a 30 fps set would
    read 20 % slow).
    """
    if format_name != "avi":
        return False
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    return _avi_header_rates(head) == (0, 0.0)


def _avi_header_rates(head: bytes) -> tuple[int, float] | None:
    """``(microseconds per frame, video stream rate/scale)`` from the first bytes of an AVI, or None.

    >>> import struct
    >>> avih = b"avih" + struct.pack("<I", 56) + struct.pack("<I", 33333) + bytes(52)
    >>> strh = b"strh" + struct.pack("<I", 56) + b"vids" + bytes(16) + struct.pack("<II", 1, 30) + bytes(28)
    >>> _avi_header_rates(b"RIFF....AVI LIST....hdrl" + avih + b"LIST....strl" + strh)
    (33333, 30.0)
    """
    avih = head.find(b"avih")
    strh = head.find(b"strh")  # the first stream's header: formcheck reads the first video stream
    if avih < 0 or strh < 0 or len(head) < max(avih + 12, strh + 36):
        return None
    (usec,) = struct.unpack_from("<I", head, avih + 8)
    scale, rate = struct.unpack_from("<II", head, strh + 28)
    return usec, (rate / scale if scale and rate else 0.0)


def _reason(exc: BaseException) -> str:
    """FFmpeg's own words, without the errno and file name PyAV adds."""
    return getattr(exc, "strerror", None) or str(exc)
