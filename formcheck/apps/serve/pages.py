"""The web app's HTML pages, as plain strings.

Every string that came from outside (file names, client names, messages,
cues) goes through :func:`html.escape`; URLs are built with
:func:`urllib.parse.quote`. The pages carry no inline script or style (the
Content-Security-Policy allows only this server's ``/static`` files); the
scripts read what they need from ``data-`` attributes.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote, urlencode

from formcheck.analysis.report import Report
from formcheck.apps.serve.store import Analysis
from formcheck.render.words import exercise_title, fault_title

STATUS_WORDS = {
    "uploading": "Uploading", "queued": "Waiting", "running": "Analysing", "done": "Done", "error": "Failed",
}


def layout(title: str, body: str, *, active: str = "", scripts: tuple[str, ...] = ("app.js",)) -> str:
    """The frame around every page: head, navigation, main."""
    nav = "".join(
        f'<a href="{href}"{" aria-current=page" if key == active else ""}>{label}</a>'
        for key, href, label in (("upload", "/", "Upload"), ("coach", "/coach", "Coach"), ("live", "/live", "Live"))
    )
    tags = "".join(f'<script src="/static/{s}" defer></script>' for s in scripts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)} · formcheck</title>"
        '<link rel="stylesheet" href="/static/app.css">'
        '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">'
        f"{tags}</head><body>"
        f'<header class="top"><a class="brand" href="/">formcheck</a><nav>{nav}</nav></header>'
        f"<main>{body}</main></body></html>\n"
    )


def exercise_options(exercises, selected: str = "auto") -> str:
    return "".join(
        f'<option value="{escape(e)}"{" selected" if e == selected else ""}>'
        f'{"Detect automatically" if e == "auto" else escape(exercise_title(e))}</option>'
        for e in exercises
    )


def upload_form(exercises, clients: list[str], client: str | None = None) -> str:
    """The upload form: drop or choose a video (the phone's camera can record it), client, exercise."""
    known = "".join(f'<option value="{escape(c)}">' for c in clients)
    client_input = (
        f'<input type="hidden" name="client" value="{escape(client)}">'
        if client is not None else
        '<label>Client (optional)'
        '<input name="client" list="clients" autocomplete="off" maxlength="100" placeholder="e.g. Anna"></label>'
        f'<datalist id="clients">{known}</datalist>'
    )
    return (
        '<form id="upload" class="card upload" action="/api/analyses" method="post" enctype="multipart/form-data">'
        '<label class="drop" id="drop"><input id="video" type="file" name="video" accept="video/*" '
        'capture="environment" required>'
        '<span class="big">Drop a video here, or tap to choose or film one</span>'
        '<span class="hint">Film from the side, at hip height, the whole body in view.</span>'
        '<span class="chosen" id="chosen"></span></label>'
        f'<div class="row">{client_input}'
        f'<label>Exercise<select name="exercise">{exercise_options(exercises)}</select></label></div>'
        '<button type="submit" id="send">Analyse</button>'
        '<div class="bar" hidden id="upload-bar"><div></div></div>'
        '<p class="message" id="upload-message" role="status"></p>'
        "</form>"
    )


def home_page(analyses: list[Analysis], exercises, clients: list[str]) -> str:
    rows = "".join(_analysis_row(a) for a in analyses[:50])
    listing = (
        f'<section class="card"><h2>Your analyses</h2><ul class="analyses">{rows}</ul></section>'
        if rows else ""
    )
    body = (
        '<h1>Check a set</h1>'
        f"{upload_form(exercises, clients)}{listing}"
    )
    return layout("Upload", body, active="upload")


def _analysis_row(a: Analysis) -> str:
    who = f" · {escape(a.client)}" if a.client else ""
    return (
        f'<li><a href="/analyses/{a.id}"><span class="name">{escape(a.name)}</span>'
        f'<span class="meta">{escape(a.created_at[:16].replace("T", " "))}{who}</span>'
        f'<span class="status {escape(a.status)}">{STATUS_WORDS.get(a.status, escape(a.status))}</span></a></li>'
    )


def analysis_page(analysis: Analysis, report: Report | None, position: int | None = None) -> str:
    """One analysis: its progress while it runs, then the report (video, rep table, report.html)."""
    status = analysis.status
    waiting = f" (number {position} in the queue)" if position and status == "queued" else ""
    head = (
        f'<p class="crumbs"><a href="/coach/client?{urlencode({"name": analysis.client})}">{escape(analysis.client)}</a></p>'
        f'<h1 class="file">{escape(analysis.name)}</h1>'
    )
    box = (
        f'<section class="card status-box" id="status" data-id="{analysis.id}" data-status="{escape(status)}">'
        f'<p><span class="status {escape(status)}" id="status-word">{STATUS_WORDS.get(status, escape(status))}</span>'
        f'<span id="status-detail">{escape(waiting)}</span></p>'
        f'<div class="bar" id="progress"{"" if status in ("queued", "running", "uploading") else " hidden"}>'
        '<div></div></div>'
        f'<p class="error" id="error"{"" if analysis.error else " hidden"}>{escape(analysis.error or "")}</p>'
        '<p class="actions">'
        f'<button type="button" id="cancel"{"" if status in ("queued", "running") else " hidden"}>Cancel</button>'
        '<button type="button" id="delete" class="danger">Delete</button></p>'
        "</section>"
    )
    results = report_view(analysis.set_id, report) if status == "done" and report is not None else ""
    return layout(analysis.name, head + box + results)


def set_page(set_id: str, record: dict, report: Report | None) -> str:
    """A set analysed by ``formcheck batch`` (or the web app), found by its folder."""
    name = escape(str(record.get("video", set_id)).replace("\\", "/").rsplit("/", 1)[-1])
    client = str(record.get("client", ""))
    head = (
        f'<p class="crumbs"><a href="/coach/client?{urlencode({"name": client})}">{escape(client)}</a>'
        f' · {escape(str(record.get("date") or ""))}</p><h1 class="file">{name}</h1>'
    )
    if record.get("status") != "ok":
        head += f'<p class="card error">{escape(str(record.get("error") or "not analysed"))}</p>'
    return layout(set_id, head + (report_view(set_id, report) if report is not None else ""))


def report_view(set_id: str, report: Report) -> str:
    """The annotated video playing, the rep table (each rep plays from its start) and report.html."""
    query = urlencode({"id": set_id})
    reps = report.reps
    rows = "".join(
        f'<tr data-start="{rep.start_s:.2f}"><td class="num">{rep.index}</td>'
        f'<td><button type="button" class="seek" data-start="{rep.start_s:.2f}">'
        f"{rep.start_s:.1f}–{rep.end_s:.1f} s</button></td>"
        f"<td>{_findings(rep)}</td><td>{escape(rep.cue or 'Good rep')}</td></tr>"
        for rep in reps
    )
    table = (
        '<div class="scroll"><table class="reps" id="rep-table"><thead><tr><th>Rep</th><th>Play</th>'
        f"<th>Findings</th><th>Cue</th></tr></thead><tbody>{rows}</tbody></table></div>"
        if reps else '<p class="hint">No complete rep was found.</p>'
    )
    return (
        f'<section class="card result"><p class="summary"><span class="count" id="rep-count">{report.rep_count}</span>'
        f' rep{"s" if report.rep_count != 1 else ""} · {escape(exercise_title(report.exercise))}'
        f" · {escape(report.view)} view</p>"
        f'<video id="annotated" controls playsinline preload="metadata" src="/set/annotated.mp4?{query}"></video>'
        f"{table}</section>"
        f'<section class="card full-report"><h2>Full report</h2>'
        f'<iframe id="report-frame" title="Full report" sandbox="allow-same-origin" '
        f'src="/set/report.html?{query}"></iframe>'
        f'<p><a href="/set/report.html?{query}" download="report.html">Download report.html</a> · '
        f'<a href="/set/report.json?{query}">report.json</a></p></section>'
    )


def _findings(rep) -> str:
    if not rep.faults:
        return '<span class="ok">none</span>'
    return " ".join(
        f'<span class="finding {escape(f.severity)}">{escape(fault_title(f.code))}</span>' for f in rep.faults
    )


def coach_page(clients, records: list[dict], exercises, names: dict[str, str] | None = None) -> str:
    """The roster (who needs attention first) and every client's latest sessions."""
    rows = "".join(
        f'<tr><td><a href="/coach/client?{urlencode({"name": c.client})}">{escape(c.client)}</a></td>'
        f'<td><span class="attention {escape(c.attention.replace(" ", "-"))}">{escape(c.attention)}</span></td>'
        f'<td class="num">{c.sets}</td><td class="num">{c.reps}</td>'
        f'<td class="num">{c.fault_rate:.0%}</td><td class="num">{c.caution_rate:.0%}</td>'
        f'<td>{escape(max(c.dates) if c.dates else "")}</td></tr>'
        for c in clients
    )
    roster = (
        '<section class="card"><h2>Roster</h2><p class="hint">Who needs attention first: the share of reps '
        'with a fault, then with a caution.</p><div class="scroll"><table class="roster" id="roster">'
        "<thead><tr><th>Client</th><th>Attention</th><th>Sets</th><th>Reps</th><th>Fault reps</th>"
        f"<th>Caution reps</th><th>Last</th></tr></thead><tbody>{rows}</tbody></table></div></section>"
        if rows else '<section class="card"><p>No clients yet: upload a video with a client name, or run '
        "<code>formcheck batch</code> into this data folder.</p></section>"
    )
    by_client: dict[str, list[dict]] = {}
    for record in records:
        by_client.setdefault(record["client"], []).append(record)
    sections = "".join(
        f'<section class="card client"><h2><a href="/coach/client?{urlencode({"name": c.client})}">'
        f"{escape(c.client)}</a></h2>{sessions_list(by_client.get(c.client, [])[:5], names)}</section>"
        for c in clients
    )
    return layout("Coach", "<h1>Clients</h1>" + roster + sections, active="coach")


def client_page(client: str, summary, records: list[dict], has_plot: bool, exercises,
                names: dict[str, str] | None = None) -> str:
    """One client: the trend plot, every session newest first, and an upload into this client."""
    name = urlencode({"name": client})
    plot = (
        f'<figure class="card trend"><img id="trend" src="/coach/plot.png?{name}" alt="Trends of {escape(client)}">'
        "<figcaption>Every rep (grey) and session means (blue), per exercise and metric.</figcaption></figure>"
        if has_plot else '<p class="card hint">No trends yet: they need analysed reps.</p>'
    )
    stats = (
        f'<p class="summary">{summary.sets} set{"s" if summary.sets != 1 else ""} · {summary.reps} reps · '
        f'{summary.fault_rate:.0%} with a fault · attention: {escape(summary.attention)}</p>'
        if summary is not None else ""
    )
    body = (
        f'<p class="crumbs"><a href="/coach">Clients</a></p><h1>{escape(client)}</h1>{stats}{plot}'
        f'<section class="card"><h2>Sessions</h2>{sessions_list(records, names)}</section>'
        f"<h2>Upload for {escape(client)}</h2>{upload_form(exercises, [], client=client)}"
    )
    return layout(client, body, active="coach")


def sessions_list(records: list[dict], names: dict[str, str] | None = None) -> str:
    """Sets newest first, with their result, each linked to its page.

    ``names``: set id → the name an upload was given (the stored file is named by its id).
    """
    if not records:
        return '<p class="hint">No sets yet.</p>'
    items = []
    for r in records:
        summary = r.get("summary") or {}
        if r.get("status") == "ok":
            what = (
                f'{escape(exercise_title(str(summary.get("exercise", ""))))}, {summary.get("rep_count", 0)} reps, '
                f'{summary.get("faults", 0)} faults, {summary.get("cautions", 0)} cautions'
            )
        else:
            what = f'<span class="error">{escape(str(r.get("error") or "error"))}</span>'
        video = (names or {}).get(r["set_id"]) or str(r.get("video", "")).replace("\\", "/").rsplit("/", 1)[-1]
        items.append(
            f'<li><a href="/set?{urlencode({"id": r["set_id"]})}"><span class="date">{escape(str(r.get("date") or ""))}</span>'
            f'<span class="name">{escape(video)}</span><span class="meta">{what}</span></a></li>'
        )
    return f'<ul class="sessions">{"".join(items)}</ul>'


def live_page(exercises) -> str:
    """The live check: camera, canvas overlay, rep counter, spoken cues."""
    body = (
        '<h1>Live check</h1>'
        '<section class="card live" id="live">'
        '<div class="controls"><button type="button" id="start">Start camera</button>'
        '<button type="button" id="stop" hidden>Stop</button>'
        '<button type="button" id="reset">Reset count</button>'
        f'<label>Exercise<select id="exercise">{exercise_options(exercises)}</select></label>'
        '<label class="check"><input type="checkbox" id="speak"> Speak cues</label></div>'
        '<div class="stage"><canvas id="view" width="640" height="480"></canvas>'
        '<video id="camera" playsinline muted hidden></video></div>'
        '<p class="live-stats"><span>Reps <b id="live-reps">0</b></span> <span id="live-phase"></span> '
        '<span id="live-fps"></span> <span id="live-latency"></span></p>'
        '<p class="message" id="live-message" role="status">The camera runs on this computer (localhost); '
        "frames go only to this server.</p></section>"
    )
    return layout("Live", body, active="live", scripts=("live.js",))


def message_page(title: str, text: str) -> str:
    return layout(title, f'<h1>{escape(title)}</h1><p class="card">{escape(text)}</p>')


def link(path: str, **params) -> str:
    return f"{quote(path)}?{urlencode(params)}" if params else quote(path)
