"""What a worker process runs: one uploaded video through ``formcheck batch``'s one-video job.

A worker is started once (imports paid once) and then takes analyses one by
one over a pipe from :class:`~formcheck.apps.serve.work.WorkQueue`. For each
it runs :func:`~formcheck.apps.coach.video.process_video` (the batch's job:
``analyze_video``, report.html, stills, ``batch.json``, the staging folder
renamed into place), stores the set in ``history.sqlite`` and rewrites the
roster, holding the data folder's lock like a batch does. Messages back:
``("ready", pid)``, ``("progress", id, fraction)``, ``("done", id, record)``.
"""

from __future__ import annotations

import time
from pathlib import Path

#: Seconds between progress messages.
PROGRESS_EVERY_S = 0.2
#: Share of the progress bar for posing the frames; the rest is the report, stills and history.
POSE_SHARE = 0.9


def worker_main(conn, data: str) -> None:
    """Entry point of a worker process (``multiprocessing`` spawn)."""
    import os
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)  # numpy all-NaN noise; the record says what went wrong
    from formcheck.apps.coach import video  # noqa: F401  (the imports, paid before the first job)

    server = os.getppid()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message is None:
            return
        analysis_id, job = message
        try:
            record = run_analysis(Path(data), job, lambda fraction: _report(conn, server, analysis_id, fraction))
        except Exception as exc:  # never leave the queue waiting
            record = {"status": "error", "error": f"internal error: {exc.__class__.__name__}: {exc}"}
        try:
            conn.send(("done", analysis_id, record))
        except (OSError, BrokenPipeError):
            return


def _report(conn, server: int, analysis_id: str, fraction: float) -> None:
    """Send progress; stop at once if the server is gone (killed): its next start queues the video again."""
    import os

    if os.getppid() != server:
        os._exit(0)
    conn.send(("progress", analysis_id, fraction))


def run_analysis(data: Path, job, progress=None) -> dict:
    """Analyse one job into ``data`` the way ``formcheck batch`` does; returns its record."""
    from formcheck.apps.coach import history, roster
    from formcheck.apps.coach.batch import CACHE_DIR, DB_NAME
    from formcheck.apps.coach.jobs import Settings
    from formcheck.apps.coach.video import process_video
    from formcheck.apps.serve import library
    from formcheck.io.video import probe

    try:
        total = probe(job.video).frame_count or 0
    except Exception:  # the job itself reports an unreadable video
        total = 0
    report_progress = _throttled(progress, total) if progress is not None else None
    settings = Settings(out=str(data), cache=str(data / CACHE_DIR), video=True)
    with library.data_lock(data):
        record = process_video(job, settings, progress=report_progress)
        with history.HistoryDB(data / DB_NAME) as db:
            db.store(record, roster.read_report(data, record))
        roster.write_all(data, library.all_records(data))
    return record


def _throttled(progress, total: int):
    """A frame-count callback that reports a fraction at most every ``PROGRESS_EVERY_S``."""
    last = [0.0]

    def on_frames(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            progress(POSE_SHARE * min(1.0, done / total) if total else 0.0)

    return on_frames
