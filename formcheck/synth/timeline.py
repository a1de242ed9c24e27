"""Rep timing and phases: a set as a sequence of timed segments, sampled at the frame rate.

A set is a list of :class:`Segment` (set-up, then each rep's descent, bottom,
ascent and lockout, in the order the lift goes through them). :func:`timeline`
samples it at the frame rate: every frame gets its segment and its local time
``u`` in [0, 1] within it, from which the lift builders
(:mod:`formcheck.synth.lifts`) compute the joint angles. Movements between
key poses follow minimum-jerk progress (:func:`min_jerk`, :func:`window`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Phases of a set, in the order of their codes (``Motion.phase`` holds the index).
PHASES = ("setup", "descent", "bottom", "ascent", "lockout")
PHASE_CODE = {name: i for i, name in enumerate(PHASES)}

#: Default rep timing per exercise, seconds at tempo 1: descent, bottom pause, ascent, top pause.
TIMING = {
    "squat": (1.2, 0.3, 1.0, 0.8),
    "deadlift": (1.3, 0.6, 1.2, 0.8),
    "rdl": (1.5, 0.2, 1.2, 0.7),
    "good_morning": (1.5, 0.3, 1.3, 0.6),
    "kettlebell_swing": (0.5, 0.0, 0.45, 0.3),
}


def min_jerk(x: np.ndarray) -> np.ndarray:
    """Minimum-jerk progress 0→1 (zero velocity and acceleration at both ends)."""
    x = np.clip(x, 0.0, 1.0)
    return x**3 * (10.0 - 15.0 * x + 6.0 * x * x)


def window(u: np.ndarray, start: float, stop: float) -> np.ndarray:
    """Minimum-jerk progress of a movement that runs from ``start`` to ``stop`` (fractions of u)."""
    return min_jerk((u - start) / max(stop - start, 1e-6))


@dataclass
class Segment:
    """A stretch of the set in one phase.

    Attributes
    ----------
    phase : str
        One of :data:`PHASES`.
    duration : float
        Seconds (may be 0: the segment is skipped).
    kind : str
        ``"exercise:movement"``, e.g. ``"squat:descent"`` or
        ``"deadlift:get_down"``: what the builder draws in it.
    rep : int
        0-based rep it belongs to, -1 outside the reps.
    """

    phase: str
    duration: float
    kind: str
    rep: int = -1


def timeline(segments: list[Segment], fps: float):
    """Sample the segments at ``fps``.

    Returns
    -------
    t : ndarray (n,)
        Frame times, from 0 to the end of the last segment.
    seg : ndarray (n,) int
        Index of each frame's segment (zero-length segments get no frame).
    u : ndarray (n,)
        Local time of each frame within its segment, 0 to 1.
    starts : ndarray (len(segments),)
        Start time of each segment.
    """
    durations = np.array([s.duration for s in segments])
    starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    total = float(durations.sum())
    n = int(np.floor(total * fps + 1e-9)) + 1
    t = np.arange(n) / fps
    seg = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(segments) - 1)
    # Skip zero-length segments: a frame at their start belongs to the next one.
    while True:
        zero = durations[seg] <= 0
        if not zero.any():
            break
        seg[zero] = np.minimum(seg[zero] + 1, len(segments) - 1)
    u = np.clip((t - starts[seg]) / np.maximum(durations[seg], 1e-9), 0.0, 1.0)
    return t, seg, u, starts
