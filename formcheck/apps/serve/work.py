"""The analysis queue: worker processes, one analysis at a time each, in upload order.

The pose model runs on one thread, so analyses run in separate processes
(``workers``, default 1: a second analysis would slow the live page and the
first one). Workers are started once and kept (the imports take about a
second); an analysis is handed to an idle one over a pipe, and progress
comes back the same way. Cancelling a running analysis stops its process
(the batch job's staging folder is removed, nothing half-made is published)
and starts a fresh worker. A worker that dies marks its analysis ``error``.

State changes go through :class:`~formcheck.apps.serve.store.AnalysisStore`
(atomic files), so a server killed mid-analysis queues it again when it
starts (:meth:`AnalysisStore.recover`).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from formcheck.apps.coach.jobs import Job
from formcheck.apps.serve import library
from formcheck.apps.serve.store import Analysis, AnalysisStore
from formcheck.apps.serve.worker import worker_main

CANCELLED = "cancelled before it finished"
WORKER_DIED = "the analysis stopped unexpectedly (its worker process ended); upload the video again to retry"


@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: object
    current: str | None = None
    ready: bool = False
    stopping: bool = False


class WorkQueue:
    """Runs queued analyses in worker processes.

    Parameters
    ----------
    store : AnalysisStore
    workers : int
    """

    def __init__(self, store: AnalysisStore, workers: int = 1):
        self.store = store
        self.data = store.data
        self.size = max(1, workers)
        self._lock = threading.RLock()
        self._pending: deque[str] = deque()
        self._progress: dict[str, float] = {}
        self._workers: list[_Worker] = []
        self._wake_recv, self._wake_send = multiprocessing.Pipe(duplex=False)
        self._stopping = False
        self._context = multiprocessing.get_context("spawn")
        self._thread = threading.Thread(target=self._run, name="formcheck-queue", daemon=True)

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Start the workers and the dispatcher."""
        with self._lock:
            for _ in range(self.size):
                self._workers.append(self._spawn())
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the workers (a running analysis is queued again at the next start)."""
        self._stopping = True
        self._wake()
        self._thread.join(timeout)
        with self._lock:
            for worker in self._workers:
                worker.stopping = True
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
            for worker in self._workers:
                worker.process.join(0.5 if worker.current is None else 0)
                if worker.process.is_alive():
                    worker.process.kill()
                    worker.process.join(timeout)
            self._workers.clear()

    def submit(self, analysis: Analysis) -> None:
        """Queue an analysis (its state is already ``queued``)."""
        with self._lock:
            self._pending.append(analysis.id)
        self._wake()

    def cancel(self, analysis_id: str) -> bool:
        """Stop a queued or running analysis; True if it was waiting or running."""
        with self._lock:
            found = analysis_id in self._pending
            if found:
                self._pending.remove(analysis_id)
            for worker in self._workers:
                if worker.current == analysis_id:
                    worker.stopping = True
                    worker.process.kill()  # the dispatcher sees it end and starts another
                    self._progress.pop(analysis_id, None)
                    found = True
            analysis = self.store.get(analysis_id)
            if analysis is not None and analysis.status in ("queued", "running"):
                self.store.update(analysis, status="error", error=CANCELLED)
                found = True
        return found

    def progress(self, analysis_id: str) -> float | None:
        """The running analysis' progress (0–1), None if not running."""
        return self._progress.get(analysis_id)

    def position(self, analysis_id: str) -> int | None:
        """Place in the queue (1 = next), None if not waiting."""
        with self._lock:
            try:
                return self._pending.index(analysis_id) + 1
            except ValueError:
                return None

    def idle(self) -> bool:
        """Nothing queued or running."""
        with self._lock:
            return not self._pending and all(w.current is None for w in self._workers)

    # ------------------------------------------------------------------ dispatcher
    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=worker_main, args=(child, str(self.data)), name="formcheck-serve-worker", daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _wake(self) -> None:
        try:
            self._wake_send.send(b"")
        except OSError:
            pass

    def _run(self) -> None:
        while not self._stopping:
            self._assign()
            with self._lock:
                connections = {w.conn: w for w in self._workers}
            ready = wait([*connections, self._wake_recv], timeout=1.0)
            for conn in ready:
                if conn is self._wake_recv:
                    while self._wake_recv.poll():
                        self._wake_recv.recv()
                    continue
                worker = connections[conn]
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    self._replace(worker)
                    continue
                self._handle(worker, message)

    def _assign(self) -> None:
        with self._lock:
            for worker in self._workers:
                while worker.ready and worker.current is None and self._pending:
                    analysis = self.store.get(self._pending.popleft())
                    if analysis is None or analysis.status != "queued":
                        continue  # deleted or cancelled while waiting
                    job = Job(
                        video=str(self.store.upload_path(analysis)), client=analysis.client,
                        set_id=analysis.set_id, exercise=analysis.exercise, sha256=analysis.sha256,
                    )
                    try:
                        worker.conn.send((analysis.id, job))
                    except OSError:
                        self._pending.appendleft(analysis.id)
                        break
                    worker.current = analysis.id
                    self._progress[analysis.id] = 0.0
                    self.store.update(analysis, status="running", progress=0.0)

    def _handle(self, worker: _Worker, message: tuple) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
        elif kind == "progress":
            _, analysis_id, fraction = message
            if worker.current == analysis_id:
                self._progress[analysis_id] = float(fraction)
        elif kind == "done":
            _, analysis_id, record = message
            with self._lock:
                worker.current = None
                self._progress.pop(analysis_id, None)
                self._finish(analysis_id, record)

    def _finish(self, analysis_id: str, record: dict) -> None:
        analysis = self.store.get(analysis_id)
        if analysis is None:  # deleted while running: drop what it made
            library.forget_set(self.data, record.get("set_id", ""))
            return
        if record.get("status") == "ok":
            self.store.update(analysis, status="done", progress=1.0, error=None)
        else:
            message = str(record.get("error") or "the analysis failed")
            message = message.replace(str(self.store.upload_path(analysis)), analysis.name)
            self.store.update(analysis, status="error", progress=1.0, error=message)

    def _replace(self, worker: _Worker) -> None:
        """A worker ended (cancelled, crashed or stopping): settle its analysis, start another."""
        worker.process.join(5)
        library.remove_staging_of(self.data, worker.process.pid)
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            analysis_id = worker.current
            if analysis_id is not None:
                self._progress.pop(analysis_id, None)
                analysis = self.store.get(analysis_id)
                if analysis is not None and analysis.status == "running":
                    reason = CANCELLED if worker.stopping else WORKER_DIED
                    self.store.update(analysis, status="error", error=reason)
            if not self._stopping:
                self._workers.append(self._spawn())


def queue_for(data: Path, workers: int = 1) -> WorkQueue:
    """A started queue over the data folder, with every unfinished analysis queued again."""
    store = AnalysisStore(data)
    library.clean_at_start(data)
    queue = WorkQueue(store, workers)
    for analysis in store.recover():
        queue.submit(analysis)
    queue.start()
    return queue
