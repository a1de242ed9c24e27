"""Client history: per-rep metrics of every analysed set in an embedded SQLite database,
and ``formcheck history CLIENT`` to print and plot the trends.

``formcheck batch`` stores each successfully analysed set (replacing an earlier
analysis of the same output folder) in one transaction, so a killed run never
leaves half a set. Tables (plain SQL, query them with any SQLite tool):

``sets``        one row per set: ``set_id`` (output folder below OUT), ``client``,
                ``date`` (YYYY-MM-DD), ``date_source``, ``video``, ``sha256``,
                ``settings``, ``exercise``, ``view``, ``rep_count``, ``analysed_at``
``reps``        one row per rep: ``set_id``, ``rep``, ``start_s``, ``end_s``,
                ``duration_s``, ``descent_s``, ``ascent_s``,
                ``peak_lumbar_flexion_deg``, ``hinge_ratio``,
                ``depth_thigh_angle_deg``, ``faults``, ``cautions`` (counts),
                ``fault_codes`` (space-separated), ``cue``
``rep_metrics`` every metric of every rep (``set_id, rep, name, value``)
``findings``    every fault or caution (``set_id, rep, code, severity, value,
                threshold, unit, confidence``)

Unmeasurable values are NULL. A *session* is one client's sets of one
exercise on one date.
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from formcheck.analysis.report import RepResult, Report
from formcheck.apps.common import Parser, guarded, plural
from formcheck.errors import InputError
from formcheck.io.files import printable, safe_name
from formcheck.io.files import atomic_path

SCHEMA_VERSION = "1"
DB_NAME = "history.sqlite"
DESCRIPTION = (
    "Print a client's sessions (per exercise and date: sets, reps, mean per-rep metrics, share of reps with "
    "faults) with the trend of each metric, and save a plot, from the history database 'formcheck batch' writes."
)

#: Per-rep metrics with their own column, in display order: name → (label, unit).
TRACKED = {
    "peak_lumbar_flexion_deg": ("peak lumbar flexion", "°"),
    "hinge_ratio": ("hinge ratio", ""),
    "depth_thigh_angle_deg": ("depth (thigh angle at bottom)", "°"),
    "duration_s": ("rep duration", "s"),
    "descent_s": ("descent", "s"),
    "ascent_s": ("ascent", "s"),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sets (
    set_id TEXT PRIMARY KEY, client TEXT NOT NULL, date TEXT NOT NULL, date_source TEXT,
    video TEXT NOT NULL, sha256 TEXT, settings TEXT, exercise TEXT, view TEXT,
    rep_count INTEGER, analysed_at TEXT
);
CREATE INDEX IF NOT EXISTS sets_by_client ON sets (client, date);
CREATE TABLE IF NOT EXISTS reps (
    set_id TEXT NOT NULL, rep INTEGER NOT NULL, start_s REAL, end_s REAL, duration_s REAL,
    descent_s REAL, ascent_s REAL, peak_lumbar_flexion_deg REAL, hinge_ratio REAL,
    depth_thigh_angle_deg REAL, faults INTEGER, cautions INTEGER, fault_codes TEXT, cue TEXT,
    PRIMARY KEY (set_id, rep)
);
CREATE TABLE IF NOT EXISTS rep_metrics (
    set_id TEXT NOT NULL, rep INTEGER NOT NULL, name TEXT NOT NULL, value REAL,
    PRIMARY KEY (set_id, rep, name)
);
CREATE TABLE IF NOT EXISTS findings (
    set_id TEXT NOT NULL, rep INTEGER NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL,
    value REAL, threshold REAL, unit TEXT, confidence REAL
);
CREATE INDEX IF NOT EXISTS findings_by_set ON findings (set_id);
"""
_TABLES_BY_SET = ("findings", "rep_metrics", "reps", "sets")


class HistoryDB:
    """The history database (created on first use). Use as a context manager."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        try:
            if read_only:  # reading never changes a file (another program's database is refused, not extended)
                self.connection = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30.0)
                tables = {row[0] for row in self.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if not {"meta", "sets", "reps"} <= tables:
                    self.connection.close()
                    raise InputError(f"{self.path} is not a formcheck history database (it has no sets of reps)")
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(self.path, timeout=30.0)
            with self.connection:
                self.connection.executescript(_SCHEMA)
                self.connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path} is not a usable formcheck history database ({exc})") from None

    def __enter__(self) -> "HistoryDB":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    # ------------------------------------------------------------------ writing
    def store(self, record: dict, report: Report | None) -> None:
        """Replace the set of a batch record; error records (and sets without a report) only remove it.

        ``report`` is the set's report as read back from its folder (:meth:`Report.load`).
        """
        with self.connection:  # one transaction: all of the set or none
            for table in _TABLES_BY_SET:
                self.connection.execute(f"DELETE FROM {table} WHERE set_id = ?", (record["set_id"],))
            if record.get("status") != "ok" or report is None:
                return
            source = record.get("source") or {}
            self.connection.execute(
                "INSERT INTO sets VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (  # text columns as valid text: a file name's bytes that are not UTF-8 show as U+FFFD
                    record["set_id"], printable(record["client"]), record.get("date") or "", record.get("date_source"),
                    printable(record["video"]), source.get("sha256"), record.get("settings"), report.exercise,
                    report.view, report.rep_count, record.get("analysed_at"),
                ),
            )
            for rep in report.reps:
                self._insert_rep(record["set_id"], rep)

    def _insert_rep(self, set_id: str, rep: RepResult) -> None:
        metrics = {k: _number(v) for k, v in rep.metrics.items()}
        metrics.setdefault("duration_s", _number(rep.duration_s))
        faults = rep.faults
        self.connection.execute(
            "INSERT INTO reps VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                set_id, rep.index, _number(rep.start_s), _number(rep.end_s),
                metrics.get("duration_s"), metrics.get("descent_s"), metrics.get("ascent_s"),
                metrics.get("peak_lumbar_flexion_deg"), metrics.get("hinge_ratio"), metrics.get("depth_thigh_angle_deg"),
                sum(f.severity == "fault" for f in faults), sum(f.severity == "caution" for f in faults),
                " ".join(sorted({f.code for f in faults})), rep.cue,
            ),
        )
        self.connection.executemany(
            "INSERT INTO rep_metrics VALUES (?,?,?,?)", [(set_id, rep.index, k, v) for k, v in metrics.items()]
        )
        self.connection.executemany(
            "INSERT INTO findings VALUES (?,?,?,?,?,?,?,?)",
            [
                (set_id, rep.index, f.code, f.severity, _number(f.value),
                 _number(f.threshold), f.unit, _number(f.confidence))
                for f in faults
            ],
        )

    def ensure(self, record: dict, get_report: Callable[[], Report | None]) -> None:
        """Make the database agree with a record (after a run killed between finishing a set and storing it)."""
        row = self.connection.execute(
            "SELECT settings, sha256, analysed_at FROM sets WHERE set_id = ?", (record["set_id"],)
        ).fetchone()
        if record.get("status") != "ok":
            if row is not None:
                self.store(record, None)
            return
        current = (record.get("settings"), (record.get("source") or {}).get("sha256"), record.get("analysed_at"))
        if row is None or tuple(row) != current:
            self.store(record, get_report())

    # ------------------------------------------------------------------ reading
    def clients(self) -> list[str]:
        return [r[0] for r in self.connection.execute("SELECT DISTINCT client FROM sets ORDER BY client")]

    def reps(self, client: str, exercise: str | None = None) -> list[dict]:
        """Every rep of a client: the ``reps`` columns plus date, exercise and set id, oldest first."""
        query = (
            "SELECT s.date, s.exercise, s.set_id, r.* FROM reps r JOIN sets s USING (set_id) "
            "WHERE s.client = ?" + (" AND s.exercise = ?" if exercise else "") + " ORDER BY s.date, s.set_id, r.rep"
        )
        client = printable(client)  # as stored
        cursor = self.connection.execute(query, (client, exercise) if exercise else (client,))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def sets(self, client: str) -> list[dict]:
        cursor = self.connection.execute("SELECT * FROM sets WHERE client = ? ORDER BY date, set_id", (printable(client),))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]


def _number(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


# ----------------------------------------------------------------------------- sessions and trends
@dataclass
class Session:
    """One client's reps of one exercise on one date."""

    date: str
    exercise: str
    sets: set[str] = field(default_factory=set)
    reps: list[dict] = field(default_factory=list)

    def values(self, metric: str) -> list[float]:
        return [r[metric] for r in self.reps if r.get(metric) is not None]

    def mean(self, metric: str) -> float | None:
        values = self.values(metric)
        return sum(values) / len(values) if values else None

    def peak(self, metric: str) -> float | None:
        values = self.values(metric)
        return max(values) if values else None

    @property
    def fault_rate(self) -> float:
        return sum(1 for r in self.reps if r.get("faults")) / len(self.reps) if self.reps else 0.0

    @property
    def caution_rate(self) -> float:
        return sum(1 for r in self.reps if not r.get("faults") and r.get("cautions")) / len(self.reps) if self.reps else 0.0


def sessions(reps: list[dict]) -> dict[str, list[Session]]:
    """Reps grouped into sessions per exercise, in date order."""
    grouped: dict[tuple[str, str], Session] = {}
    for rep in reps:
        key = (rep["exercise"] or "unknown", rep["date"])
        session = grouped.setdefault(key, Session(date=rep["date"], exercise=key[0]))
        session.sets.add(rep["set_id"])
        session.reps.append(rep)
    out: dict[str, list[Session]] = defaultdict(list)
    for (exercise, _), session in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        out[exercise].append(session)
    return dict(out)


@dataclass(frozen=True)
class Trend:
    """Change of a session-mean metric over time."""

    metric: str
    first: float
    last: float
    per_week: float  # least-squares slope of session means, per 7 days
    sessions: int
    days: int


def trend(history: list[Session], metric: str) -> Trend | None:
    """Least-squares trend of a metric's session means (None with fewer than two sessions that have it)."""
    import datetime as dt

    import numpy as np

    points = [(dt.date.fromisoformat(s.date), s.mean(metric)) for s in history if s.mean(metric) is not None]
    if len(points) < 2:
        return None
    days = np.array([(d - points[0][0]).days for d, _ in points], float)
    values = np.array([v for _, v in points], float)
    slope = float(np.polyfit(days, values, 1)[0]) * 7.0 if np.ptp(days) > 0 else 0.0
    return Trend(metric, float(values[0]), float(values[-1]), slope, len(points), int(days[-1]))


def history_text(client: str, by_exercise: dict[str, list[Session]]) -> str:
    """The printed history: a table per exercise (one row per session) and the trends."""
    lines = []
    for exercise, history in by_exercise.items():
        metrics = [m for m in TRACKED if any(s.values(m) for s in history)]
        n_sets = sum(len(s.sets) for s in history)
        n_reps = sum(len(s.reps) for s in history)
        lines.append(f"{printable(client)} · {exercise} · {plural(len(history), 'session')}, "
                     f"{plural(n_sets, 'set')}, {plural(n_reps, 'rep')}")
        header = f"  {'date':10s} {'sets':>4s} {'reps':>4s} " + " ".join(f"{_short(m):>13s}" for m in metrics)
        lines.append(header + f" {'fault reps':>10s} {'caution reps':>12s}")
        for s in history:
            cells = " ".join(f"{_format(s.mean(m), m):>13s}" for m in metrics)
            lines.append(
                f"  {s.date:10s} {len(s.sets):4d} {len(s.reps):4d} {cells} {s.fault_rate:10.0%} {s.caution_rate:12.0%}"
            )
        lines.append("  (session means; peak lumbar flexion per rep, averaged over the session's reps)")
        for metric in metrics:
            t = trend(history, metric)
            if t is not None:
                label, unit = TRACKED[metric]
                lines.append(
                    f"  trend {label}: {_format(t.first, metric)} → {_format(t.last, metric)}{unit} over {t.days} days "
                    f"({t.sessions} sessions, {t.per_week:+.2f}{unit} per week)"
                )
        lines.append("")
    return "\n".join(lines).rstrip()


def _short(metric: str) -> str:
    label, unit = TRACKED[metric]
    short = {"peak lumbar flexion": "lumbar flex", "depth (thigh angle at bottom)": "depth thigh"}.get(label, label)
    return f"{short} {unit}".strip()


def _format(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if metric == "hinge_ratio" or metric.endswith("_s") else f"{value:.1f}"


def plot_history(client: str, by_exercise: dict[str, list[Session]], path: Path) -> Path:
    """One panel per exercise and tracked metric: every rep as a dot, the session means as a line."""
    import datetime as dt

    import matplotlib

    matplotlib.use("Agg")  # files only: there is no display
    import matplotlib.dates
    import matplotlib.pyplot as plt

    panels = [(ex, m) for ex, history in by_exercise.items() for m in TRACKED if any(s.values(m) for s in history)]
    panels = [(ex, m) for ex, m in panels if m not in ("descent_s", "ascent_s")] or panels
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.4 * max(1, len(panels))), squeeze=False, sharex=True)
    for ax, (exercise, metric) in zip(axes[:, 0], panels):
        history = by_exercise[exercise]
        for s in history:
            values = s.values(metric)
            ax.plot([dt.date.fromisoformat(s.date)] * len(values), values, ".", color="0.6", ms=4)
        means = [(dt.date.fromisoformat(s.date), s.mean(metric)) for s in history if s.mean(metric) is not None]
        ax.plot([d for d, _ in means], [v for _, v in means], "o-", color="tab:blue")
        label, unit = TRACKED[metric]
        ax.set_ylabel(f"{label}" + (f" ({unit})" if unit else ""), fontsize=8)
        ax.set_title(f"{exercise}", fontsize=9, loc="left")
        ax.grid(alpha=0.3)
    dates = [dt.date.fromisoformat(s.date) for history in by_exercise.values() for s in history]
    if dates and min(dates) == max(dates):  # one day: give the axis a width
        axes[-1, 0].set_xlim(min(dates) - dt.timedelta(days=3), max(dates) + dt.timedelta(days=3))
    locator = matplotlib.dates.AutoDateLocator(maxticks=8)
    axes[-1, 0].xaxis.set_major_locator(locator)
    axes[-1, 0].xaxis.set_major_formatter(matplotlib.dates.ConciseDateFormatter(locator))
    fig.suptitle(f"{client}: per rep (grey) and session means (blue)", fontsize=10)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
    return path


# ----------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``formcheck history``."""
    parser.add_argument("client", metavar="CLIENT", help="client name as in the roster")
    parser.add_argument("--db", default=".", metavar="PATH",
                        help=f"history database, or the batch output folder holding {DB_NAME} (default: ./{DB_NAME})")
    parser.add_argument("--exercise", help="only this exercise (e.g. squat, deadlift)")
    parser.add_argument("--plot", metavar="FILE", help="where to save the plot (default: history-CLIENT.png beside the database)")
    parser.add_argument("--no-plot", action="store_true", help="print only")


def resolve_db(path: str | os.PathLike) -> Path:
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / DB_NAME
    if not path.is_file():
        raise InputError(f"no history database at {path} (formcheck batch writes {DB_NAME} into its --out folder; use --db)")
    return path


def run(args: argparse.Namespace) -> int:
    """Run ``formcheck history``: print the sessions and trends, save the plot."""
    import difflib

    db_path = resolve_db(args.db)
    with HistoryDB(db_path, read_only=True) as db:
        reps = db.reps(args.client, args.exercise)
        if not reps:
            known = db.clients()
            close = difflib.get_close_matches(args.client, known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else (f" (clients: {', '.join(known[:10])})" if known else "")
            what = f"{args.exercise} reps" if args.exercise else "reps"
            raise InputError(f"no {what} of client {args.client!r} in {db_path}{hint}")
    plot = None
    if not args.no_plot:
        plot = check_plot_path(Path(args.plot)) if args.plot else db_path.parent / f"history-{safe_name(args.client)}.png"
    by_exercise = sessions(reps)
    print(history_text(args.client, by_exercise))
    if plot is not None:
        print(f"Plot: {printable(plot_history(printable(args.client), by_exercise, plot))}")
    return 0


#: Formats Matplotlib writes a plot in, by file suffix.
PLOT_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".webp")


def check_plot_path(path: Path) -> Path:
    """``--plot`` if a plot can be saved there, else InputError saying what to give instead."""
    if path.is_dir():
        raise InputError(f"--plot {path} is a folder; give a file name, e.g. {path / 'history.png'}")
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"--plot {path}: give a file name ending in {', '.join(PLOT_SUFFIXES)}")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"--plot {path}: the folder {folder} does not exist")
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m formcheck.apps.coach.history`` (same as ``formcheck history``)."""
    parser = Parser(prog="formcheck history", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return guarded(lambda: run(args))


if __name__ == "__main__":
    raise SystemExit(main())
