"""The data folder as ``formcheck batch`` lays it out: set records, clients, roster, trends.

The web app writes its results in the batch's layout (``DATA/<client>/<set>/``
with ``batch.json``, ``history.sqlite``, ``roster.csv``, ``index.html``), so a
``formcheck batch --out DATA`` run and the web app see the same clients. This
module reads that folder for the coach view; the writing is the batch's own
code (:func:`formcheck.apps.coach.video.process_video`,
:class:`formcheck.apps.coach.history.HistoryDB`, :mod:`formcheck.apps.coach.roster`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from formcheck.apps.coach import history, roster
from formcheck.apps.coach.batch import CACHE_DIR, DB_NAME
from formcheck.apps.coach.video import LOCK_NAME, RECORD_NAME, WORK_DIR, OutputLock, clean_leftovers, read_record
from formcheck.errors import FormcheckError

#: Folders of the data folder that never hold set results.
NOT_SETS = {WORK_DIR, CACHE_DIR, ".serve", "uploads"}
PLOTS = Path(".serve") / "plots"


def all_records(data: Path) -> list[dict]:
    """Every set record (``batch.json``) below ``data``: the batch's and the web app's."""
    records = []
    for root, dirs, files in os.walk(data):
        if Path(root) == data:
            dirs[:] = [d for d in dirs if d not in NOT_SETS and not d.startswith(".")]
        if RECORD_NAME in files:
            record = read_record(Path(root))
            if record is not None and (data / record["set_id"]).resolve() == Path(root).resolve():
                records.append(record)
            dirs[:] = []  # a set folder holds no other sets
    return records


def newest_first(records: list[dict]) -> list[dict]:
    """Sets by date then analysis time, newest first."""
    return sorted(records, key=lambda r: (r.get("date") or "", r.get("analysed_at") or ""), reverse=True)


def client_overview(data: Path) -> tuple[list[roster.ClientSummary], list[dict]]:
    """The roster (clients who need attention first) and every record."""
    records = all_records(data)
    clients, _ = roster.summarise(data, records)
    return clients, records


def set_folder(data: Path, set_id: str, records: list[dict] | None = None) -> Path | None:
    """The folder of a known set (None for anything that is not one: no path is built from a request)."""
    known = {r["set_id"]: r for r in (records if records is not None else all_records(data))}
    if set_id not in known:
        return None
    folder = (data / set_id).resolve()
    return folder if folder.is_relative_to(data.resolve()) else None


def trend_plot(data: Path, client: str) -> Path | None:
    """The client's trend plot (``formcheck history``'s), redrawn when the history changed; None without reps."""
    db_path = data / DB_NAME
    if not db_path.is_file():
        return None
    with history.HistoryDB(db_path) as db:
        reps = db.reps(client)
    if not reps:
        return None
    key = hashlib.sha256(repr([(r["set_id"], r["rep"], r.get("peak_lumbar_flexion_deg")) for r in reps]).encode())
    name = hashlib.sha256(client.encode()).hexdigest()[:16]
    plot = data / PLOTS / f"{name}-{key.hexdigest()[:16]}.png"
    if not plot.is_file():
        plot.parent.mkdir(parents=True, exist_ok=True)
        for old in plot.parent.glob(f"{name}-*.png"):
            old.unlink(missing_ok=True)
        history.plot_history(client, history.sessions(reps), plot)
    return plot


def forget_set(data: Path, set_id: str) -> None:
    """Remove a set's results and its rows in the history (a deleted analysis)."""
    folder = (data / set_id).resolve()
    if folder.is_relative_to(data.resolve()) and folder != data.resolve() and folder.is_dir():
        trash = data / WORK_DIR / f"deleted-{hashlib.sha1(set_id.encode()).hexdigest()[:12]}-{os.getpid()}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(folder, trash)  # gone from view at once; the files go after
            shutil.rmtree(trash, ignore_errors=True)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
    db_path = data / DB_NAME
    if db_path.is_file():
        with history.HistoryDB(db_path) as db:
            db.store({"set_id": set_id, "status": "error"}, None)


@contextlib.contextmanager
def data_lock(data: Path) -> Iterator[None]:
    """Exclusive use of the data folder, shared with ``formcheck batch`` (waits for a batch to finish)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: unlocked
        yield
        return
    with open(data / LOCK_NAME, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def clean_at_start(data: Path) -> None:
    """Remove what a killed server or batch left (staging folders), unless a batch is running now."""
    try:
        with OutputLock(data):
            clean_leftovers(data, data / CACHE_DIR)
    except FormcheckError:  # a batch is writing: its staging folders are its own
        pass


def remove_staging_of(data: Path, pid: int) -> None:
    """Remove the staging folders of a worker process that was stopped (cancel)."""
    work = data / WORK_DIR
    if work.is_dir():
        for staging in work.glob(f"*.{pid}.*"):
            shutil.rmtree(staging, ignore_errors=True)
