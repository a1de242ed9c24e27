"""``formcheck batch``: every set in folders of client videos, in parallel, resumable.

One command analyses every video under the inputs (folders or globs), one
output folder per video with the same files as ``formcheck analyze``, then
writes a roster of the clients (``roster.csv``, ``sets.csv``, ``index.html``,
see :mod:`formcheck.apps.coach.roster`) and adds every rep to the client history database
(:mod:`formcheck.apps.coach.history`).

Who the client is
-----------------
The first folder level below an input folder: ``clients/anna/week1/a.mp4``
given as ``clients`` (or ``"clients/*/*/*.mp4"``) belongs to *anna*. Videos
directly inside the input folder belong to that folder (``clients/anna`` or
``"clients/anna/*.mp4"`` → *anna*). A CSV manifest (``--manifest``, columns
``video, client, exercise, date``; paths relative to the CSV) overrides the
client, exercise and date of the videos it lists and adds those not found
under the inputs.

The date of a set
-----------------
From the manifest; else the recording time phones store in the container
(``creation_time``); else the file's modification time (copying a file may
change it). Dates are local calendar dates, ``YYYY-MM-DD``.

Where work happens, and why a kill loses nothing
------------------------------------------------
Each video is analysed into a private staging folder ``OUT/.work/…``; its
completion marker ``batch.json`` is written there last, and only then is the
whole folder renamed to ``OUT/<client>/<set>/`` (a rename is atomic). So an
output folder either holds a complete result or does not exist: a crash or
``kill -9`` leaves at most a staging folder, which the next run deletes before
redoing that video. A re-run skips every video whose ``batch.json`` says it
was analysed from the same file (size and modification time) with the same
settings; error entries are always retried.

Landmark tracks are cached by the SHA-256 of the video's content in
``OUT/.cache`` (or ``--cache``), so re-running with a new profile or
``--force`` re-analyses without the pose model.

Parallelism
-----------
The pose model runs on one thread, so videos run in a pool of processes
(``--workers``, default: one per core). With ``--scheduler tcp://HOST:PORT``
the same work runs on a Dask distributed cluster; its workers must see the
inputs and ``OUT`` at the same paths (a shared file system) and have
formcheck installed. Start them with one thread each
(``dask worker tcp://HOST:PORT --nthreads 1 --nworkers <cores>``).
Re-analyses from cached landmarks without an annotated video take tens of
milliseconds: they run in this process and in forked workers
(:func:`formcheck.apps.coach.pool.run_reanalyses`).

Modules: :mod:`formcheck.apps.coach.jobs` (which videos, whose),
:mod:`formcheck.apps.coach.video` (one video, atomic output folders, caches),
:mod:`formcheck.apps.coach.pool` (where they run); this one runs the whole batch
and the command line.
"""


from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from formcheck.apps.coach.jobs import VIDEO_SUFFIXES, Job, Settings, discover_jobs  # noqa: F401
from formcheck.apps.common import PLATE_DIAMETER_HELP, plate_diameter_option
from formcheck.exercises import exercise_choices
from formcheck.apps.coach.pool import run_dask, run_inline, run_local, run_reanalyses  # noqa: F401
from formcheck.apps.coach.video import (  # noqa: F401
    LOCK_NAME,
    RECORD_NAME,
    WORK_DIR,
    OutputLock,
    _base_record,
    _new_staging,
    _with_known_source,
    clean_leftovers,
    error_record,
    is_up_to_date,
    process_video,
    publish,
    read_record,
)
from formcheck.errors import FormcheckError, InputError  # noqa: F401
from formcheck.apps.common import Terminated, plural
from formcheck.io.files import printable
from formcheck.apps.coach import history
from formcheck.apps.coach import roster
from formcheck.exercises.profiles import load_profile

CACHE_DIR = ".cache"
DB_NAME = "history.sqlite"
#: Exit status when the batch finished but some videos got error entries.
EXIT_SOME_ERRORS = 4
#: For the CLI's sub-command.
DESCRIPTION = (
    "Analyse every video under the inputs (one sub-folder per client), in parallel processes or on a Dask "
    "cluster. Re-runs skip finished videos; landmark tracks are cached, so a new profile only re-analyses. "
    "Writes per video the files of 'analyze', plus roster.csv, sets.csv, index.html and history.sqlite."
)


# ----------------------------------------------------------------------------- the whole batch
@dataclass
class BatchSummary:
    """What a batch run did (also printed at the end)."""

    out: Path
    records: list[dict] = field(default_factory=list)  # one per job, this run's or the earlier finished one
    analysed: int = 0
    from_cache: int = 0
    skipped: int = 0
    errors: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def reps(self) -> int:
        return sum((r.get("summary") or {}).get("rep_count", 0) for r in self.records if r["status"] == "ok")

    def text(self, files: dict[str, Path]) -> str:
        n = len(self.records)
        clients = len({r["client"] for r in self.records})
        lines = [
            f"Batch done in {_duration(self.seconds)}: {n} video{'s' if n != 1 else ''} of {clients} "
            f"client{'s' if clients != 1 else ''} — {self.analysed} analysed"
            + (f" ({self.from_cache} from cached landmarks)" if self.from_cache else "")
            + f", {self.skipped} already done, {plural(len(self.errors), 'error')}; "
            f"{plural(self.reps, 'rep')}."
        ]
        for warning in self.warnings:
            lines.append(f"  warning: {warning}")
        for record in self.errors:
            lines.append(f"  error: {record['set_id']} ({record['video']}): {record['error']}")
        lines.append("  " + " · ".join(f"{name}: {path}" for name, path in files.items()))
        return "\n".join(lines)


def run_batch(
    inputs: list[str],
    out: str | os.PathLike,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    profile: str | os.PathLike | None = None,
    manifest: str | os.PathLike | None = None,
    exercise: str = "auto",
    client: str | None = None,
    video: bool = True,
    db: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    force: bool = False,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
    plate_diameter_m: float | None = None,
) -> BatchSummary:
    """Analyse every video of the inputs; see the module docstring.

    Worker processes are spawned: a script calling this must do so under
    ``if __name__ == "__main__":``.

    Parameters
    ----------
    workers : int, optional
        Processes for the local pool (default: CPU count); 0 runs in this process.
    scheduler : str, optional
        Dask scheduler address; runs there instead of the local pool.
    force : bool
        Re-analyse finished videos too (landmarks still come from the cache).
    log : callable, optional
        Receives one line per finished video (default: stderr unless quiet).

    Raises
    ------
    FormcheckError
        No videos found, unusable manifest or profile, output folder busy.
    """
    started = time.perf_counter()
    out = Path(out).expanduser().resolve()
    cache_dir = Path(cache).expanduser().resolve() if cache else out / CACHE_DIR
    db_path = Path(db).expanduser() if db else out / DB_NAME
    # Every input is checked before any folder is made.
    for folder, option in ((out, "--out"), (cache_dir, "--cache")):
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{option} {folder} is a file; give a folder")
    thresholds, thresholds_digest = load_thresholds(profile)
    settings = Settings(str(out), str(cache_dir), video, thresholds, thresholds_digest, plate_diameter_m)
    jobs, warnings = discover_jobs(inputs, manifest=manifest, exercise=exercise, client=client, exclude=out)
    if not jobs:
        raise InputError("no videos found in " + (", ".join(inputs) or str(manifest)))
    out.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)

    summary = BatchSummary(out=out, warnings=warnings)
    with OutputLock(out):
        clean_leftovers(out, cache_dir)
        records: dict[str, dict] = {}
        pending = []
        for job in jobs:
            record = read_record(out / job.set_id)
            if not force and is_up_to_date(record, job, settings, out):
                records[job.set_id] = record
                summary.skipped += 1
            else:
                pending.append(_with_known_source(job, record))
        # Re-analysis from cached landmarks without a video to render takes a few tens of milliseconds a
        # video: less than starting a spawned worker process, so it runs here or in forked workers.
        quick = [j for j in pending if not video and j.sha256 and (cache_dir / f"{j.sha256}.npz").is_file()]
        here = pending if workers == 0 else quick
        # Longest first: the last video to finish is then a short one, and the pool's tail is short.
        # (A re-analysis from cache weighs 1 and needs no look into the file.)
        weights = {j.set_id: 1.0 if j in quick else estimated_frames(j.video) for j in pending}
        elsewhere = sorted((j for j in pending if j not in here), key=lambda j: -weights[j.set_id])
        workers = workers if workers is not None else os.cpu_count() or 1

        with history.HistoryDB(db_path) as database, _Progress(pending, weights, quiet, log) as progress:
            def on_result(record: dict) -> None:
                records[record["set_id"]] = record
                summary.analysed += record["status"] == "ok"
                summary.from_cache += bool(record["status"] == "ok" and record.get("landmarks_from_cache"))
                database.store(record, roster.read_report(out, record))
                progress.done(record)

            run_reanalyses(here, settings, workers, on_result, on_started=progress.start)
            if elsewhere and scheduler:
                run_dask(elsewhere, settings, scheduler, on_result)
            elif elsewhere:
                run_local(elsewhere, settings, workers, on_result)
            for record in records.values():  # e.g. the history database was replaced or a run was killed before storing
                database.ensure(record, lambda r=record: roster.read_report(out, r))

        summary.records = [records[j.set_id] for j in jobs if j.set_id in records]
        summary.errors = [r for r in summary.records if r["status"] == "error"]
        roster.write_all(out, summary.records)
    summary.seconds = time.perf_counter() - started
    return summary


def load_thresholds(profile: str | os.PathLike | None) -> tuple[dict | None, str]:
    """Thresholds from a profile file and a digest of them (for the up-to-date check)."""
    if profile is None:
        return None, ""
    thresholds = load_profile(profile)
    text = repr(sorted((ex, sorted(codes.items())) for ex, codes in thresholds.items()))
    return thresholds, hashlib.sha256(text.encode()).hexdigest()[:16]


class _Progress:
    """A rich progress bar over the pending videos (weighted by their frame counts, for a fair
    ETA), plus one line per finished video."""

    def __init__(self, jobs: list[Job], weights: dict[str, float], quiet: bool, log: Callable[[str], None] | None):
        self.sizes = {j.set_id: weights.get(j.set_id, 1.0) for j in jobs}
        self.total_videos = len(jobs)
        self.finished = 0
        self.quiet = quiet
        self.log = log
        self.bar = None
        self.started = False
        if not quiet and jobs and sys.stderr.isatty() and log is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[videos]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=True,
            )
            self.task = self.bar.add_task("analysing", total=max(1, sum(self.sizes.values())), videos=self._count())

    def _count(self) -> str:
        return f"{self.finished}/{self.total_videos} videos"

    def __enter__(self) -> "_Progress":
        return self

    def start(self) -> None:
        """Show the bar (its refresh thread starts now: after any fork)."""
        if self.bar is not None and not self.started:
            self.bar.start()
            self.started = True

    def __exit__(self, *exc_info) -> None:
        if self.started:
            self.bar.stop()

    def done(self, record: dict) -> None:
        self.finished += 1
        line = _record_line(record)
        if self.bar is not None:
            self.bar.update(self.task, advance=self.sizes.get(record["set_id"], 0), videos=self._count())
            self.bar.console.print(printable(line), markup=False, highlight=False)
        elif self.log is not None:
            self.log(line)
        elif not self.quiet:
            print(printable(line), file=sys.stderr, flush=True)


def _record_line(record: dict) -> str:
    if record["status"] == "error":
        return f"✗ {record['set_id']}: {record['error']}"
    s = record.get("summary") or {}
    reps = s.get("rep_count", 0)
    cached = ", cached landmarks" if record.get("landmarks_from_cache") else ""
    return (
        f"✓ {record['set_id']}: {s.get('exercise', '?')}, {reps} rep{'s' if reps != 1 else ''}, "
        f"{s.get('faults', 0)} fault(s), {s.get('cautions', 0)} caution(s) ({record.get('seconds', 0):.1f} s{cached})"
    )


def estimated_frames(path: str) -> float:
    """Frames in a video from its container header (no decoding); 1 when unknown.

    The analysis time is close to proportional to it: used to start the
    longest videos first and to weight the progress bar.
    """
    try:
        import av

        with av.open(path) as container:
            stream = container.streams.video[0]
            if stream.frames:
                return float(stream.frames)
            if stream.duration and stream.time_base:
                seconds = float(stream.duration * stream.time_base)
            else:
                seconds = (container.duration or 0) / 1e6
            return max(1.0, seconds * float(stream.average_rate or 30))
    except Exception:  # unreadable: its error entry comes quickly
        return 1.0


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{seconds:.1f} s"


# ----------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``formcheck batch``."""
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="folders (one sub-folder per client), globs or video files")
    parser.add_argument("--out", required=True, help="output folder (results, roster.csv, index.html, history.sqlite)")
    parser.add_argument("--workers", type=int, help="processes on this machine (default: one per core)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask distributed scheduler instead")
    parser.add_argument("--profile", metavar="FILE", help="thresholds profile (TOML)")
    parser.add_argument("--manifest", metavar="CSV", help="CSV with columns video, client, exercise, date (overrides folders)")
    parser.add_argument("--exercise", choices=exercise_choices(), default="auto", help="for videos the manifest does not name")
    parser.add_argument("--client", help="all inputs belong to this client (instead of the first folder level)")
    parser.add_argument("--db", metavar="PATH", help=f"client history database (default: OUT/{DB_NAME})")
    parser.add_argument("--cache", metavar="DIR", help=f"landmark cache (default: OUT/{CACHE_DIR}); may be shared between outputs")
    parser.add_argument("--no-video", action="store_true", help="do not write annotated.mp4 (much faster re-analysis)")
    parser.add_argument("--force", action="store_true", help="re-analyse finished videos too (cached landmarks are reused)")
    parser.add_argument("--plate-diameter", type=plate_diameter_option, metavar="MM", help=PLATE_DIAMETER_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-video lines; only the end summary")


def run(args: argparse.Namespace) -> int:
    """Run ``formcheck batch``; returns the exit status (0, or 4 if some videos got error entries)."""
    if not args.inputs and not args.manifest:
        raise InputError("give at least one folder, glob or video (or --manifest)")
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers must be at least 1")
    try:
        summary = _run_batch_from(args)
    except KeyboardInterrupt:
        raise KeyboardInterrupt("interrupted (finished videos are kept; run again to do the rest)") from None
    except Terminated:
        raise Terminated("terminated (finished videos are kept; run again to do the rest)") from None
    out = summary.out
    db = Path(args.db) if args.db else out / DB_NAME
    print(printable(summary.text({"roster": out / "roster.csv", "index": out / "index.html", "history": db})))
    return EXIT_SOME_ERRORS if summary.errors else 0


def _run_batch_from(args: argparse.Namespace) -> "BatchSummary":
    return run_batch(
        args.inputs,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        profile=args.profile,
        manifest=args.manifest,
        exercise=args.exercise,
        client=args.client,
        video=not args.no_video,
        db=args.db,
        cache=args.cache,
        force=args.force,
        quiet=args.quiet,
        plate_diameter_m=args.plate_diameter,
    )
