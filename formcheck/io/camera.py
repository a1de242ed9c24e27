"""Live video sources: a camera (OpenCV) or a file played like one.

A live source runs a capture thread that keeps only the newest frame
(:class:`LatestFrameSource`): a consumer slower than the camera works on the
present instead of falling behind. :meth:`LatestFrameSource.read_latest`
hands frames over as ``(capture_time_s, frame_bgr)``, ``capture_time_s``
being ``time.monotonic()`` at capture.

- :class:`CameraSource` / :func:`open_camera`: a camera index or stream URL
  read with ``cv2.VideoCapture``.
- :class:`PacedFileSource`: a video file (decoded by
  :func:`formcheck.io.video.read_frames`) released at its own frame times, for
  live benchmarks and tests.
"""

from __future__ import annotations

import glob
import os
import sys
import threading
import time

import cv2
import numpy as np

from formcheck.errors import InputError
from formcheck.io.video import read_frames

#: Highest camera index taken (Linux numbers its cameras /dev/video0 … /dev/video255).
MAX_CAMERA_INDEX = 255


def check_camera_index(index: int) -> int:
    """``index`` if a camera may be opened there, else :class:`~formcheck.errors.InputError`.

    Checked before OpenCV sees it: ``cv2.VideoCapture(-1)`` ("any camera")
    crashes the process with a segmentation fault on a machine without one,
    and an index beyond a C int gives a page of overload errors. On Linux a
    camera ``N`` is ``/dev/videoN``, so a missing one is named at once.

    >>> check_camera_index(-1)
    Traceback (most recent call last):
    formcheck.errors.InputError: camera index -1 is negative: cameras are numbered from 0 (the first one)
    """
    if isinstance(index, bool) or not isinstance(index, int):
        raise InputError(f"camera index {index!r} is not a whole number")
    if index < 0:
        raise InputError(f"camera index {index} is negative: cameras are numbered from 0 (the first one)")
    if index > MAX_CAMERA_INDEX:
        raise InputError(f"camera index {index} is not a camera number (use 0 to {MAX_CAMERA_INDEX}; 0 is the first camera)")
    if sys.platform.startswith("linux") and os.path.isdir("/dev") and not os.path.exists(f"/dev/video{index}"):
        present = sorted(int(p[len("/dev/video"):]) for p in glob.glob("/dev/video[0-9]*") if p[len("/dev/video"):].isdigit())
        have = f"cameras here: {', '.join(map(str, present))}" if present else "this machine has no camera"
        raise InputError(f"no camera at index {index} ({have})")
    return index


class LatestFrameSource:
    """Base of live sources: a capture thread keeps only the newest frame.

    Frames the consumer did not take before the next one arrived are dropped
    (counted in ``dropped``), never queued, so a slow consumer always works on
    the present rather than falling further behind.
    """

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._latest: tuple[float, np.ndarray] | None = None
        self._published = 0  # sequence number of the newest frame
        self._taken = 0  # sequence number of the last frame handed out
        self._ended = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self.captured = 0
        self.dropped = 0

    def _start(self) -> None:
        self._thread.start()

    def read_latest(self, timeout: float | None = 1.0) -> tuple[float, np.ndarray] | None:
        """The newest frame not yet returned, waiting up to ``timeout`` seconds.

        Returns
        -------
        (capture_time_s, frame_bgr) or None
            ``capture_time_s`` is ``time.monotonic()`` when the frame was
            captured. None on timeout or once the source has ended.
        """
        with self._ready:
            self._ready.wait_for(lambda: self._published != self._taken or self._ended, timeout)
            if self._published == self._taken:
                if self._error is not None:
                    error, self._error = self._error, None
                    raise error
                return None
            self._taken = self._published
            self._ready.notify_all()
            return self._latest

    @property
    def ended(self) -> bool:
        """The source delivers no more frames and the last one was read."""
        with self._ready:
            return self._ended and self._published == self._taken

    def close(self) -> None:
        """Stop the capture thread and release the device or file."""
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- for subclasses
    def _publish(self, capture_time_s: float, frame: np.ndarray) -> None:
        with self._ready:
            if self._published != self._taken:
                self.dropped += 1
            self._latest = (capture_time_s, frame)
            self._published += 1
            self._ready.notify_all()
        self.captured += 1

    def _wait_until_taken(self) -> None:
        with self._ready:
            self._ready.wait_for(lambda: self._published == self._taken or self._stop.is_set())

    def _run(self) -> None:
        try:
            self._capture_loop()
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._error = exc
        finally:
            with self._ready:
                self._ended = True
                self._ready.notify_all()

    def _capture_loop(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        pass


class CameraSource(LatestFrameSource):
    """A camera (index) or stream URL read with ``cv2.VideoCapture``.

    Raises
    ------
    InputError
        If the capture cannot be opened.
    """

    def __init__(self, source: int | str = 0) -> None:
        if not isinstance(source, str):
            check_camera_index(source)
        super().__init__()
        self.source = source
        self._capture = cv2.VideoCapture(source)
        if not self._capture.isOpened():
            self._capture.release()
            where = f"at index {source}" if isinstance(source, int) else f"at {source}"
            raise InputError(f"no camera {where}")
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.size = (
            int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        self._start()

    def _capture_loop(self) -> None:
        while not self._stop.is_set():
            # grab() returns when the frame arrives; stamp it before the
            # (slower) decode in retrieve().
            if not self._capture.grab():
                return  # unplugged camera or end of stream
            captured_at = time.monotonic()
            ok, frame = self._capture.retrieve()
            if not ok:
                return
            self._publish(captured_at, frame)

    def _release(self) -> None:
        self._capture.release()


def open_camera(source: int | str = 0) -> CameraSource:
    """Open a camera by index (or a stream URL) as a :class:`CameraSource`."""
    return CameraSource(source)


class PacedFileSource(LatestFrameSource):
    """A video file behaving like a camera, for live benchmarks and tests.

    Parameters
    ----------
    path : path-like
        The video file.
    realtime : bool
        True: frames appear at their own timestamps (a slow consumer loses
        frames, like with a camera). False: each frame waits until the
        consumer has taken the previous one (nothing dropped, as fast as the
        consumer).
    max_side : int, optional
        As in :func:`read_frames`.
    """

    def __init__(self, path: str | os.PathLike, realtime: bool = True, max_side: int | None = None) -> None:
        super().__init__()
        self.realtime = realtime
        self._reader = read_frames(path, max_side)
        self.info = self._reader.info
        self._start()

    @property
    def truncated(self) -> bool:
        return self._reader.truncated

    def _capture_loop(self) -> None:
        started_at = time.monotonic()
        for time_s, frame in self._reader:
            if self.realtime:
                if self._stop.wait(max(0.0, started_at + time_s - time.monotonic())):
                    return
            else:
                self._wait_until_taken()
                if self._stop.is_set():
                    return
            self._publish(time.monotonic(), frame)

    def _release(self) -> None:
        self._reader.close()
