"""The analysis result: dataclasses, ``report.json`` (versioned), ``angles.csv``
and the plain-language summary. Schema documented in ``docs/report-schema.md``."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from formcheck.exercises import EXERCISES
from formcheck.faults import Fault
from formcheck.io.files import write_text_atomic

#: Bump the major number on incompatible changes of report.json.
SCHEMA_VERSION = "1.2"

_PHASE_WORDS = {"setup": "set-up", "descent": "descent", "bottom": "bottom", "ascent": "ascent", "lockout": "lockout"}


@dataclass(frozen=True)
class RepResult:
    """One rep in the report (times in seconds from the start of the video)."""

    index: int
    start_s: float
    bottom_s: float
    end_s: float
    phases: dict[str, tuple[float, float]]
    metrics: dict[str, float]
    faults: tuple[Fault, ...]
    cue: str | None
    start_frame: int = 0
    bottom_frame: int = 0
    end_frame: int = 0
    info: tuple[Fault, ...] = ()  # observations that are not faults (severity "info"), e.g. knees_forward
    #: Checks this rep could not be judged on although the video supports them
    #: (code → reason, e.g. the back hidden during this rep); clip-wide ones are
    #: in ``Report.not_assessable``.
    not_assessed: dict[str, str] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": _round(self.start_s),
            "bottom_s": _round(self.bottom_s),
            "end_s": _round(self.end_s),
            "duration_s": _round(self.duration_s),
            "frames": {"start": self.start_frame, "bottom": self.bottom_frame, "end": self.end_frame},
            "phases": {k: [_round(a), _round(b)] for k, (a, b) in self.phases.items()},
            "metrics": {k: _round(v) for k, v in self.metrics.items()},
            "faults": [f.to_dict() for f in self.faults],
            "info": [f.to_dict() for f in self.info],
            "not_assessed": dict(self.not_assessed),
            "cue": self.cue,
        }


@dataclass(frozen=True, eq=False)
class Report:
    """Everything ``formcheck analyze`` found in one video.

    ``frames`` is the per-frame table (column name → array); see
    :meth:`to_dataframe` and :meth:`write_angles_csv`.
    """

    source: str
    exercise: str
    exercise_source: str  # "auto" or "user"
    view: str
    sideness_deg: float
    duration_s: float
    fps: float
    frame_count: int
    pose_detected_fraction: float
    reps: tuple[RepResult, ...]
    notes: tuple[str, ...]
    not_assessable: dict[str, str]
    frames: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    units: dict[str, str] = field(repr=False, default_factory=dict)
    formcheck_version: str = ""
    set_summary: tuple[str, ...] = ()  # "reps 3–5: back rounded as you got tired"
    advice: dict[str, str] = field(default_factory=dict)  # e.g. camera_view → how to film

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    @property
    def faults(self) -> list[Fault]:
        return [f for rep in self.reps for f in rep.faults]

    # ------------------------------------------------------------------ text
    def summary(self) -> str:
        """A few plain-language lines for the terminal."""
        exercise = EXERCISES.get(self.exercise)
        name = exercise.short_title if exercise else self.exercise.replace("_", " ")
        name = name if self.exercise != "unknown" else "Exercise not recognised"
        lines = [f"{name[0].upper() + name[1:]} · {self.view} view · {self.rep_count} rep{'s' if self.rep_count != 1 else ''}"]
        for rep in self.reps:
            if rep.faults:
                worst = ", ".join(f"{f.code.replace('_', ' ')} ({f.severity})" for f in rep.faults)
                lines.append(f"  Rep {rep.index} ({rep.start_s:.1f}–{rep.end_s:.1f} s): {worst}. {rep.cue}")
            else:
                lines.append(f"  Rep {rep.index} ({rep.start_s:.1f}–{rep.end_s:.1f} s): no faults found.")
            if rep.not_assessed:
                reasons = sorted(set(rep.not_assessed.values()))
                checks = ", ".join(code.replace("_", " ") for code in rep.not_assessed)
                lines.append(f"    not judged in this rep — {checks}: {'; '.join(reasons)}")
        if self.set_summary:
            lines.append("  Set: " + "; ".join(self.set_summary) + ".")
        lines.extend(f"  Note: {note}" for note in self.notes)
        lines.extend(f"  Advice: {text[0].upper() + text[1:]}." for text in self.advice.values())
        lines.extend(f"  Not assessed — {code.replace('_', ' ')}: {why}" for code, why in self.not_assessable.items())
        return "\n".join(lines)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "formcheck_version": self.formcheck_version,
            "source": self.source,
            "exercise": self.exercise,
            "exercise_source": self.exercise_source,
            "view": {"label": self.view, "sideness_deg": _round(self.sideness_deg)},
            "video": {
                "duration_s": _round(self.duration_s),
                "fps": _round(self.fps),
                "frames": self.frame_count,
                "pose_detected_fraction": _round(self.pose_detected_fraction),
            },
            "rep_count": self.rep_count,
            "reps": [r.to_dict() for r in self.reps],
            "fault_counts": _fault_counts(self.faults),
            "set_summary": list(self.set_summary),
            "notes": list(self.notes),
            "not_assessable": dict(self.not_assessable),
            "advice": dict(self.advice),
            "summary": self.summary(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False, default=_json_default)

    def write_json(self, path: str | os.PathLike) -> Path:
        return write_text_atomic(path, self.to_json() + "\n")

    # ------------------------------------------------------------------ per-frame table
    def write_angles_csv(self, path: str | os.PathLike) -> Path:
        """Per-frame table; the header names carry the units, e.g. ``knee_flexion_deg``."""
        columns = list(self.frames)
        header = [_with_unit(c, self.units.get(c, "")) for c in columns]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        # Formatted a column at a time from plain Python values: several times faster
        # than per cell, which matters when a batch re-analyses from cached tracks.
        writer.writerows(zip(*(_csv_column(self.frames[c], c) for c in columns)))
        return write_text_atomic(path, buffer.getvalue())

    def to_dataframe(self):
        """The per-frame table as a pandas DataFrame (needs ``pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Report.to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame({_with_unit(c, self.units.get(c, "")): v for c, v in self.frames.items()})


def _fault_counts(faults: list[Fault]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for f in faults:
        counts.setdefault(f.code, {"caution": 0, "fault": 0})[f.severity] += 1
    return counts


def _with_unit(name: str, unit: str) -> str:
    return f"{name}_{unit}" if unit and not name.endswith(unit) else name


def _csv_column(values, column: str = "") -> list[str]:
    """One column of ``angles.csv`` as text (see :func:`_csv_value`)."""
    array = np.asarray(values)
    if array.dtype.kind != "f":
        return [_csv_value(v, column) for v in array.tolist()]
    spec = ".6f" if column == "time" else ".4g"
    finite = np.isfinite(array).tolist()
    return [format(v, spec) if ok else "" for v, ok in zip(array.tolist(), finite)]


def _csv_value(value, column: str = "") -> str:
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return ""
        # Time keeps microsecond resolution however long the video; measurements
        # keep 4 significant digits (more than the pose model resolves).
        return f"{value:.6f}" if column == "time" else f"{value:.4g}"
    return str(value)


def _round(value, digits: int = 3):
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if np.isfinite(value) else None


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return _round(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
