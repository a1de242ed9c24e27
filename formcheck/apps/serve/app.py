"""The Starlette application: pages, the HTTP API, the live WebSocket and the static files.

Routes (``docs/web.md`` documents the API):

=============================  ==========================================================
``GET /``                      upload page and the list of analyses
``GET /analyses/{id}``         one analysis: progress, then the report
``GET /set?id=SET``            any set of the data folder (the batch's too)
``GET /set/annotated.mp4``     its files (``report.html``, ``report.json``), by ``?id=SET``
``GET /coach``                 roster and clients; ``/coach/client?name=`` one client,
                               ``/coach/plot.png?name=`` the client's trend plot
``GET /live``                  the live check page; ``WS /ws/live`` its frames
``POST /api/analyses``         upload (multipart ``video``, ``client``, ``exercise``) → 202
``GET /api/analyses[/{id}]``   status, progress, error and, once done, the report
``DELETE /api/analyses/{id}``  cancel if needed and delete everything of it
``POST /api/analyses/{id}/cancel``
``GET /static/…``              the app's CSS, scripts and icon (package data; no listing)
=============================  ==========================================================

Nothing is served from a path a request names: analyses by their id,
sets only if they are in the data folder's records, files by a fixed list.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from formcheck.analysis.report import Report
from formcheck.apps.serve import library, pages
from formcheck.apps.serve.config import ServeConfig
from formcheck.apps.serve.live import FrameError, LiveCheck, hello, parse_frame
from formcheck.apps.serve.security import Guard
from formcheck.apps.serve.store import ID_PATTERN, Analysis, AnalysisStore
from formcheck.apps.serve.uploads import UploadError, UploadReceiver
from formcheck.apps.serve.work import WorkQueue, queue_for
from formcheck.errors import FormcheckError
from formcheck.exercises import exercise_choices
from formcheck.render.html import CSP as REPORT_CSP

#: The files of a set that are served, with their media types.
SET_FILES = {
    "annotated.mp4": "video/mp4",
    "report.html": "text/html; charset=utf-8",
    "report.json": "application/json",
}
#: Live sessions at a time (each runs its own pose model).
MAX_LIVE_SESSIONS = 2


def create_app(config: ServeConfig, queue: WorkQueue | None = None):
    """The ASGI application (wrapped in :class:`~formcheck.apps.serve.security.Guard`).

    The queue and its worker processes start with the server (lifespan) unless one is given.
    """
    store = AnalysisStore(config.data)
    state = {"queue": queue, "live": 0}
    data = config.data

    @contextlib.asynccontextmanager
    async def lifespan(app):
        own = state["queue"] is None
        if own:
            state["queue"] = await run_in_threadpool(queue_for, data, config.workers)
        try:
            yield
        finally:
            if own:
                await run_in_threadpool(state["queue"].stop)

    def current(analysis: Analysis) -> dict:
        out = analysis.public()
        progress = state["queue"].progress(analysis.id) if state["queue"] is not None else None
        if analysis.status == "running" and progress is not None:
            out["progress"] = round(progress, 3)
        if analysis.status == "queued" and state["queue"] is not None:
            out["position"] = state["queue"].position(analysis.id)
        if analysis.status == "done":
            try:
                out["report"] = json.loads((store.result_dir(analysis) / "report.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                out["report"] = None
        return out

    # ------------------------------------------------------------------ pages
    async def home(request: Request):
        records = await run_in_threadpool(library.all_records, data)
        clients = sorted({r["client"] for r in records} | {a.client for a in store.all()})
        return HTMLResponse(pages.home_page(store.all(), exercise_choices(), clients))

    async def analysis_page(request: Request):
        analysis = store.get(request.path_params["analysis_id"])
        if analysis is None:
            return not_found("No such analysis (it may have been deleted).")
        report = _load_report(store.result_dir(analysis)) if analysis.status == "done" else None
        return HTMLResponse(pages.analysis_page(analysis, report, state["queue"].position(analysis.id)))

    async def set_page(request: Request):
        set_id = request.query_params.get("id", "")
        records = await run_in_threadpool(library.all_records, data)
        record = next((r for r in records if r["set_id"] == set_id), None)
        if record is None:
            return not_found("No such set in this data folder.")
        for analysis in store.all():
            if analysis.set_id == set_id:
                return RedirectResponse(f"/analyses/{analysis.id}", status_code=303)
        return HTMLResponse(pages.set_page(set_id, record, _load_report(data / set_id)))

    async def set_file(request: Request):
        name = request.path_params["name"]
        folder = await run_in_threadpool(library.set_folder, data, request.query_params.get("id", ""))
        if name not in SET_FILES or folder is None or not (folder / name).is_file():
            return not_found("No such file.")
        headers = {"content-security-policy": f"{REPORT_CSP}; frame-ancestors 'self'"} if name == "report.html" else {}
        return FileResponse(folder / name, media_type=SET_FILES[name], headers=headers)

    async def coach(request: Request):
        clients, records = await run_in_threadpool(library.client_overview, data)
        names = {a.set_id: a.name for a in store.all()}
        return HTMLResponse(pages.coach_page(clients, library.newest_first(records), exercise_choices(), names))

    async def client_page(request: Request):
        name = request.query_params.get("name", "")
        clients, records = await run_in_threadpool(library.client_overview, data)
        summary = next((c for c in clients if c.client == name), None)
        mine = library.newest_first([r for r in records if r["client"] == name])
        plot = await run_in_threadpool(library.trend_plot, data, name)
        names = {a.set_id: a.name for a in store.all()}
        return HTMLResponse(pages.client_page(name, summary, mine, plot is not None, exercise_choices(), names))

    async def client_plot(request: Request):
        plot = await run_in_threadpool(library.trend_plot, data, request.query_params.get("name", ""))
        if plot is None:
            return not_found("No trends for this client yet.")
        return FileResponse(plot, media_type="image/png")

    async def live_page(request: Request):
        return HTMLResponse(pages.live_page(exercise_choices()))

    # ------------------------------------------------------------------ API
    async def create_analysis(request: Request):
        receiver_or_error = _receiver(store, request, config)
        if isinstance(receiver_or_error, Response):
            return receiver_or_error
        length = request.headers.get("content-length")
        try:
            analysis = await receiver_or_error.receive(request.stream(), int(length) if length and length.isdigit() else None)
        except UploadError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status, headers={"connection": "close"})
        except ClientDisconnect:
            return Response(status_code=400)
        problem = await run_in_threadpool(_video_problem, store.upload_path(analysis), analysis.name)
        if problem:
            analysis = store.update(analysis, status="error", error=problem, progress=1.0)
        else:
            analysis = store.update(analysis, status="queued")
            state["queue"].submit(analysis)
        if "text/html" in request.headers.get("accept", "") and "application/json" not in request.headers.get("accept", ""):
            return RedirectResponse(f"/analyses/{analysis.id}", status_code=303)  # the form without JavaScript
        body = {"id": analysis.id, "status": analysis.status}
        if analysis.error:
            body["error"] = analysis.error
        return JSONResponse(body, status_code=202, headers={"location": f"/api/analyses/{analysis.id}"})

    async def list_analyses(request: Request):
        return JSONResponse({"analyses": [current(a) for a in store.all()]})

    async def get_analysis(request: Request):
        analysis = store.get(request.path_params["analysis_id"])
        if analysis is None:
            return JSONResponse({"error": "no such analysis"}, status_code=404)
        return JSONResponse(current(analysis))

    async def cancel_analysis(request: Request):
        analysis = store.get(request.path_params["analysis_id"])
        if analysis is None:
            return JSONResponse({"error": "no such analysis"}, status_code=404)
        await run_in_threadpool(state["queue"].cancel, analysis.id)
        return JSONResponse(current(store.get(analysis.id) or analysis))

    async def delete_analysis(request: Request):
        analysis = store.get(request.path_params["analysis_id"])
        if analysis is None:
            return JSONResponse({"error": "no such analysis"}, status_code=404)
        await run_in_threadpool(state["queue"].cancel, analysis.id)
        store.delete(analysis)
        await run_in_threadpool(library.forget_set, data, analysis.set_id)
        return JSONResponse({"id": analysis.id, "deleted": True})

    # ------------------------------------------------------------------ live
    async def live_socket(websocket: WebSocket):
        exercise = websocket.query_params.get("exercise", "auto")
        if exercise not in exercise_choices():
            exercise = "auto"
        if state["live"] >= MAX_LIVE_SESSIONS:
            await websocket.close(code=1013, reason="too many live sessions")
            return
        state["live"] += 1
        await websocket.accept()
        check = None
        try:
            check = await run_in_threadpool(_new_live_check, exercise)
            await websocket.send_text(hello(exercise))
            await _live_loop(websocket, check)
        except WebSocketDisconnect:
            pass
        finally:
            state["live"] -= 1
            if check is not None:
                await run_in_threadpool(check.close)

    def not_found(text: str):
        return HTMLResponse(pages.message_page("Not found", text), status_code=404)

    routes = [
        Route("/", home),
        Route("/analyses/{analysis_id}", analysis_page),
        Route("/set", set_page),
        Route("/set/{name}", set_file),
        Route("/coach", coach),
        Route("/coach/client", client_page),
        Route("/coach/plot.png", client_plot),
        Route("/live", live_page),
        Route("/api/analyses", create_analysis, methods=["POST"]),
        Route("/api/analyses", list_analyses, methods=["GET"]),
        Route("/api/analyses/{analysis_id}", get_analysis, methods=["GET"]),
        Route("/api/analyses/{analysis_id}", delete_analysis, methods=["DELETE"]),
        Route("/api/analyses/{analysis_id}/cancel", cancel_analysis, methods=["POST"]),
        WebSocketRoute("/ws/live", live_socket),
        Mount("/static", StaticFiles(packages=[("formcheck.apps.serve", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    return Guard(app, config.allowed_hosts(), config.token)


def _receiver(store: AnalysisStore, request: Request, config: ServeConfig):
    try:
        return UploadReceiver(store, request.headers.get("content-type", ""), config.max_upload_bytes, exercise_choices())
    except UploadError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)


def _video_problem(path: Path, name: str) -> str | None:
    """Why a stored upload is not a video that can be analysed (from probing its content), or None."""
    from formcheck.io.video import probe

    try:
        probe(path)
    except FormcheckError as exc:
        return str(exc).replace(str(path), name)
    except Exception as exc:  # a decoder's surprise is still the file's problem
        return f"{name} cannot be read as video ({exc.__class__.__name__})"
    return None


def _load_report(folder: Path) -> Report | None:
    try:
        return Report.load(folder / "report.json", frames=False)
    except FormcheckError:
        return None


def _new_live_check(exercise: str) -> LiveCheck:
    from formcheck.pose.estimator import PoseEstimator, PoseOptions

    return LiveCheck(PoseEstimator(PoseOptions()), exercise)


async def _live_loop(websocket: WebSocket, check: LiveCheck) -> None:
    """Frames in, overlays out; a frame that arrives while one is being analysed is dropped."""
    busy: asyncio.Task | None = None

    async def analyse(message: bytes) -> None:
        try:
            time_ms, number, image = await run_in_threadpool(parse_frame, message)
            overlay = await run_in_threadpool(check.process, image, time_ms)
            overlay.update(n=number, t=time_ms)
            await websocket.send_text(json.dumps(overlay))
        except FrameError as exc:
            await websocket.send_text(json.dumps({"error": str(exc)}))

    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                if busy is not None and not busy.done():
                    number = int.from_bytes(message["bytes"][8:12], "little") if len(message["bytes"]) >= 12 else -1
                    await websocket.send_text(json.dumps({"dropped": number}))
                    continue
                busy = asyncio.create_task(analyse(message["bytes"]))
            elif message.get("text"):
                await _control(websocket, check, message["text"], busy)
    finally:
        if busy is not None:
            with contextlib.suppress(BaseException):
                await busy


async def _control(websocket: WebSocket, check: LiveCheck, text: str, busy) -> None:
    try:
        command = json.loads(text)
    except ValueError:
        return
    if busy is not None and not busy.done():
        await busy  # never change the analyser under a running frame
    if command.get("type") == "reset":
        check.reset()
    elif command.get("type") == "exercise" and command.get("value") in exercise_choices():
        check.set_exercise(command["value"])
