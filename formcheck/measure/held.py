"""Levels held over time: a fault is a level kept for a while, never one frame.

Pure functions over 1-D signals (one value per frame) and frame indices.

>>> import numpy as np
>>> signal = np.array([0.0, 5.0, 9.0, 9.5, 3.0, 30.0, 2.0])
>>> sustained_max(signal, np.arange(7), hold=2)   # the one-frame spike to 30 does not count
(9.0, 2)
>>> hold_frames(np.arange(10) / 30.0, 0.25)       # 0.25 s at 30 fps
8
"""

from __future__ import annotations

import numpy as np


def finite(signal: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The frames at which ``signal`` is finite."""
    frames = np.asarray(frames, int)
    return frames[np.isfinite(np.asarray(signal)[frames])] if len(frames) else frames


def hold_frames(time_s: np.ndarray, seconds: float) -> int:
    """How many frames last ``seconds`` (at least 1)."""
    fps = 1.0 / np.median(np.diff(time_s)) if len(time_s) > 1 else 30.0
    return max(1, int(round(seconds * fps)))


def sustained_max(signal: np.ndarray, frames: np.ndarray, hold: int) -> tuple[float, int]:
    """Highest level ``signal`` keeps for ``hold`` consecutive frames among ``frames``.

    A one-frame landmark glitch must not make a fault; a short window keeps
    the peak. Returns the level and the first frame of that stretch (NaN, −1
    when no stretch of ``hold`` finite frames exists). Inputs spanning fewer
    than ``hold`` frames fall back to their median.
    """
    frames = finite(signal, frames)
    if len(frames) == 0:
        return float("nan"), -1
    values = np.asarray(signal, np.float64)
    series = np.full(int(frames.max()) - int(frames.min()) + 1, -np.inf)
    series[frames - frames.min()] = values[frames]
    if len(series) < hold:
        return float(np.median(values[frames])), int(frames[0])
    lows = np.lib.stride_tricks.sliding_window_view(series, hold).min(axis=1)
    best = int(np.argmax(lows))
    if not np.isfinite(lows[best]):  # never held for ``hold`` frames in a row: nothing to judge
        return float("nan"), -1
    return float(lows[best]), int(frames.min()) + best


def sustained_min(signal: np.ndarray, frames: np.ndarray, hold: int) -> tuple[float, int]:
    """Lowest level ``signal`` keeps for ``hold`` consecutive frames (see :func:`sustained_max`)."""
    level, at = sustained_max(-np.asarray(signal, np.float64), frames, hold)
    return -level, at
