"""The analysis result: dataclasses, ``report.json`` (versioned), ``angles.csv``
and the plain-language summary. Schema documented in ``docs/report-schema.md``.

:meth:`Report.write_json` and :meth:`Report.write_angles_csv` write the files;
:meth:`Report.load` reads them back, so every later reader (the HTML page, the
batch roster, the history database) works on the same typed object.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from formcheck.errors import InputError
from formcheck.exercises import EXERCISES
from formcheck.faults import Fault
from formcheck.io.files import write_text_atomic
from formcheck.measure.kinematics import UNITS as _KINEMATIC_UNITS
from formcheck.measure.signals import UNITS as _LANDMARK_UNITS
from formcheck.measure.bar import UNITS as _BAR_UNITS

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
    #: The duration as ``report.json`` gave it, for a rep read back by :meth:`Report.load`:
    #: written from the unrounded times, it cannot always be had from the rounded ones.
    recorded_duration_s: float | None = field(default=None, repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        if self.recorded_duration_s is not None:
            return self.recorded_duration_s
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
        name = name if self.exercise not in ("unknown", "") else "Exercise not recognised"
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
        lines.extend(f"  Advice: {text[:1].upper() + text[1:]}." for text in self.advice.values())
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
        # Strict JSON: a value that is not a finite number (a hand-edited report loaded back) is null.
        return json.dumps(_finite_or_null(self.to_dict()), indent=2, allow_nan=False, default=_json_default)

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

    # ------------------------------------------------------------------ reading back
    @classmethod
    def load(cls, path: str | os.PathLike, *, frames: bool = True) -> "Report":
        """Read a report written by :meth:`write_json` (and its ``angles.csv``) back.

        Parameters
        ----------
        path : path-like
            A ``report.json``, or the folder that holds it.
        frames : bool
            Also read ``angles.csv`` beside it, when there is one, into
            :attr:`frames` and :attr:`units` (column names without their unit
            suffix, as the analysis named them). False skips it (faster, for
            readers that need only the reps).

        Returns
        -------
        Report
            Numbers as written (rounded to 3 decimals; ``null`` read as NaN).
            Writing it again gives the same ``report.json`` and ``angles.csv``
            (the ``summary`` line is made again from the rounded times).

        Raises
        ------
        InputError
            The file is missing, unreadable, not JSON, or a field has the wrong
            type; the message is one line naming the file and the field.

        Examples
        --------
        >>> report = Report.load("results")                      # doctest: +SKIP
        >>> report.rep_count, [f.code for f in report.faults]    # doctest: +SKIP
        (3, ['shallow_depth'])
        """
        path = Path(path)
        if path.is_dir():
            path = path / "report.json"
        if not path.is_file():
            raise InputError(f"{path} does not exist (run `formcheck analyze` first)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            message = " ".join(str(exc).split())
            raise InputError(f"{path} is not a readable report: {message}") from None
        table: dict[str, np.ndarray] = {}
        units: dict[str, str] = {}
        csv_path = path.with_name("angles.csv")
        if frames and csv_path.is_file():
            table, units = read_frames_csv(csv_path)
        try:
            return cls.from_dict(data, table, units)
        except _BadField as exc:
            raise InputError(f"{path} is not a formcheck report: {exc}") from None

    @classmethod
    def from_dict(
        cls, data: Any, frames: dict[str, np.ndarray] | None = None, units: dict[str, str] | None = None
    ) -> "Report":
        """The report of a ``report.json`` already parsed (see :meth:`load`).

        Fields added by later schema versions (``info``, ``not_assessed``,
        ``set_summary``, ``advice``) default to empty; ``reps`` is required.

        Raises
        ------
        ValueError
            A field is missing or has the wrong type (the message names it).
        """
        fields = _Fields(data, "")
        view = fields.mapping("view")
        video = fields.mapping("video")
        reps = fields.list("reps", required=True)
        return cls(
            source=fields.text("source"),
            exercise=fields.text("exercise", "unknown"),
            exercise_source=fields.text("exercise_source", "auto"),
            view=view.text("label", "unknown"),
            sideness_deg=view.number("sideness_deg"),
            duration_s=video.number("duration_s"),
            fps=video.number("fps"),
            frame_count=video.integer("frames", 0),
            pose_detected_fraction=video.number("pose_detected_fraction"),
            reps=tuple(_rep_from(fields.item("reps", i)) for i in range(len(reps))),
            notes=tuple(fields.texts("notes")),
            not_assessable=fields.text_map("not_assessable"),
            frames=dict(frames or {}),
            units=dict(units or {}),
            formcheck_version=fields.text("formcheck_version"),
            set_summary=tuple(fields.texts("set_summary")),
            advice=fields.text_map("advice"),
        )

    def to_dataframe(self):
        """The per-frame table as a pandas DataFrame (needs ``pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Report.to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame({_with_unit(c, self.units.get(c, "")): v for c, v in self.frames.items()})


# ---------------------------------------------------------------------- reading
#: Units a column name of ``angles.csv`` may end with (``knee_flexion_deg``).
_UNITS = frozenset({"s", "deg", "score", *_KINEMATIC_UNITS.values(), *_LANDMARK_UNITS.values(), *_BAR_UNITS.values()})


def read_frames_csv(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``angles.csv`` as ``(frames, units)``, the way :attr:`Report.frames` and :attr:`Report.units` hold it.

    A header ``knee_flexion_deg`` becomes the column ``knee_flexion`` with the
    unit ``deg`` (a header that does not end in a known unit stays whole).
    Columns of whole numbers become int arrays, other numbers float arrays
    (an empty cell is NaN), anything else object arrays of text.

    Raises
    ------
    InputError
        The file cannot be read as CSV text.
    """
    path = Path(path)
    try:
        header, columns = _read_columns(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path} is not a readable table: {' '.join(str(exc).split())}") from None
    frames: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    for title, values in zip(header, columns):
        name, unit = _split_unit(title)
        frames[name] = values
        if unit:
            units[name] = unit
    return frames, units


#: Rows converted at a time: a 10-minute video's table read as text all at once
#: is a million strings (~80 MB); numbers block by block stay near the data's size.
_CSV_BLOCK = 4096


def _read_columns(path: Path) -> tuple[list[str], list[np.ndarray]]:
    """The header and each column parsed as by :func:`_parse_column` over the whole column."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return [], []
        blocks: list[list[np.ndarray] | None] = [[] for _ in header]
        while chunk := [row for _, row in zip(range(_CSV_BLOCK), reader)]:
            for j, parts in enumerate(blocks):
                if parts is None:
                    continue
                values = _parse_column([row[j] if j < len(row) else "" for row in chunk])
                blocks[j] = None if values.dtype == object else parts + [values]
    text = [j for j, parts in enumerate(blocks) if parts is None]
    if text:  # a column with any text is read again whole, as text
        with open(path, newline="", encoding="utf-8") as fh:
            rows = csv.reader(fh)
            next(rows)
            cells = {j: [] for j in text}
            for row in rows:
                for j in text:
                    cells[j].append(row[j] if j < len(row) else "")
        for j in text:
            blocks[j] = [np.array(cells[j], dtype=object)]
    columns = []
    for parts in blocks:
        if not parts:
            columns.append(np.zeros(0, np.float64))
        elif all(p.dtype == np.int64 for p in parts) or all(p.dtype == object for p in parts):
            columns.append(np.concatenate(parts))
        else:
            columns.append(np.concatenate([p.astype(np.float64) for p in parts]))
    return header, columns


def _split_unit(title: str) -> tuple[str, str]:
    """``("knee_flexion", "deg")`` for ``knee_flexion_deg``: the inverse of :func:`_with_unit`."""
    for unit in sorted(_UNITS, key=len, reverse=True):
        name = title[: -len(unit) - 1]
        if title.endswith("_" + unit) and name and _with_unit(name, unit) == title:
            return name, unit
    return title, ""


def _parse_column(cells: list[str]) -> np.ndarray:
    if cells and "" not in cells:
        try:
            return np.array([int(c) for c in cells], np.int64)
        except ValueError:
            pass
    try:
        return np.array([float(c) if c != "" else np.nan for c in cells], np.float64)
    except ValueError:
        return np.array(cells, dtype=object)


class _BadField(ValueError):
    """A field of report.json that is missing or of the wrong type."""


_REQUIRED = object()


class _Fields:
    """Typed access to one JSON object, naming the field in errors (``reps[2].faults[0].code``)."""

    def __init__(self, data: Any, where: str):
        if not isinstance(data, dict):
            raise _BadField(f"{where or 'the file'} is not an object")
        self.data, self.where = data, where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str, default: Any) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _REQUIRED:
                raise _BadField(f"no '{self._name(key)}'")
            return default
        return value

    def _wrong(self, key: str, kind: str) -> _BadField:
        return _BadField(f"'{self._name(key)}' is not {kind}")

    def text(self, key: str, default: Any = "") -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._wrong(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._wrong(key, "a string")
        return value

    def number(self, key: str, default: Any = float("nan")) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._wrong(key, "a number")
        return value

    def integer(self, key: str, default: Any = _REQUIRED) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer")
        return value

    def list(self, key: str, required: bool = False) -> list:
        value = self._get(key, _REQUIRED if required else [])
        if not isinstance(value, list):
            raise self._wrong(key, "a list")
        return value

    def mapping(self, key: str) -> "_Fields":
        value = self._get(key, {})
        if not isinstance(value, dict):
            raise self._wrong(key, "an object")
        return _Fields(value, self._name(key))

    def texts(self, key: str) -> list[str]:
        values = self.list(key)
        if not all(isinstance(v, str) for v in values):
            raise self._wrong(key, "a list of strings")
        return values

    def text_map(self, key: str) -> dict[str, str]:
        value = self.mapping(key).data
        if not all(isinstance(v, str) for v in value.values()):
            raise self._wrong(key, "an object of strings")
        return dict(value)

    def numbers(self, key: str) -> dict[str, float]:
        value = self.mapping(key)
        return {k: value.number(k) for k in value.data}

    def item(self, key: str, index: int) -> "_Fields":
        return _Fields(self.list(key)[index], f"{self._name(key)}[{index}]")


def _rep_from(rep: _Fields) -> RepResult:
    frames = rep.mapping("frames")
    phases = {}
    for name, span in rep.mapping("phases").data.items():
        if not (isinstance(span, list) and len(span) == 2 and all(v is None or _is_number(v) for v in span)):
            raise _BadField(f"'{rep.where}.phases.{name}' is not a [start, end] pair of numbers")
        phases[name] = tuple(float("nan") if v is None else v for v in span)
    duration = rep.data.get("duration_s")
    if duration is not None and not _is_number(duration):
        raise rep._wrong("duration_s", "a number")
    return RepResult(
        index=rep.integer("index"),
        start_s=rep.number("start_s", _REQUIRED),
        bottom_s=rep.number("bottom_s"),
        end_s=rep.number("end_s", _REQUIRED),
        phases=phases,
        metrics=rep.numbers("metrics"),
        faults=tuple(_fault_from(rep.item("faults", i)) for i in range(len(rep.list("faults")))),
        cue=rep.optional_text("cue"),
        start_frame=frames.integer("start", 0),
        bottom_frame=frames.integer("bottom", 0),
        end_frame=frames.integer("end", 0),
        info=tuple(_fault_from(rep.item("info", i)) for i in range(len(rep.list("info")))),
        not_assessed=rep.text_map("not_assessed"),
        recorded_duration_s=duration,
    )


def _fault_from(fault: _Fields) -> Fault:
    return Fault(
        code=fault.text("code", _REQUIRED),
        severity=fault.text("severity", _REQUIRED),
        rep=fault.integer("rep", 0),
        start_frame=fault.integer("start_frame", 0),
        end_frame=fault.integer("end_frame", 0),
        start_s=fault.number("start_s"),
        end_s=fault.number("end_s"),
        value=fault.number("value"),
        threshold=fault.number("threshold"),
        unit=fault.text("unit"),
        cue=fault.text("cue"),
        message=fault.text("message"),
        confidence=fault.number("confidence", 1.0),
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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


def _finite_or_null(value):
    """``value`` with every NaN or infinite float (nested in dicts, lists, tuples) replaced by None.

    >>> _finite_or_null({"a": [1.0, float("nan")], "b": (float("inf"),)})
    {'a': [1.0, None], 'b': [None]}
    """
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return _round(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
