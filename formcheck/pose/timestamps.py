"""MediaPipe's timestamp rule: VIDEO mode needs strictly increasing integer milliseconds.

Frame times in seconds (from :mod:`formcheck.io.video`, a camera or a saved
track) become the ``timestamp_ms`` that ``PoseLandmarker.detect_for_video``
takes. Rounding can give two frames the same millisecond, and a clip may
carry frames less than 1 ms apart; such a frame gets the next free
millisecond instead, so the model never rejects it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class MonotonicMs:
    """Strictly increasing, non-negative integer milliseconds for frame times.

    Each call rounds ``time_s`` to the nearest millisecond; a value not above
    the previous one (or below 0 for the first) becomes the previous one
    plus 1 (0 for the first).

    Examples
    --------
    >>> to_ms = MonotonicMs()
    >>> [to_ms(t) for t in (0.0, 0.0334, 0.0334, 0.0667)]
    [0, 33, 34, 67]
    """

    def __init__(self) -> None:
        self.last_ms = -1

    def __call__(self, time_s: float) -> int:
        ms = max(int(round(time_s * 1000.0)), self.last_ms + 1)
        self.last_ms = ms
        return ms


def monotonic_ms(times_s: Iterable[float]) -> np.ndarray:
    """Strictly increasing int64 milliseconds for a sequence of times (see :class:`MonotonicMs`).

    Parameters
    ----------
    times_s : iterable of float
        Frame times in seconds, in presentation order.

    Returns
    -------
    ndarray of int64, shape (n,)

    Examples
    --------
    >>> monotonic_ms([0.0, 0.0004, 0.0004, 0.5])
    array([  0,   1,   2, 500])
    """
    to_ms = MonotonicMs()
    return np.array([to_ms(t) for t in times_s], dtype=np.int64)
