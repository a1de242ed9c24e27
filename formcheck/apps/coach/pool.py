"""Where the videos of a ``formcheck batch`` run are analysed: here, in local processes, or on Dask.

Every runner calls ``on_result(record)`` once per job, in the calling
process, as results come in; a job whose worker fails around the analysis
gets an error record instead (:func:`formcheck.apps.coach.video.error_record`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from formcheck.apps.coach.jobs import Job, Settings
from formcheck.apps.coach.video import WORK_DIR, _internal, _job_token, error_record, process_video
from formcheck.errors import FormcheckError

#: Environment of spawned workers: the native helper pools (OpenCV, BLAS, OpenMP) get one thread each.
#: N workers on N cores then do not oversubscribe the cores with idle-spinning pool threads; the pose
#: model keeps its own graph threads. A variable the user has set is left alone.
WORKER_THREAD_ENV = {"OPENCV_FOR_THREADS_NUM": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_inline(
    jobs: list[Job], settings: Settings, on_result: Callable[[dict], None], task: Callable[[Job, Settings], dict] | None = None
) -> None:
    """Analyse in this process, one after the other (``task`` replaces :func:`process_video`)."""
    for job in jobs:
        try:
            record = (task or process_video)(job, settings)
        except Exception as exc:  # process_video reports bad videos itself; this is a failure around it
            record = error_record(job, settings, _internal(exc))
        on_result(record)


def run_reanalyses(
    jobs: list[Job],
    settings: Settings,
    workers: int,
    on_result: Callable[[dict], None],
    on_started: Callable[[], None] = lambda: None,
    task: Callable[[Job, Settings], dict] | None = None,
) -> None:
    """Re-analyse from cached landmarks (no video to draw): forked processes if safe, else here.

    Each takes a few tens of milliseconds, less than a spawned worker needs
    to start, so forked workers share the work when there are several (a
    fork starts in milliseconds and inherits the imports). Forking is safe
    only while no other Python thread runs (one could hold a lock the child
    then needs), so it happens before ``on_started`` (e.g. the progress
    bar's thread) is called. Otherwise, or with one worker, the jobs run in
    this process. If a forked worker dies, the jobs it was running go to
    :func:`run_local` (a spawned process: a crash there costs only an error
    entry) and those not started yet run here. ``task`` replaces
    :func:`process_video` (tests).
    """
    import multiprocessing
    import threading

    task = task or process_video

    if workers > 1 and len(jobs) > 1 and threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        unfinished, started = _run_pool(
            jobs, settings, workers, on_result, task, start_method="fork", on_launched=on_started
        )
        run_local([j for j in unfinished if j in started], settings, 1, on_result, task)
        jobs = [j for j in unfinished if j not in started]
    else:
        on_started()
    run_inline(jobs, settings, on_result, task)


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


def _run_pool(
    jobs, settings, workers, on_result, task, start_method: str = "spawn", on_launched: Callable[[], None] | None = None
) -> tuple[list[Job], set[Job]]:
    """Run jobs in a fresh process pool. Returns (jobs left unfinished by a broken pool, those of them that had started).

    Spawn by default: the parent may hold threads and native state (PyAV,
    OpenCV) a fork would copy half-way; :func:`run_reanalyses` forks when that
    is safe. ``on_launched`` is called once every worker process exists.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context(start_method)
    unfinished = []
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(jobs))), mp_context=context, initializer=_quiet_worker
    )
    try:
        # Workers start during the submits (with fork, all at the first one, before the pool's own threads).
        with _worker_environment() if start_method == "spawn" else contextlib.nullcontext():
            futures = {pool.submit(task, job, settings): job for job in jobs}
        if on_launched is not None:
            on_launched()
        for future in as_completed(futures):
            try:
                record = future.result()
            except BrokenProcessPool:
                unfinished.append(futures[future])
                continue
            except Exception as exc:  # raised around the analysis (e.g. a broken install on the worker)
                record = error_record(futures[future], settings, _internal(exc))
            on_result(record)
    except BaseException:  # Ctrl-C, SIGTERM: stop the running videos (their staging folders are cleaned next run)
        _stop_workers(pool)
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


def _quiet_worker() -> None:
    """Start of every worker process: Ctrl-C is the driver's to handle, and warnings are not the user's.

    Ctrl-C reaches every process of the terminal's group. A worker interrupted
    mid-import (or mid-analysis) could otherwise turn the half-imported module
    into a false error record (``NameError``) before the driver stops it; the
    driver stops the workers itself (:func:`_stop_workers`).
    """
    import signal
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore")


def _stop_workers(pool) -> None:
    """End a pool now: no new videos start, the running ones are terminated (a result not yet
    renamed into place is lost whole, never half-written)."""
    import multiprocessing

    pool.shutdown(wait=False, cancel_futures=True)
    for process in multiprocessing.active_children():
        process.terminate()
    for process in multiprocessing.active_children():
        process.join(timeout=5)


@contextlib.contextmanager
def _worker_environment():
    """Set :data:`WORKER_THREAD_ENV` (where unset) while worker processes are started."""
    added = {k: v for k, v in WORKER_THREAD_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
