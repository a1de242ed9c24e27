"""``formcheck batch``: every set in folders of client videos, in parallel, resumable.

One command analyses every video under the inputs (folders or globs), one
output folder per video with the same files as ``formcheck analyze``, then
writes a roster of the clients (``roster.csv``, ``sets.csv``, ``index.html``,
see :mod:`formcheck.roster`) and adds every rep to the client history database
(:mod:`formcheck.history`).

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
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import glob
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from formcheck import __version__
from formcheck.errors import FormcheckError, InputError
from formcheck.fileio import write_text_atomic

#: File suffixes taken as videos when searching folders (explicit files are always taken).
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp", ".mts"})
#: The completion marker of one video's output folder.
RECORD_NAME = "batch.json"
RECORD_FORMAT = "formcheck.batch-record"
RECORD_VERSION = 1
WORK_DIR = ".work"
CACHE_DIR = ".cache"
LOCK_NAME = ".lock"
DB_NAME = "history.sqlite"
#: Exit status when the batch finished but some videos got error entries.
EXIT_SOME_ERRORS = 4
#: For the CLI's sub-command.
HELP = "analyse folders of client videos in parallel (resumable): roster, index, client history"
DESCRIPTION = (
    "Analyse every video under the inputs (one sub-folder per client), in parallel processes or on a Dask "
    "cluster. Re-runs skip finished videos; landmark tracks are cached, so a new profile only re-analyses. "
    "Writes per video the files of 'analyze', plus roster.csv, sets.csv, index.html and history.sqlite."
)
#: Still images of reps with faults written per video (linked from the index).
MAX_STILLS_PER_VIDEO = 10
#: Crash/kill leftovers in a cache shared with other outputs are removed only once this old.
STALE_TMP_S = 6 * 3600
_GLOB_CHARS = re.compile(r"[*?\[]")


# ----------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class Job:
    """One video to analyse.

    Attributes
    ----------
    video : str
        Absolute path of the video file.
    client : str
        Client name as shown in the roster (folder name or manifest entry).
    set_id : str
        Output folder below OUT, ``<client>/<path below the client folder,
        without suffix>`` with unsafe characters replaced.
    exercise : str
        ``auto``, ``squat`` or ``deadlift``.
    date : str or None
        ``YYYY-MM-DD`` from the manifest; None lets the worker find it.
    sha256 : str or None
        Content hash when already known (an earlier record of the same file
        size and modification time); None makes the worker hash the file.
    """

    video: str
    client: str
    set_id: str
    exercise: str = "auto"
    date: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Settings:
    """What every video of a run is analysed with (sent to the workers)."""

    out: str
    cache: str
    video: bool = True
    thresholds: dict | None = None
    thresholds_digest: str = ""

    def digest(self, job: Job) -> str:
        """Changes whenever a finished result of ``job`` would no longer be what this run produces."""
        key = json.dumps(
            [__version__, self.video, self.thresholds_digest, job.exercise, job.date, job.client], sort_keys=True
        )
        return hashlib.sha256(key.encode()).hexdigest()[:16]


def discover_jobs(
    inputs: Iterable[str],
    *,
    manifest: str | os.PathLike | None = None,
    exercise: str = "auto",
    client: str | None = None,
    exclude: Path | None = None,
) -> tuple[list[Job], list[str]]:
    """The videos to analyse, with their clients and output folders.

    Parameters
    ----------
    inputs : iterable of str
        Folders (searched recursively for video files), globs or files.
    manifest : path-like, optional
        CSV with columns ``video`` (required; relative to the CSV),
        ``client``, ``exercise``, ``date`` (any may be empty).
    exercise : str
        Exercise for videos the manifest does not name.
    client : str, optional
        Every video of the inputs belongs to this client (the manifest still
        overrides); output folders then keep the whole path below the input.
    exclude : Path, optional
        A folder whose contents are never taken (the batch output).

    Returns
    -------
    jobs : list of Job
        Sorted by client and output folder; one per distinct file.
    warnings : list of str
        Inputs that matched nothing.
    """
    found: dict[Path, tuple[str, tuple[str, ...]]] = {}  # file → (client, parts below the client folder)
    warnings: list[str] = []
    for text in inputs:
        matches = _expand_input(text, exclude)
        if not matches:
            warnings.append(f"{text}: no video files found")
        for path, root in matches:
            found.setdefault(path, _client_and_parts(path, root, client))
    overrides = _read_manifest(Path(manifest)) if manifest is not None else {}
    for path in overrides:
        if path not in found:
            found[path] = (path.parent.name or "client", (path.stem,))
    jobs = []
    for path, (client, parts) in found.items():
        row = overrides.get(path, {})
        client = row.get("client") or client
        jobs.append(
            Job(
                video=str(path),
                client=client,
                set_id="/".join([_slug(client), *(_slug(p) for p in parts)]),
                exercise=row.get("exercise") or exercise,
                date=row.get("date") or None,
            )
        )
    return _unique_set_ids(jobs), warnings


def _expand_input(text: str, exclude: Path | None) -> list[tuple[Path, Path]]:
    """(video, root folder) pairs for one input: a glob, a folder or a file."""
    pattern = os.path.expanduser(text)
    if _GLOB_CHARS.search(pattern):
        parts = Path(pattern).parts
        static = []
        for part in parts[:-1]:
            if _GLOB_CHARS.search(part):
                break
            static.append(part)
        root = Path(*static) if static else Path(".")
        paths = [Path(p) for p in glob.glob(pattern, recursive=True)]  # skips hidden names
        suffix = Path(pattern).suffix
        if not suffix or _GLOB_CHARS.search(suffix):  # "clients/*/*": keep the videos only
            paths = [p for p in paths if p.suffix.lower() in VIDEO_SUFFIXES]
        paths = [p for p in paths if p.is_file()]
    else:
        given = Path(pattern)
        if given.is_dir():
            root = given
            paths = [
                p for p in given.rglob("*")
                if p.suffix.lower() in VIDEO_SUFFIXES and not _hidden(p.relative_to(given)) and p.is_file()
            ]
        elif given.is_file():
            root, paths = given.parent, [given]
        else:
            return []
    # Absolute, but symlinks kept: a linked video still belongs to the client folder it is linked from.
    root = _absolute(root)
    out = []
    for p in paths:
        if exclude is not None and Path(os.path.realpath(p)).is_relative_to(exclude):
            continue
        out.append((_absolute(p), root))
    return sorted(out)


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _client_and_parts(path: Path, root: Path, client: str | None = None) -> tuple[str, tuple[str, ...]]:
    relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    stemmed = (*relative.parts[:-1], Path(relative.parts[-1]).stem)
    if client:
        return client, stemmed
    if len(relative.parts) > 1:
        return relative.parts[0], stemmed[1:]
    return (root.name or "client"), stemmed


def _read_manifest(path: Path) -> dict[Path, dict[str, str]]:
    """``{video: {client, exercise, date}}`` from a manifest CSV (empty cells dropped)."""
    if not path.is_file():
        raise InputError(f"{path}: manifest not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc})") from None
    out: dict[Path, dict[str, str]] = {}
    for number, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("video"):
            raise InputError(f"{path}, line {number}: the manifest needs a 'video' column with a file in every row")
        video = Path(os.path.expanduser(row["video"]))
        video = _absolute(video if video.is_absolute() else path.parent / video)
        entry = {}
        if row.get("client"):
            entry["client"] = row["client"]
        if row.get("exercise"):
            if row["exercise"].lower() not in exercise_choices():
                raise InputError(
                    f"{path}, line {number}: exercise {row['exercise']!r} is not one of {', '.join(exercise_choices())}"
                )
            entry["exercise"] = row["exercise"].lower()
        if row.get("date"):
            entry["date"] = _parse_date(row["date"], f"{path}, line {number}")
        out[video] = entry
    return out


def exercise_choices() -> tuple[str, ...]:
    """``auto`` and every exercise the analysis knows (the plug-in registry)."""
    from formcheck.exercises import EXERCISES

    return ("auto", *EXERCISES)


def _parse_date(text: str, where: str) -> str:
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise InputError(f"{where}: date {text!r} is not YYYY-MM-DD") from None


def _slug(name: str) -> str:
    """A safe single path component: no separators, no leading dots (no ``..``)."""
    cleaned = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    return cleaned or "_"


def _unique_set_ids(jobs: list[Job]) -> list[Job]:
    """Disambiguate videos that would share an output folder (``a.mp4`` and ``a.mov``)."""
    jobs = sorted(jobs, key=lambda j: (j.set_id, j.video))
    counts = Counter(j.set_id for j in jobs)
    taken: set[str] = set()
    out = []
    for job in jobs:
        set_id = job.set_id
        if counts[set_id] > 1:
            set_id = f"{set_id}_{_slug(Path(job.video).suffix.lstrip('.')) or 'video'}"
        base, n = set_id, 2
        while set_id.casefold() in taken:
            set_id, n = f"{base}_{n}", n + 1
        taken.add(set_id.casefold())
        out.append(replace(job, set_id=set_id))
    return sorted(out, key=lambda j: (j.client.casefold(), j.set_id))


# ----------------------------------------------------------------------------- one video (runs in a worker)
def process_video(job: Job, settings: Settings) -> dict:
    """Analyse one video into ``OUT/<set_id>/`` and return its record.

    Never raises for a bad video: the record then has ``status: "error"`` and
    the reason. Outputs appear all at once (staging folder + rename).
    """
    import warnings

    from formcheck.pipeline import analyze_video

    started = time.perf_counter()
    out = Path(settings.out)
    staging = _new_staging(out, job)
    record = _base_record(job, settings)
    try:
        video = Path(job.video)
        try:
            stat = video.stat()
        except OSError:
            raise InputError(f"{video} does not exist or cannot be read") from None
        record["source"] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        record["source"]["sha256"] = job.sha256 or file_sha256(video)
        record["date"], record["date_source"] = (job.date, "manifest") if job.date else recorded_date(video, stat)
        track = _cached_track(Path(settings.cache), record["source"]["sha256"], job, staging)
        with warnings.catch_warnings():  # numpy all-NaN noise on videos without a person; the record says what went wrong
            warnings.simplefilter("ignore", RuntimeWarning)
            report = analyze_video(
                video,
                staging,
                exercise=job.exercise,
                landmarks=track,
                video=settings.video,
                thresholds=settings.thresholds,
            )
        record["landmarks_from_cache"] = track is not None
        if track is None and (staging / "landmarks.npz").is_file():
            _store_in_cache(staging / "landmarks.npz", Path(settings.cache) / f"{record['source']['sha256']}.npz")
        record["summary"] = _summary(report)
        if report.pose_detected_fraction == 0:
            record.update(status="error", error="no person was found in the video")
        if (staging / "annotated.mp4").is_file():
            try:
                record["stills"] = write_stills(staging / "annotated.mp4", report, staging)
            except Exception:  # stills only illustrate the index; the analysis stands without them
                record["stills"] = {}
    except FormcheckError as exc:
        record.update(status="error", error=str(exc))
    except Exception as exc:  # one bad file never stops the batch
        record.update(status="error", error=_internal(exc))
    if record["status"] == "error" and "summary" not in record:
        _empty_folder(staging)  # half-made outputs of a failed analysis are not results
    record["seconds"] = round(time.perf_counter() - started, 3)
    record["analysed_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    write_text_atomic(staging / RECORD_NAME, json.dumps(record, indent=2, allow_nan=False) + "\n")
    publish(staging, out / job.set_id, out / WORK_DIR)
    return record


def _base_record(job: Job, settings: Settings) -> dict:
    return {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "formcheck_version": __version__,
        "set_id": job.set_id,
        "client": job.client,
        "video": job.video,
        "exercise_requested": job.exercise,
        "settings": settings.digest(job),
        "status": "ok",
        "error": None,
        "date": job.date,
        "date_source": "manifest" if job.date else None,
        "source": None,
        "landmarks_from_cache": False,
        "stills": {},
    }


def _summary(report) -> dict:
    severities = Counter(f.severity for f in report.faults)
    return {
        "exercise": report.exercise,
        "view": report.view,
        "rep_count": report.rep_count,
        "frames": report.frame_count,
        "duration_s": round(report.duration_s, 3),
        "pose_detected_fraction": round(report.pose_detected_fraction, 3),
        "faults": severities.get("fault", 0),
        "cautions": severities.get("caution", 0),
    }


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's content, read in chunks (phone videos are large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def recorded_date(video: Path, stat: os.stat_result) -> tuple[str, str]:
    """(YYYY-MM-DD, source): the container's ``creation_time`` if plausible, else the file's mtime."""
    try:
        import av

        with av.open(str(video)) as container:
            tags = dict(container.metadata)
            for stream in container.streams.video[:1]:
                tags = {**dict(stream.metadata), **tags}
        stamp = tags.get("creation_time") or tags.get("com.apple.quicktime.creationdate")
        if stamp:
            when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            now = dt.datetime.now(dt.timezone.utc)
            if dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) < when < now + dt.timedelta(days=1):
                return when.astimezone().date().isoformat(), "container"
    except Exception:  # any unreadable tag falls back to the file time
        pass
    return dt.datetime.fromtimestamp(stat.st_mtime).date().isoformat(), "mtime"


def _cached_track(cache: Path, sha: str, job: Job, staging: Path) -> Path | None:
    """The cached track of this content as ``landmarks.npz`` in the staging folder, or None."""
    from formcheck.track import PoseTrack

    cached = cache / f"{sha}.npz"
    if not cached.is_file():
        return None
    try:
        track = PoseTrack.load(cached)
    except ValueError:  # damaged or from an incompatible version: recompute it
        cached.unlink(missing_ok=True)
        return None
    target = staging / "landmarks.npz"
    if track.meta.get("source") == job.video:
        try:
            os.link(cached, target)  # tracks are replaced, never edited, so sharing the file is safe
            return target
        except OSError:
            pass
    # Same content under another path (copied or moved): the report names this path.
    return replace(track, meta={**track.meta, "source": job.video}).save(target)


def _store_in_cache(track_file: Path, cached: Path) -> None:
    """Put a finished track into the cache atomically (a hard link when possible: no copy)."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".tmp-{os.getpid()}-{cached.name}")
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(track_file, tmp)
        except OSError:
            shutil.copyfile(track_file, tmp)
        os.replace(tmp, cached)
    except OSError:
        tmp.unlink(missing_ok=True)  # a cache we cannot write only costs speed


def write_stills(annotated: Path, report, folder: Path) -> dict[str, str]:
    """JPEG of the worst moment of each rep with a fault or caution, taken from the annotated video.

    Returns ``{rep index: file name}``. The moment is the middle frame of the
    rep's worst finding (faults before cautions, then confidence); the
    annotated video has one frame per analysed frame.
    """
    import cv2

    from formcheck.source import read_frames

    reps_at: dict[int, list[int]] = {}
    for rep in [r for r in report.reps if r.faults][:MAX_STILLS_PER_VIDEO]:
        worst = max(rep.faults, key=lambda f: (f.severity == "fault", f.confidence))
        middle = (worst.start_frame + max(worst.end_frame - 1, worst.start_frame)) // 2
        reps_at.setdefault(middle, []).append(rep.index)
    names: dict[str, str] = {}
    if not reps_at:
        return names
    with read_frames(annotated) as reader:
        for index, _, frame in reader.frames_at(reps_at):
            for rep_index in reps_at[index]:
                name = f"rep{rep_index}.jpg"
                if cv2.imwrite(str(folder / name), frame, [cv2.IMWRITE_JPEG_QUALITY, 85]):
                    names[str(rep_index)] = name
    return names


# ----------------------------------------------------------------------------- atomic output folders
def _new_staging(out: Path, job: Job) -> Path:
    import secrets

    work = out / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    staging = work / f"{_job_token(job)}.{os.getpid()}.{secrets.token_hex(4)}"
    staging.mkdir()
    return staging


def _job_token(job: Job) -> str:
    return hashlib.sha1(job.set_id.encode()).hexdigest()[:16]


def _empty_folder(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def publish(staging: Path, final: Path, work: Path, attempts: int = 5) -> None:
    """Move a finished staging folder to ``final``, replacing an older result.

    Two renames: the old folder into ``work``, the new one into place. A kill
    between them leaves no result for this video, so the next run redoes it;
    never a mix of old and new files.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(attempts):
        if final.exists():
            old = work / f"{staging.name}.old"
            try:
                os.rename(final, old)
            except FileNotFoundError:
                pass
            else:
                shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(staging, final)
            return
        except OSError:  # another writer (a stray worker of a killed run) got there first: go again
            time.sleep(0.05)
    raise OSError(f"cannot move the results into {final}")


def read_record(folder: Path) -> dict | None:
    """The completion record of an output folder, or None (absent, unreadable or foreign)."""
    try:
        record = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT or record.get("version") != RECORD_VERSION:
        return None
    return record


def _known_sha256(record: dict | None, job: Job) -> str | None:
    """The content hash of an earlier record of the same file (same size and modification time)."""
    if record is None or record.get("video") != job.video or not record.get("source"):
        return None
    try:
        stat = os.stat(job.video)
    except OSError:
        return None
    source = record["source"]
    if source.get("size") == stat.st_size and source.get("mtime_ns") == stat.st_mtime_ns:
        return source.get("sha256")
    return None


def is_up_to_date(record: dict | None, job: Job, settings: Settings, out: Path) -> bool:
    """True if the folder holds a successful result of this file with these settings."""
    return (
        record is not None
        and record.get("status") == "ok"
        and record.get("settings") == settings.digest(job)
        and (out / job.set_id / "report.json").is_file()
        and _known_sha256(record, job) is not None
    )


class OutputLock:
    """Exclusive lock on an output folder (released by the OS even after ``kill -9``)."""

    def __init__(self, out: Path):
        self.path = out / LOCK_NAME
        self._fh = None

    def __enter__(self) -> "OutputLock":
        try:
            import fcntl
        except ImportError:  # not on POSIX: run unlocked
            return self
        self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            raise FormcheckError(f"another formcheck batch is writing to {self.path.parent}; wait for it to finish") from None
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fh is not None:
            self._fh.close()


def clean_leftovers(out: Path, cache: Path) -> int:
    """Remove what a killed run left behind: staging folders and temporary files. Returns the count."""
    removed = 0
    work = out / WORK_DIR
    if work.is_dir():
        for child in work.iterdir():
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
            removed += 1
    cache_is_ours = cache.resolve().is_relative_to(out.resolve())
    if cache.is_dir():
        for tmp in cache.glob(".tmp-*"):
            if cache_is_ours or time.time() - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink(missing_ok=True)
                removed += 1
    for tmp in out.glob(".tmp-*"):  # roster/index/sets written atomically at the top level
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


# ----------------------------------------------------------------------------- running the jobs
def error_record(job: Job, settings: Settings, reason: str) -> dict:
    """Record (and publish) an error for a video whose worker could not report one itself."""
    out = Path(settings.out)
    staging = _new_staging(out, job)
    record = {**_base_record(job, settings), "status": "error", "error": reason, "seconds": 0.0}
    record["analysed_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    write_text_atomic(staging / RECORD_NAME, json.dumps(record, indent=2) + "\n")
    publish(staging, out / job.set_id, out / WORK_DIR)
    return record


def run_inline(jobs: list[Job], settings: Settings, on_result: Callable[[dict], None]) -> None:
    """Analyse in this process, one after the other."""
    for job in jobs:
        try:
            record = process_video(job, settings)
        except Exception as exc:  # process_video reports bad videos itself; this is a failure around it
            record = error_record(job, settings, _internal(exc))
        on_result(record)


def _internal(exc: BaseException) -> str:
    return f"internal error: {exc.__class__.__name__}: {exc}"


def run_local(
    jobs: list[Job],
    settings: Settings,
    workers: int,
    on_result: Callable[[dict], None],
    task: Callable[[Job, Settings], dict] | None = None,
) -> None:
    """Analyse in a pool of ``workers`` processes.

    A video that kills its worker process (a native crash, the kernel's
    out-of-memory killer) breaks the pool; the pool is restarted, the videos
    that were running are retried one at a time, and one that kills its worker
    again gets an error entry. ``task`` replaces :func:`process_video` (tests).
    """
    task = task or process_video
    queue = list(jobs)
    while queue:
        unfinished, started = _run_pool(queue, settings, workers, on_result, task)
        for job in [j for j in unfinished if j in started]:
            again, _ = _run_pool([job], settings, 1, on_result, task)
            if again:
                on_result(error_record(job, settings, "the analysis process died on this video (a crash, or out of memory)"))
        queue = [j for j in unfinished if j not in started]


def _run_pool(jobs, settings, workers, on_result, task) -> tuple[list[Job], set[Job]]:
    """Run jobs in a fresh process pool. Returns (jobs left unfinished by a broken pool, those of them that had started)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: the parent may hold threads and native state (PyAV, OpenCV) a fork would copy half-way.
    context = multiprocessing.get_context("spawn")
    unfinished = []
    pool = ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))), mp_context=context)
    try:
        futures = {pool.submit(task, job, settings): job for job in jobs}
        for future in as_completed(futures):
            try:
                record = future.result()
            except BrokenProcessPool:
                unfinished.append(futures[future])
                continue
            except Exception as exc:  # raised around the analysis (e.g. a broken install on the worker)
                record = error_record(futures[future], settings, _internal(exc))
            on_result(record)
    except BaseException:  # Ctrl-C: do not wait for the running videos (their staging folders are cleaned next run)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    work = Path(settings.out) / WORK_DIR
    tokens = {p.name.split(".")[0] for p in work.iterdir()} if work.is_dir() else set()
    started = {job for job in unfinished if _job_token(job) in tokens}
    for job in started:  # what the dead worker left
        for staging in work.glob(f"{_job_token(job)}.*"):
            shutil.rmtree(staging, ignore_errors=True)
    return unfinished, started


def run_dask(jobs: list[Job], settings: Settings, scheduler: str, on_result: Callable[[dict], None]) -> None:
    """Analyse on a Dask distributed cluster (workers need the same paths as this machine)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise FormcheckError("--scheduler needs Dask: pip install 'formcheck[dask]'") from None
    try:
        client = Client(scheduler, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise FormcheckError(f"cannot reach the Dask scheduler at {scheduler} ({exc.__class__.__name__})") from None
    with client:
        futures = client.map(
            process_video, jobs, settings=settings, pure=False, key=[f"formcheck-{_job_token(j)}-{time.time_ns()}" for j in jobs]
        )
        by_key = {future.key: job for future, job in zip(futures, jobs)}
        try:
            for future in as_completed(futures):
                try:
                    record = future.result()
                except Exception as exc:  # a worker died repeatedly (KilledWorker), or lost
                    job = by_key[future.key]
                    record = error_record(job, settings, f"the Dask worker failed on this video ({exc.__class__.__name__}: {exc})")
                on_result(record)
        except BaseException:
            client.cancel(futures)
            raise


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
            + f", {self.skipped} already done, {len(self.errors)} error{'s' if len(self.errors) != 1 else ''}; "
            f"{self.reps} reps."
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
    from formcheck import history, roster

    started = time.perf_counter()
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cache).expanduser().resolve() if cache else out / CACHE_DIR
    cache_dir.mkdir(parents=True, exist_ok=True)
    db_path = Path(db).expanduser() if db else out / DB_NAME
    thresholds, thresholds_digest = load_thresholds(profile)
    settings = Settings(str(out), str(cache_dir), video, thresholds, thresholds_digest)
    jobs, warnings = discover_jobs(inputs, manifest=manifest, exercise=exercise, client=client, exclude=out)
    if not jobs:
        raise InputError("no videos found in " + (", ".join(inputs) or str(manifest)))

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
                pending.append(replace(job, sha256=_known_sha256(record, job)))
        # Re-analysis from cached landmarks without a video to render takes well under a second a video:
        # less than starting worker processes, so it runs here.
        here = [j for j in pending if workers == 0 or (not video and j.sha256 and (cache_dir / f"{j.sha256}.npz").is_file())]
        # Longest first: the last video to finish is then a short one, and the pool's tail is short.
        weights = {j.set_id: estimated_frames(j.video) for j in pending}
        elsewhere = sorted((j for j in pending if j not in here), key=lambda j: -weights[j.set_id])

        with history.HistoryDB(db_path) as database, _Progress(pending, weights, quiet, log) as progress:
            def on_result(record: dict) -> None:
                records[record["set_id"]] = record
                summary.analysed += record["status"] == "ok"
                summary.from_cache += bool(record["status"] == "ok" and record.get("landmarks_from_cache"))
                database.store(record, roster.read_report(out, record))
                progress.done(record)

            run_inline(here, settings, on_result)
            if elsewhere and scheduler:
                run_dask(elsewhere, settings, scheduler, on_result)
            elif elsewhere:
                run_local(elsewhere, settings, workers or os.cpu_count() or 1, on_result)
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
    from formcheck.profiles import load_profile

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
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.stop()

    def done(self, record: dict) -> None:
        self.finished += 1
        line = _record_line(record)
        if self.bar is not None:
            self.bar.update(self.task, advance=self.sizes.get(record["set_id"], 0), videos=self._count())
            self.bar.console.print(line, markup=False, highlight=False)
        elif self.log is not None:
            self.log(line)
        elif not self.quiet:
            print(line, file=sys.stderr, flush=True)


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
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-video lines; only the end summary")


def run(args: argparse.Namespace) -> int:
    """Run ``formcheck batch``; returns the exit status (0, or 4 if some videos got error entries)."""
    if not args.inputs and not args.manifest:
        raise InputError("give at least one folder, glob or video (or --manifest)")
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers must be at least 1")
    summary = run_batch(
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
    )
    out = summary.out
    db = Path(args.db) if args.db else out / DB_NAME
    print(summary.text({"roster": out / "roster.csv", "index": out / "index.html", "history": db}))
    return EXIT_SOME_ERRORS if summary.errors else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m formcheck.batch`` (same as ``formcheck batch``)."""
    parser = argparse.ArgumentParser(prog="formcheck batch", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    from formcheck.cli import guarded

    return guarded(lambda: run(args), interrupted="interrupted (finished videos are kept; run again to do the rest)")


if __name__ == "__main__":
    # Re-import so worker processes unpickle jobs as formcheck.batch.Job, not __main__.Job.
    from formcheck.batch import main as _main

    sys.exit(_main())
