"""The videos of a ``formcheck batch`` run: discovery, clients, output folders, settings.

See :mod:`formcheck.apps.coach.batch` for who the client of a video is and how a CSV
manifest overrides it.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from formcheck.io.provenance import FORMCHECK_VERSION
from formcheck.errors import InputError
from formcheck.io.files import printable, safe_name
from formcheck.exercises import exercise_choices

#: File suffixes taken as videos when searching folders (explicit files are always taken).
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp", ".mts"})
_GLOB_CHARS = re.compile(r"[*?\[]")


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
    found_date : (str, str) or None
        ``(date, source)`` an earlier record of the same file found in the
        container or the file time; None makes the worker read it.
    """

    video: str
    client: str
    set_id: str
    exercise: str = "auto"
    date: str | None = None
    sha256: str | None = None
    found_date: tuple[str, str] | None = None


@dataclass(frozen=True)
class Settings:
    """What every video of a run is analysed with (sent to the workers)."""

    out: str
    cache: str
    video: bool = True
    thresholds: dict | None = None
    thresholds_digest: str = ""
    plate_diameter_m: float | None = None  # None: the analysis's default plate

    def digest(self, job: Job) -> str:
        """Changes whenever a finished result of ``job`` would no longer be what this run produces."""
        facts = [FORMCHECK_VERSION, self.video, self.thresholds_digest, job.exercise, job.date, job.client]
        if self.plate_diameter_m is not None:
            facts.append(self.plate_diameter_m)
        key = json.dumps(facts, sort_keys=True)
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
        # Shown in CSV, HTML and the database, so valid text: a folder name with bytes
        # that are not UTF-8 shows them as U+FFFD (the video path keeps the exact bytes).
        client = printable(row.get("client") or client)
        jobs.append(
            Job(
                video=str(path),
                client=client,
                set_id="/".join([safe_name(client), *(safe_name(p) for p in parts)]),
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


def _parse_date(text: str, where: str) -> str:
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise InputError(f"{where}: date {text!r} is not YYYY-MM-DD") from None


def _unique_set_ids(jobs: list[Job]) -> list[Job]:
    """Disambiguate videos that would share an output folder (``a.mp4`` and ``a.mov``)."""
    jobs = sorted(jobs, key=lambda j: (j.set_id, j.video))
    counts = Counter(j.set_id for j in jobs)
    taken: set[str] = set()
    out = []
    for job in jobs:
        set_id = job.set_id
        if counts[set_id] > 1:
            set_id = f"{set_id}_{safe_name(Path(job.video).suffix.lstrip('.')) or 'video'}"
        base, n = set_id, 2
        while set_id.casefold() in taken:
            set_id, n = f"{base}_{n}", n + 1
        taken.add(set_id.casefold())
        out.append(replace(job, set_id=set_id))
    return sorted(out, key=lambda j: (j.client.casefold(), j.set_id))
