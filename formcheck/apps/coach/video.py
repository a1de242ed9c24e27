"""One video of a ``formcheck batch`` run, and the output folder it lands in atomically.

:func:`process_video` runs in a worker (a local process or a Dask worker):
it analyses one video into a private staging folder, writes the completion
record ``batch.json`` there last, and renames the folder into place (see
:mod:`formcheck.apps.coach.batch`, "Where work happens"). Landmark tracks and the key
frames of the HTML pages are cached by the video's content hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from formcheck.io.provenance import FORMCHECK_VERSION
from formcheck.apps.coach.jobs import Job, Settings
from formcheck.apps.outputs import seal
from formcheck.errors import FormcheckError, InputError
from formcheck.io.files import file_sha256, write_text_atomic
from formcheck.render.html import write_html_report
from formcheck.apps.analyze import analyze_into
from formcheck.pose.track import PoseTrack
from formcheck.io.video import read_frames

#: The completion marker of one video's output folder.
RECORD_NAME = "batch.json"
RECORD_FORMAT = "formcheck.apps.coach.batch-record"
RECORD_VERSION = 1
WORK_DIR = ".work"
#: Key-frame stills of the HTML pages, inside the cache folder.
STILLS_DIR = "stills"
LOCK_NAME = ".lock"
#: Still images of reps with faults written per video (linked from the index).
MAX_STILLS_PER_VIDEO = 10
#: Crash/kill leftovers in a cache shared with other outputs are removed only once this old.
STALE_TMP_S = 6 * 3600


# ----------------------------------------------------------------------------- one video (runs in a worker)
def process_video(job: Job, settings: Settings, progress=None) -> dict:
    """Analyse one video into ``OUT/<set_id>/`` and return its record.

    Never raises for a bad video: the record then has ``status: "error"`` and
    the reason. Outputs appear all at once (staging folder + rename).
    ``progress`` (optional) is called with the number of frames posed so far
    (``formcheck serve`` shows it).
    """
    import warnings

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
        if job.date:
            record["date"], record["date_source"] = job.date, "manifest"
        else:
            record["date"], record["date_source"] = job.found_date or recorded_date(video, stat)
        track = _cached_track(Path(settings.cache), record["source"]["sha256"], job, staging)
        with warnings.catch_warnings():  # numpy all-NaN noise on videos without a person; the record says what went wrong
            warnings.simplefilter("ignore", RuntimeWarning)
            report = analyze_into(  # the staging folder is this video's own: no second one inside it
                video,
                staging,
                exercise=job.exercise,
                landmarks=track,
                video=settings.video,
                html=False,
                thresholds=settings.thresholds,
                progress=progress,
                **({"plate_diameter_m": settings.plate_diameter_m} if settings.plate_diameter_m else {}),
            )
            # The page's key frames depend on the landmarks, not the thresholds: kept beside the tracks.
            write_html_report(staging, video, still_cache=Path(settings.cache) / STILLS_DIR, track=track)
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
    seal(staging)  # the folder is one output set: `formcheck report` may rewrite its page
    publish(staging, out / job.set_id, out / WORK_DIR)
    return record


def _base_record(job: Job, settings: Settings) -> dict:
    return {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "formcheck_version": FORMCHECK_VERSION,
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


def _cached_track(cache: Path, sha: str, job: Job, staging: Path):
    """The cached track of this content (a PoseTrack, also put as ``landmarks.npz`` in the staging folder), or None."""
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
            return track
        except OSError:
            pass
    # Same content under another path (copied or moved): the report names this path.
    track = replace(track, meta={**track.meta, "source": job.video})
    track.save(target)
    return track


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


def _internal(exc: BaseException) -> str:
    return f"internal error: {exc.__class__.__name__}: {exc}"


def error_record(job: Job, settings: Settings, reason: str) -> dict:
    """Record (and publish) an error for a video whose worker could not report one itself."""
    out = Path(settings.out)
    staging = _new_staging(out, job)
    record = {**_base_record(job, settings), "status": "error", "error": reason, "seconds": 0.0}
    record["analysed_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    write_text_atomic(staging / RECORD_NAME, json.dumps(record, indent=2) + "\n")
    seal(staging)
    publish(staging, out / job.set_id, out / WORK_DIR)
    return record


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


def _with_known_source(job: Job, record: dict | None) -> Job:
    """``job`` with the content hash and recorded date of an earlier record of the same file, if any."""
    sha256 = _known_sha256(record, job)
    if sha256 is None:
        return job
    found = (record.get("date"), record.get("date_source"))
    return replace(job, sha256=sha256, found_date=found if found[1] in ("container", "mtime") and found[0] else None)


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
