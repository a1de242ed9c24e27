"""What an exercise plug-in provides (one file per exercise in this package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from formcheck.faults import FaultCheck, RepContext, Threshold
from formcheck.reps import RepRule

Signals = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Exercise:
    """An exercise plug-in.

    Attributes
    ----------
    name : str
        Stable identifier used on the command line and in reports.
    title : str
        Human name.
    rule : RepRule
        How reps are cut from :attr:`depth`.
    depth : callable
        ``depth(signals) -> ndarray``: causal normalised depth (0 top, 1 bottom),
        computed sample by sample from the past only, so live and offline agree.
    checks : tuple of (code, check)
        Fault checks, in priority order for the one cue per rep (safety first).
    thresholds : dict of str → Threshold
        Default thresholds, keyed by fault code.
    metrics : callable
        ``metrics(ctx) -> dict`` of per-rep numbers for the report.
    """

    name: str
    title: str
    rule: RepRule
    depth: Callable[[Signals], np.ndarray]
    checks: tuple[tuple[str, FaultCheck], ...]
    thresholds: dict[str, Threshold]
    metrics: Callable[[RepContext], dict[str, float]]
    units: dict[str, str] = field(default_factory=dict)


def value_at(signal: np.ndarray, frame: int) -> float:
    """Signal value at a frame as a float (NaN-safe)."""
    return float(signal[frame]) if 0 <= frame < len(signal) else float("nan")


def running_max(x: np.ndarray) -> np.ndarray:
    """Causal running maximum that ignores NaN."""
    filled = np.where(np.isfinite(x), x, -np.inf)
    out = np.maximum.accumulate(filled) if len(x) else filled
    return np.where(np.isfinite(out), out, np.nan)
