"""Landmark smoothing: offline zero-lag filtering and a causal filter for live use.

Offline: outliers (single-frame jumps) are rejected with a Hampel filter,
gaps up to ``max_gap_s`` are interpolated, then a zero-lag 4th-order
Butterworth low-pass (``scipy.signal.filtfilt``, ≈ 6 Hz, the usual cut-off for
human movement) is applied to each run of valid samples.

Live: a One Euro filter (Casiez et al. 2012), which smooths hard when the
joint is still and follows quickly when it moves, with no look-ahead.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage, signal

#: Span of the offline outlier filter's running median (7 frames at 30 fps).
HAMPEL_WINDOW_S = 7 / 30


def odd_window(time_s: np.ndarray, seconds: float) -> int:
    """Odd number of frames (at least 3) spanning about ``seconds`` at the clip's
    frame rate, for centred running filters.

    Parameters
    ----------
    time_s : ndarray, shape (n,)
        Frame times; the frame rate is taken from their median step (30 fps
        when there are fewer than two).
    seconds : float
        Time the window should span.

    Returns
    -------
    int

    Examples
    --------
    >>> odd_window(np.arange(10) / 30, 7 / 30), odd_window(np.arange(10) / 60, 7 / 30)
    (7, 15)
    >>> odd_window(np.array([0.0]), 0.01)
    3
    """
    step = float(np.median(np.diff(time_s))) if len(time_s) > 1 else 0.0
    fps = 1.0 / step if step > 0 else 30.0
    return max(3, int(round(seconds * fps)) | 1)


def nan_median_filter(x: np.ndarray, width: int) -> np.ndarray:
    """Centred running median along the first axis ignoring NaN; NaN samples stay NaN.

    Parameters
    ----------
    x : ndarray, shape (n, ...)
    width : int
        Window length in samples (odd for a centred window); the window is
        cut short at both ends.

    Returns
    -------
    ndarray of float64, same shape as ``x``

    Examples
    --------
    >>> nan_median_filter(np.array([1.0, 2.0, 30.0, 4.0, np.nan, 6.0]), 3)
    array([ 1.5,  2. ,  4. , 17. ,  nan,  6. ])
    """
    x = np.asarray(x, np.float64)
    if len(x) == 0 or width <= 1:
        return x.copy()
    half = width // 2
    pad = np.full((half, *x.shape[1:]), np.nan)
    padded = np.concatenate([pad, x, pad])
    out = np.empty_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        # In blocks of frames: nanmedian copies every window, which for a
        # 10-minute video's whole track at once costs ~100 MB.
        for start in range(0, len(x), ROW_BLOCK):
            stop = min(start + ROW_BLOCK, len(x))
            windows = np.lib.stride_tricks.sliding_window_view(padded[start : stop + 2 * half], width, axis=0)
            out[start:stop] = np.nanmedian(windows, axis=-1)
    return np.where(np.isfinite(x), out, np.nan)


def hampel_mask(x: np.ndarray, window: int = 7, n_sigmas: float = 4.0) -> np.ndarray:
    """Boolean mask of outliers along axis 0.

    A sample is an outlier when it is further than ``n_sigmas`` robust standard
    deviations (1.4826 × MAD) from the running median of ``window`` samples.
    NaN samples are never outliers.

    Parameters
    ----------
    x : ndarray, shape (n, ...)
    window : int
        Running-median length in samples.
    n_sigmas : float

    Returns
    -------
    ndarray of bool, same shape as ``x``

    Examples
    --------
    >>> x = np.array([1.0, 1.1, 0.9, 1.0, 9.0, 1.0, 1.1, 0.9, 1.0, 1.0])
    >>> np.flatnonzero(hampel_mask(x, window=5))
    array([4])
    """
    x = np.asarray(x, np.float64)
    filled = _fill_nan_nearest(x)
    size = (window,) + (1,) * (x.ndim - 1)
    median = ndimage.median_filter(filled, size=size, mode="nearest")
    mad = ndimage.median_filter(np.abs(filled - median), size=size, mode="nearest")
    # A floor on the spread (2 % of the signal's range) keeps still stretches
    # and the smooth turning points of a movement from being flagged.
    # (percentiles of the gap-filled copy: nanpercentile loops in Python per column)
    low, high = np.percentile(filled, [5, 95], axis=0, keepdims=True)
    spread = high - low
    scale = np.maximum(1.4826 * mad, 0.02 * spread + 1e-9)
    return np.isfinite(x) & (np.abs(x - median) > n_sigmas * scale)


def interpolate_gaps(x: np.ndarray, time_s: np.ndarray, max_gap_s: float = 0.25) -> np.ndarray:
    """Linearly fill NaN runs no longer than ``max_gap_s`` (along axis 0).

    Parameters
    ----------
    x : ndarray, shape (n, ...)
        Samples over time; NaN where missing.
    time_s : ndarray, shape (n,)
    max_gap_s : float
        Longest gap filled, measured between the valid samples around it.
        Gaps at either end (not bounded by valid samples) are never filled.

    Returns
    -------
    ndarray of float64, same shape as ``x`` (a copy)

    Examples
    --------
    >>> x = np.array([0.0, 1.0, np.nan, 3.0, np.nan, np.nan, np.nan, 7.0])
    >>> interpolate_gaps(x, np.arange(8) / 10, max_gap_s=0.25)
    array([ 0.,  1.,  2.,  3., nan, nan, nan,  7.])
    """
    x = np.array(x, np.float64, copy=True)
    flat = x.reshape(len(x), -1)
    for column in flat.T:
        valid = np.isfinite(column)
        if valid.sum() < 2 or valid.all():
            continue
        filled = np.interp(time_s, time_s[valid], column[valid])
        # Only fill inside gaps that are short enough and bounded on both sides.
        index = np.arange(len(column))
        prev_valid = np.maximum.accumulate(np.where(valid, index, -1))
        next_valid = np.minimum.accumulate(np.where(valid, index, len(column))[::-1])[::-1]
        inside = (prev_valid >= 0) & (next_valid < len(column))
        gap = np.full(len(column), np.inf)
        gap[inside] = time_s[next_valid[inside]] - time_s[prev_valid[inside]]
        fill = ~valid & (gap <= max_gap_s)
        column[fill] = filled[fill]
    return flat.reshape(x.shape)


def lowpass_zero_lag(x: np.ndarray, fps: float, cutoff_hz: float = 6.0, order: int = 4) -> np.ndarray:
    """Zero-lag Butterworth low-pass along axis 0, run separately on each run of
    finite samples (NaN runs stay NaN). Runs too short to filter are kept as they are."""
    x = np.asarray(x, np.float64)
    if fps <= 0 or cutoff_hz >= fps / 2:
        return x.copy()
    # filtfilt doubles the order; halve it so the overall response is 4th order.
    sos = signal.butter(max(order // 2, 1), cutoff_hz, fs=fps, output="sos")
    out = x.copy()
    flat_in = x.reshape(len(x), -1)
    flat_out = out.reshape(len(x), -1)
    valid_rows = np.all(np.isfinite(flat_in), axis=1)
    for start, stop in _runs(valid_rows):
        if stop - start < 4:
            continue
        padlen = min(3 * (2 * sos.shape[0] + 1), stop - start - 1)
        # A few columns at a time: filtfilt's padded copies of a long video's
        # every column at once cost ~100 MB for 10 minutes.
        for cols in _column_blocks(flat_in.shape[1]):
            flat_out[start:stop, cols] = signal.sosfiltfilt(sos, flat_in[start:stop, cols], axis=0, padlen=padlen)
    return out


def smooth_offline(
    x: np.ndarray, time_s: np.ndarray, cutoff_hz: float = 6.0, max_gap_s: float = 0.25
) -> np.ndarray:
    """Outlier rejection → gap filling → zero-lag low-pass, along axis 0.

    Parameters
    ----------
    x : ndarray, shape (n, ...)
        Samples over time; NaN where missing.
    time_s : ndarray, shape (n,)
    """
    x = np.array(x, np.float64, copy=True)
    if len(x) < 3:
        return x
    flat = x.reshape(len(x), -1)
    # The outlier window spans the same time (≈ 0.23 s) at any frame rate.
    window = odd_window(time_s, HAMPEL_WINDOW_S)
    for cols in _column_blocks(flat.shape[1]):  # each column alone: memory bounded by a block
        block = flat[:, cols]
        block[hampel_mask(block, window=window)] = np.nan
        flat[:, cols] = block
    filled = interpolate_gaps(flat, time_s, max_gap_s)
    fps = 1.0 / np.median(np.diff(time_s))
    return lowpass_zero_lag(filled, fps, cutoff_hz).reshape(x.shape)


#: Columns filtered together, and frames taken at a time by the running
#: median: memory stays bounded on long videos.
COLUMN_BLOCK = 16
ROW_BLOCK = 2048


def _column_blocks(columns: int) -> list[slice]:
    return [slice(i, min(i + COLUMN_BLOCK, columns)) for i in range(0, columns, COLUMN_BLOCK)]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs of a boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _fill_nan_nearest(x: np.ndarray) -> np.ndarray:
    if np.all(np.isfinite(x)):
        return x
    filled = x.copy()
    flat = filled.reshape(len(x), -1)
    for column in flat.T:
        valid = np.isfinite(column)
        if valid.any():
            column[~valid] = np.interp(np.flatnonzero(~valid), np.flatnonzero(valid), column[valid])
        else:
            column[:] = 0.0
    return filled


class OneEuroFilter:
    """Causal One Euro filter for arrays of any shape (all elements share parameters).

    Parameters
    ----------
    min_cutoff_hz : float
        Cut-off when the signal is still (lower: smoother, more lag at rest).
    beta : float
        How fast the cut-off rises with speed (higher: less lag when moving).
    d_cutoff_hz : float
        Cut-off of the speed estimate.
    """

    def __init__(self, min_cutoff_hz: float = 1.5, beta: float = 0.05, d_cutoff_hz: float = 1.0):
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff_hz: np.ndarray | float, dt: float) -> np.ndarray:
        tau = 1.0 / (2 * np.pi * np.asarray(cutoff_hz))
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, time_s: float) -> np.ndarray:
        """Filter one sample; NaN elements pass through and restart that element."""
        x = np.asarray(x, np.float64)
        if self._x is None or self._t is None or time_s <= self._t:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), time_s
            return x.copy()
        dt = time_s - self._t
        self._t = time_s
        restart = ~np.isfinite(self._x) & np.isfinite(x)
        dx = np.where(restart, 0.0, (x - self._x) / dt)
        a_d = self._alpha(self.d_cutoff_hz, dt)
        self._dx = np.where(np.isfinite(self._dx), a_d * dx + (1 - a_d) * self._dx, dx)
        cutoff = self.min_cutoff_hz + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, dt)
        smoothed = np.where(restart | ~np.isfinite(self._x), x, a * x + (1 - a) * self._x)
        self._x = np.where(np.isfinite(x), smoothed, self._x)
        return np.where(np.isfinite(x), smoothed, np.nan)


def smooth_track(track, cutoff_hz: float = 6.0, max_gap_s: float = 0.25):
    """The track stage (offline): a :class:`~formcheck.pose.track.PoseTrack` with
    outlier-rejected, gap-filled, zero-lag-filtered image and world landmarks.

    Trunk silhouette edges are smoothed the same way, since mask edges jitter
    by up to a few pixels frame to frame in cluttered scenes (NOTES).
    """
    import dataclasses

    if len(track) < 3:
        return track
    xy = smooth_offline(track.xy, track.time_s, cutoff_hz, max_gap_s)
    world = smooth_offline(track.world, track.time_s, cutoff_hz, max_gap_s)
    edges = smooth_offline(track.trunk_edges, track.time_s, cutoff_hz, max_gap_s)
    return dataclasses.replace(
        track,
        xy=xy.astype(np.float32),
        world=world.astype(np.float32),
        trunk_edges=edges.astype(np.float32),
        meta={**track.meta, "smoothing": f"hampel+butterworth {cutoff_hz:g} Hz zero-lag"},
    )
