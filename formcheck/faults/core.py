"""Fault records and the interface every fault check implements.

A *fault check* is a pure function ``check(ctx: RepContext) -> Fault | None``
registered by an exercise plug-in together with its thresholds. The context
gives the rep, the kinematic signals, the spine estimate (when the spine stage
ran) and the exercise's thresholds, so new checks (e.g. lumbar flexion from
the spine issue) plug in without touching the pipeline.

Severity is graded from a measured value against two thresholds: at or past
``caution`` → ``"caution"``, at or past ``fault`` → ``"fault"``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

SEVERITIES = ("caution", "fault")


@dataclass(frozen=True)
class Fault:
    """One fault found in one rep.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``"shallow_depth"``.
    severity : str
        ``"caution"`` or ``"fault"``.
    rep : int
        1-based rep number.
    start_frame, end_frame : int
        ``[start, end)`` frames where it shows.
    start_s, end_s : float
        The same span in seconds.
    value : float
        The measured value the verdict rests on.
    threshold : float
        The threshold that value crossed (the caution or fault level).
    unit : str
    cue : str
        One short coaching cue.
    message : str
        What was measured, in plain words.
    confidence : float
        0–1: how far the value is past the threshold, scaled down by pose quality.
    """

    code: str
    severity: str
    rep: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    value: float
    threshold: float
    unit: str
    cue: str
    message: str
    confidence: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Threshold:
    """Caution and fault levels of one measured value; ``higher_is_worse`` says
    which direction is bad."""

    caution: float
    fault: float
    higher_is_worse: bool = True

    def grade(self, value: float) -> tuple[str | None, float]:
        """Severity (None if fine) and the threshold crossed."""
        if not np.isfinite(value):
            return None, float("nan")
        sign = 1.0 if self.higher_is_worse else -1.0
        if sign * (value - self.fault) >= 0:
            return "fault", self.fault
        if sign * (value - self.caution) >= 0:
            return "caution", self.caution
        return None, float("nan")

    def confidence(self, value: float, quality: float = 1.0) -> float:
        """Grows from 0.5 at the caution level to 1 at twice the caution→fault step."""
        step = abs(self.fault - self.caution) or 1.0
        past = (value - self.caution) * (1 if self.higher_is_worse else -1)
        return float(np.clip(0.5 + 0.25 * past / step, 0.0, 1.0) * np.clip(quality, 0.0, 1.0))


@dataclass(frozen=True)
class RepContext:
    """Everything a fault check may look at for one rep."""

    rep: Any  # formcheck.reps.counter.Rep
    time_s: np.ndarray
    signals: Mapping[str, np.ndarray]
    view: str
    thresholds: Mapping[str, Threshold]
    quality: float = 1.0
    spine: Any = None  # formcheck.spine.estimate.SpineEstimate when available
    extra: Mapping[str, Any] = field(default_factory=dict)

    def phase(self, name: str) -> slice:
        start, stop = self.rep.phases.get(name, (self.rep.bottom, self.rep.bottom + 1))
        return slice(start, stop)

    def make_fault(
        self, code: str, value: float, span: tuple[int, int], cue: str, message: str, unit: str
    ) -> Fault | None:
        """Grade ``value`` against ``thresholds[code]`` and build the Fault, or None if fine."""
        threshold = self.thresholds[code]
        severity, crossed = threshold.grade(value)
        if severity is None:
            return None
        start, end = int(span[0]), int(max(span[1], span[0] + 1))
        last = min(end, len(self.time_s)) - 1
        return Fault(
            code=code,
            severity=severity,
            rep=self.rep.index,
            start_frame=start,
            end_frame=end,
            start_s=float(self.time_s[start]),
            end_s=float(self.time_s[last]),
            value=float(value),
            threshold=float(crossed),
            unit=unit,
            cue=cue,
            message=message,
            confidence=threshold.confidence(value, self.quality),
        )


FaultCheck = Callable[[RepContext], "Fault | None"]


# ---------------------------------------------------------------- measures held over time
# Shared by the exercise plug-ins and the spine checks: a fault is a level held,
# never one frame.
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
