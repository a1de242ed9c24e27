"""Annotated video output: H.264 MP4 that browsers and phones play.

:class:`VideoWriter` encodes with PyAV's libx264 (yuv420p, ``+faststart`` so
playback starts before the whole file has downloaded) on a background thread,
so encoding overlaps with pose estimation. It writes to a hidden temporary
file beside the target and renames it into place only when closed
successfully: a crash or an exception never leaves a half-written video under
the final name.

If the PyAV build lacks libx264, it falls back to OpenCV's MPEG-4 Part 2
(``mp4v``) with a warning; that plays in desktop players but not in web
browsers.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import threading
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

log = logging.getLogger(__name__)

#: Timestamp resolution of the written stream (the MPEG system clock):
#: every common frame rate, 30000/1001 included, is a whole number of ticks.
TIME_BASE = Fraction(1, 90000)

_CLOSE, _ABORT = "close", "abort"
# FFmpeg's AVColorSpace / AVColorRange values (PyAV's Colorspace enum holds
# swscale's different numbering).
_AVCOL_SPC_SMPTE170M = 6
_AVCOL_RANGE_MPEG = 1
_CONTAINERS_WITH_FASTSTART = {".mp4", ".m4v", ".mov"}


def frame_size_for(width: int, height: int, max_side: int | None = None) -> tuple[int, int]:
    """Size to resize frames to so the longest side is at most ``max_side``.

    Returns ``(width, height)`` unchanged when no downscaling is needed (the
    writer pads an odd side itself); otherwise even dimensions, as H.264 in
    yuv420p needs, keeping the aspect ratio as closely as even rounding allows.

    Examples
    --------
    >>> frame_size_for(1920, 1080, 960), frame_size_for(1081, 1921, 960)
    ((960, 540), (540, 960))
    >>> frame_size_for(641, 480, 960)
    (641, 480)
    """
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    limit = max(2, max_side - max_side % 2)

    def even(value: float) -> int:
        return min(limit, max(2, int(round(value / 2.0)) * 2))

    return even(width * scale), even(height * scale)


def h264_available() -> bool:
    """PyAV was built with the libx264 encoder."""
    return "libx264" in av.codecs_available


class VideoWriter:
    """Write BGR frames to a video file in a background thread.

    Parameters
    ----------
    path : path-like
        Final file (``.mp4`` recommended). Its folder must exist.
    fps : float
        Nominal frame rate (frames written without a time are spaced 1/fps).
    size : (int, int)
        (width, height) of the frames. Odd sizes are padded by one pixel
        (edge pixels repeated) to the even size H.264 needs; frames of
        another size are resized to ``size``.
    codec : {"h264", "mp4v"}
        "h264": libx264 via PyAV (falls back to "mp4v" if unavailable);
        "mp4v": OpenCV's MPEG-4 Part 2 writer.
    crf : int
        x264 constant rate factor (lower = better quality, bigger file).
    preset : str
        x264 speed preset.
    queue_size : int
        Frames buffered for the encoder before :meth:`write` blocks.

    Attributes
    ----------
    output_size : (int, int)
        (width, height) of the encoded video (``size`` rounded up to even).
    codec : str
        The codec actually used.
    frames_written : int

    Examples
    --------
    >>> with VideoWriter("out.mp4", fps=30, size=(640, 360)) as video:  # doctest: +SKIP
    ...     for time_s, frame in frames:
    ...         video.write(frame, time_s)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        size: tuple[int, int],
        codec: str = "h264",
        *,
        crf: int = 23,
        preset: str = "veryfast",
        queue_size: int = 16,
    ) -> None:
        if codec not in ("h264", "mp4v"):
            raise ValueError(f"codec must be 'h264' or 'mp4v', got {codec!r}")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"cannot write {self.path}: folder {self.path.parent} does not exist")
        self.size = (int(size[0]), int(size[1]))
        self.output_size = (self.size[0] + self.size[0] % 2, self.size[1] + self.size[1] % 2)
        self.fps = Fraction(fps).limit_denominator(1001)
        if codec == "h264" and not h264_available():
            log.warning(
                "libx264 is not available in this PyAV build: writing %s as mp4v, which web browsers cannot play",
                self.path,
            )
            codec = "mp4v"
        self.codec = codec
        # Hidden name, same folder (so os.replace is atomic), same suffix (so
        # the muxer is chosen from it).
        self._temp_path = self.path.with_name(f".{self.path.stem}.{secrets.token_hex(4)}.part{self.path.suffix}")
        if codec == "h264":
            self._encoder = _PyAVEncoder(self._temp_path, self.fps, self.output_size, crf, preset)
        else:
            self._encoder = _OpenCVEncoder(self._temp_path, self.fps, self.output_size)
        self.frames_written = 0
        self._first_time_s: float | None = None
        self._last_pts = -1
        self._queue: queue.Queue = queue.Queue(queue_size)
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._encode_loop, name="formcheck-video-writer", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public
    def write(self, frame_bgr: np.ndarray, time_s: float | None = None) -> None:
        """Queue one frame for encoding (blocks only while the queue is full).

        Parameters
        ----------
        frame_bgr : ndarray, shape (H, W, 3), uint8
            The frame; it is copied, so the caller may draw on it afterwards.
        time_s : float, optional
            Presentation time in seconds (kept exactly, for variable frame
            rate); the first frame's time becomes 0. Without it, the frame
            follows the previous one after 1/fps. Give times for all frames
            or for none. The mp4v fallback ignores times.
        """
        if self._closed:
            raise ValueError(f"write to closed VideoWriter ({self.path})")
        self._raise_encoder_error()
        self._enqueue((self._prepare(frame_bgr), self._next_pts(time_s)))
        self.frames_written += 1

    def close(self) -> Path:
        """Finish encoding and move the file into place.

        Returns
        -------
        Path
            The final file.

        Raises
        ------
        ValueError
            If no frame was written (no file is left behind).
        """
        if self._closed:
            return self.path
        self._closed = True
        if self.frames_written == 0:
            self._stop(_ABORT)
            raise ValueError(f"no frames were written to {self.path}")
        self._stop(_CLOSE)
        if self._error is not None:
            self._temp_path.unlink(missing_ok=True)
            self._raise_encoder_error()
        os.replace(self._temp_path, self.path)
        return self.path

    def abort(self) -> None:
        """Stop without producing a file (removes the temporary file)."""
        if self._closed:
            return
        self._closed = True
        self._stop(_ABORT)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # ------------------------------------------------------------------ internals
    def _prepare(self, frame_bgr: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame_bgr)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got {frame.dtype} {frame.shape}")
        width, height = self.size
        if frame.shape[:2] != (height, width):
            shrinking = frame.shape[1] > width
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        if self.output_size != self.size:
            pad_right, pad_bottom = self.output_size[0] - width, self.output_size[1] - height
            return cv2.copyMakeBorder(frame, 0, pad_bottom, 0, pad_right, cv2.BORDER_REPLICATE)
        # The encoder reads the frame later, on another thread: copy so the
        # caller can reuse or draw on its buffer.
        return np.array(frame, order="C", copy=True)

    def _next_pts(self, time_s: float | None) -> int:
        if time_s is None or not np.isfinite(time_s):
            pts = 0 if self._last_pts < 0 else self._last_pts + round(1 / (self.fps * TIME_BASE))
        else:
            if self._first_time_s is None:
                self._first_time_s = float(time_s)
            pts = round((float(time_s) - self._first_time_s) / TIME_BASE)
        pts = max(pts, self._last_pts + 1, 0)  # the muxer needs strictly increasing times
        self._last_pts = pts
        return pts

    def _enqueue(self, item) -> None:
        while True:
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    self._raise_encoder_error()
                    raise RuntimeError(f"video encoder for {self.path} stopped")

    def _stop(self, command: str) -> None:
        if self._thread.is_alive():
            if command == _ABORT:
                _drain(self._queue)
            self._enqueue(command)
            self._thread.join()
        if command == _ABORT:
            self._temp_path.unlink(missing_ok=True)

    def _encode_loop(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item == _ABORT:
                    self._encoder.abandon()
                    return
                if item == _CLOSE:
                    self._encoder.finish()
                    return
                frame, pts = item
                self._encoder.encode(frame, pts)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            self._error = exc
            self._encoder.abandon()

    def _raise_encoder_error(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"encoding {self.path} failed: {self._error}") from self._error


class _PyAVEncoder:
    """H.264 (libx264) in an MP4/MOV/MKV container via PyAV."""

    def __init__(self, path: Path, fps: Fraction, size: tuple[int, int], crf: int, preset: str) -> None:
        options = {"movflags": "+faststart"} if path.suffix.lower() in _CONTAINERS_WITH_FASTSTART else {}
        self._container = av.open(str(path), "w", options=options)
        try:
            self._stream = self._container.add_stream(
                "libx264", rate=fps, options={"crf": str(crf), "preset": preset}
            )
            self._stream.width, self._stream.height = size
            self._stream.pix_fmt = "yuv420p"
            self._stream.codec_context.time_base = TIME_BASE
            # Frames are converted as BT.601, limited range (see encode); say
            # so, or players guess BT.709 for HD and shift the colours.
            self._stream.codec_context.colorspace = _AVCOL_SPC_SMPTE170M
            self._stream.codec_context.color_range = _AVCOL_RANGE_MPEG
        except BaseException:
            self._container.close()
            path.unlink(missing_ok=True)
            raise

    def encode(self, frame_bgr: np.ndarray, pts: int) -> None:
        # OpenCV's BGR→I420 is exact BT.601 limited range and ~6x faster than
        # swscale's default, which also shifts greys by 2-4 levels.
        yuv = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2YUV_I420)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = pts
        frame.time_base = TIME_BASE
        self._container.mux(self._stream.encode(frame))

    def finish(self) -> None:
        self._container.mux(self._stream.encode(None))  # flush delayed frames
        self._container.close()

    def abandon(self) -> None:
        try:
            self._container.close()
        except av.FFmpegError:
            pass  # the file is being discarded anyway


class _OpenCVEncoder:
    """MPEG-4 Part 2 via OpenCV (fallback when libx264 is missing)."""

    def __init__(self, path: Path, fps: Fraction, size: tuple[int, int]) -> None:
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), size)
        if not self._writer.isOpened():
            path.unlink(missing_ok=True)
            raise OSError(f"OpenCV cannot write {path}")

    def encode(self, frame_bgr: np.ndarray, pts: int) -> None:
        self._writer.write(frame_bgr)  # constant frame rate: timestamps are not kept

    def finish(self) -> None:
        self._writer.release()

    def abandon(self) -> None:
        self._writer.release()


def _drain(items: queue.Queue) -> None:
    while True:
        try:
            items.get_nowait()
        except queue.Empty:
            return
