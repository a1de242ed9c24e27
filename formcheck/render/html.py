"""``report.html``: the analysis as one self-contained page a coach can send.

The page is a single file: the plot and the key frames are embedded as
``data:`` images, the styles are inline (``report.css`` beside this module),
and there is no script at all. A strict Content-Security-Policy
(``default-src 'none'; img-src data:; style-src 'unsafe-inline'``) makes the
browser refuse anything external or scripted even if it somehow got into the
page, and every string that came from outside (file names, client names,
messages) is HTML-escaped.

Contents: the verdict in one sentence (and the main cue), the set at a
glance, a per-rep table (timing, depth or set-up, peak lumbar flexion, hinge
ratio, faults with cues), key frames per rep with the skeleton and the graded
back line drawn (:mod:`formcheck.render.stills`), the angles over time
(:mod:`formcheck.render.plots`), and the camera view with what could not be
assessed and why. The wording is :mod:`formcheck.render.words`.

:func:`write_html_report` builds it from an output folder (``report.json``
and ``angles.csv`` read with :meth:`Report.load
<formcheck.analysis.report.Report.load>`, ``landmarks.npz`` and the source
video); :func:`render_html` from data already in memory. ``formcheck report
DIR`` (:mod:`formcheck.apps.report`) regenerates it.
"""

from __future__ import annotations

import base64
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

from formcheck.analysis.report import Report
from formcheck.exercises import EXERCISES
from formcheck.io.files import file_sha256, printable, write_text_atomic
from formcheck.render.plots import bar_svg, column, has_bar, signals_svg
from formcheck.render.stills import KeyFrame, find_video, grab_key_frames, load_track, missing_video_note, pick_key_frames
from formcheck.render.words import (
    as_sentence,
    degrees_text,
    exercise_title,
    fault_title,
    is_number,
    main_cue,
    percent_text,
    pulls_from_floor,
    seconds_text,
    shown_name,
    verdict_sentence,
    view_sentence,
)

REPORT_NAME = "report.html"

#: Content-Security-Policy of the page: embedded images and inline styles only.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

#: The page's styles (package data, shipped with every install).
_CSS = resources.files("formcheck.render").joinpath("report.css").read_text(encoding="utf-8")


# ====================================================================== entry points
def write_html_report(
    out_dir: str | Path,
    video: str | Path | None = None,
    *,
    client: str | None = None,
    still_cache: str | Path | None = None,
    track=None,
) -> Path:
    """Write ``report.html`` into an analysis folder, atomically.

    Parameters
    ----------
    out_dir : path-like
        A folder written by ``formcheck analyze`` (needs ``report.json``;
        ``angles.csv`` gives the plots, ``landmarks.npz`` the skeleton).
    video : path-like, optional
        The analysed video, if it is no longer where ``report.json`` says.
        Without a readable video the page has everything but the key frames,
        and says why.
    client : str, optional
        Name of the person filmed, shown in the heading.
    still_cache : path-like, optional
        Folder where the key-frame stills are kept between runs (see
        :func:`~formcheck.render.stills.grab_key_frames`): re-writing the page
        after a re-analysis of the same landmarks then decodes no video.
    track : PoseTrack, optional
        The folder's ``landmarks.npz`` if already loaded.

    Returns
    -------
    Path
        The written ``report.html``.

    Raises
    ------
    InputError
        No readable ``report.json`` in ``out_dir`` (or one of the wrong shape).
    """
    out_dir = Path(out_dir)
    loaded = Report.load(out_dir)
    report, frames = loaded.to_dict(), loaded.frames
    notes: list[str] = []
    video_path = find_video(report, out_dir, video)
    key_frames: list[KeyFrame] = []
    if report.get("reps"):
        if video_path is None:
            notes.append(missing_video_note(report, video))
        else:
            track = track if track is not None else load_track(out_dir / "landmarks.npz")
            if not _is_analysed_video(video_path, track):  # never another video's frames under this skeleton
                notes.append(f"Key frames are not shown: {printable(video_path.name)} is not the video this "
                             "analysis was made from (its content differs).")
                video_path = None
        if video_path is not None:
            picks = pick_key_frames(
                report,
                track.time_s if track is not None else column(frames, "time"),
                track.source_index if track is not None else column(frames, "frame"),
            )
            key_frames = grab_key_frames(
                video_path, picks, track, frames, exercise=loaded.exercise, cache=still_cache
            )
            if picks and not key_frames:
                notes.append(f"The frames of the reps could not be read from {printable(video_path.name)}.")
    page = render_html(report, frames, key_frames, client=client, extra_notes=notes)
    # A file name with bytes that are not UTF-8 shows as U+FFFD (report.json keeps the exact name).
    return write_text_atomic(out_dir / REPORT_NAME, printable(page))


def _is_analysed_video(video: Path, track) -> bool:
    """False when the track records the digest of its video and ``video``'s content differs."""
    if track is None or track.source_digest is None:
        return True  # tracks saved before formcheck recorded it
    try:
        return file_sha256(video) == track.source_digest
    except OSError:
        return False


def render_html(
    report: Mapping[str, Any] | Report,
    frames_table: Mapping[str, Any] | None,
    key_frames: Sequence[KeyFrame] = (),
    *,
    client: str | None = None,
    extra_notes: Sequence[str] = (),
) -> str:
    """The report page as a string.

    Parameters
    ----------
    report : mapping or Report
        A :class:`~formcheck.analysis.report.Report`, or ``report.json`` as a dict.
    frames_table : mapping or None
        Per-frame columns (``Report.frames``); None or empty leaves out the plot.
    key_frames : sequence of KeyFrame
    client : str, optional
        Name of the person filmed.
    extra_notes : sequence of str
        Shown with the notes (e.g. why key frames are missing).
    """
    if isinstance(report, Report):
        report = report.to_dict()
    frames_table = frames_table or {}
    name = shown_name(report.get("source", ""))
    exercise = str(report.get("exercise", "unknown"))
    title = f"{exercise_title(exercise)} check" if exercise != "unknown" else "Form check"
    heading = f"{title} — {client}" if client else title
    verdict, tone = verdict_sentence(report)
    cue = main_cue(report)
    plot = bar = ""
    if column(frames_table, "time") is not None and len(column(frames_table, "time")):
        plot = _data_uri(signals_svg(frames_table, report), "image/svg+xml")
        if has_bar(frames_table):
            bar = _data_uri(bar_svg(frames_table, report), "image/svg+xml")

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(heading)} · {escape(name)}</title>",
        f"<style>\n{_CSS}</style></head><body><main>",
        '<header><p class="brand">formcheck report</p>',
        f"<h1>{escape(heading)}</h1>",
        f'<p class="file">{escape(name)}</p></header>',
        f'<section class="verdict {tone}" id="verdict"><p class="sentence">{escape(verdict)}</p>',
        f'<p class="cue"><span>Main cue</span> {escape(cue)}</p>' if cue else "",
        _set_summary(report),
        "</section>",
        _glance(report),
        _rep_table(report),
        _key_frame_section(report, key_frames),
        _plot_section(plot),
        _bar_section(bar, report),
        _limits_section(report, extra_notes),
        _footer(report),
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


# ====================================================================== sections
def _set_summary(report: Mapping[str, Any]) -> str:
    """Patterns over the set (e.g. the back rounding as the lifter tired), if the analysis found any."""
    lines = [str(line) for line in report.get("set_summary", []) or [] if str(line).strip()]
    if not lines:
        return ""
    return '<p class="set"><span>Over the set</span> ' + escape(as_sentence("; ".join(x.rstrip(". ") for x in lines))) + "</p>"


def _glance(report: Mapping[str, Any]) -> str:
    video = report.get("video", {}) or {}
    view = (report.get("view", {}) or {}).get("label", "unknown")
    exercise = str(report.get("exercise", "unknown"))
    how = "detected" if report.get("exercise_source") == "auto" else "as given"
    found = video.get("pose_detected_fraction")
    items = [
        ("Exercise", exercise_title(exercise) if exercise != "unknown" else "Not recognised", how if exercise != "unknown" else ""),
        ("Reps", str(report.get("rep_count", len(report.get("reps", [])))), "complete"),
        ("Camera", f"{view.capitalize()} view", "side is best"),
        ("Length", seconds_text(video.get("duration_s")), f"{video.get('frames', '?')} frames"),
        ("Lifter seen", percent_text(found), "of frames"),
    ]
    cells = "".join(
        f'<div class="stat"><span class="k">{escape(k)}</span><span class="v">{escape(v)}</span>'
        f'<span class="s">{escape(s)}</span></div>'
        for k, v, s in items
    )
    return f'<section class="glance">{cells}</section>'


def _rep_table(report: Mapping[str, Any]) -> str:
    reps = report.get("reps", [])
    if not reps:
        return ""
    exercise = report.get("exercise")
    plugin = EXERCISES.get(exercise or "")
    position = plugin.position_title if plugin else "Bottom"
    rows = []
    for rep in reps:
        m = rep.get("metrics", {}) or {}
        rows.append(
            "<tr>"
            f'<td class="num">{int(rep["index"])}</td>'
            f'<td class="nowrap">{_timing_cell(rep, exercise)}</td>'
            f'<td class="nowrap">{_position_cell(m, exercise)}</td>'
            f'<td class="num">{degrees_text(m.get("peak_lumbar_flexion_deg"))}</td>'
            f'<td class="num">{percent_text(m.get("hinge_ratio"))}</td>'
            f"<td>{_faults_cell(rep)}</td>"
            "</tr>"
        )
    return (
        '<section id="reps"><h2>Rep by rep</h2><div class="scroll"><table class="reps">'
        f"<thead><tr><th>Rep</th><th>Timing</th><th>{position}</th><th>Peak lumbar flexion</th>"
        "<th>Hinge ratio</th><th>Faults and cues</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="explain"><b>Peak lumbar flexion</b>: most rounding of the lower back held during the '
        "loaded part of the rep, relative to the lifter's own neutral (estimated from the outline of the "
        "back). <b>Hinge ratio</b>: share of the trunk's lean that came from the hips rather than the lower "
        "back (100 % = a pure hip hinge). — means not assessed.</p></section>"
    )


def _timing_cell(rep: Mapping[str, Any], exercise: str | None) -> str:
    m = rep.get("metrics", {}) or {}
    span = f'{rep["start_s"]:.1f}–{rep["end_s"]:.1f} s'
    if pulls_from_floor(exercise):
        tempo = [("pull", m.get("ascent_s")), ("lower", m.get("descent_s"))]
    else:
        tempo = [("down", m.get("descent_s")), ("up", m.get("ascent_s"))]
    detail = " · ".join(f"{word} {seconds_text(v)}" for word, v in tempo if is_number(v))
    return f'{escape(span)}<span class="sub">{escape(detail)}</span>'


def _position_cell(m: Mapping[str, Any], exercise: str | None) -> str:
    """The rep's depth, set-up or bottom position, in the plug-in's words."""
    plugin = EXERCISES.get(exercise or "")
    described = plugin.position(m) if plugin is not None and plugin.position is not None else None
    if described is None:
        return "—"
    text, sub = described
    return f'{escape(text)}<span class="sub">{escape(sub)}</span>'


def _faults_cell(rep: Mapping[str, Any]) -> str:
    faults = rep.get("faults", [])
    notes = "".join(
        f'<div class="finding"><span class="badge info">note</span> '
        f'<b>{escape(fault_title(str(obs.get("code", ""))))}</b>'
        f'<span class="sub">{escape(as_sentence(str(obs.get("message", ""))))}</span></div>'
        for obs in rep.get("info", []) or []
    )
    # Checks the video supports but this rep could not be judged on (report schema 1.2).
    unjudged = rep.get("not_assessed", {}) or {}
    for reason in dict.fromkeys(unjudged.values()):
        codes = ", ".join(fault_title(str(code)).lower() for code, why in unjudged.items() if why == reason)
        notes += (f'<div class="finding"><span class="badge info">not judged</span> <b>{escape(codes)}</b>'
                  f'<span class="sub">{escape(as_sentence(str(reason)))}</span></div>')
    if not faults:
        verdict = "No faults found" if not unjudged else "No faults found in what could be judged"
        return f'<span class="ok">✓ {verdict}</span>' + notes
    items = []
    for fault in faults:
        severity = "fault" if fault.get("severity") == "fault" else "caution"
        items.append(
            f'<div class="finding"><span class="badge {severity}">{severity}</span> '
            f'<b>{escape(fault_title(str(fault.get("code", ""))))}</b>'
            f'<span class="sub">{escape(as_sentence(str(fault.get("message", ""))))}</span></div>'
        )
    cue = rep.get("cue")
    if cue:
        items.append(f'<div class="repcue">Cue: {escape(str(cue))}</div>')
    return "".join(items) + notes


def _key_frame_section(report: Mapping[str, Any], key_frames: Sequence[KeyFrame]) -> str:
    if not key_frames:
        return ""
    by_rep: dict[int, list[KeyFrame]] = {}
    for kf in key_frames:
        by_rep.setdefault(kf.rep, []).append(kf)
    faults_by_rep = {int(r["index"]): r.get("faults", []) for r in report.get("reps", [])}
    rows = []
    for index, frames in by_rep.items():
        faults = faults_by_rep.get(index, [])
        status = (
            ", ".join(f"{fault_title(f['code']).lower()} ({f['severity']})" for f in faults)
            if faults else "no faults found"
        )
        figures = "".join(
            f'<figure><img src="{_data_uri(kf.image, kf.mime)}" alt="{escape(kf.label)} of rep {index}">'
            f"<figcaption>{escape(kf.label)} · {kf.time_s:.1f} s</figcaption></figure>"
            for kf in frames
        )
        rows.append(
            f'<div class="keyrow"><h3>Rep {index} <span class="sub">{escape(status)}</span></h3>'
            f'<div class="frames">{figures}</div></div>'
        )
    return (
        '<section id="frames"><h2>Key frames</h2>'
        '<p class="explain">The pose found in each frame is drawn in cyan; where the back could be '
        "measured, its outline is drawn in magenta.</p>" + "".join(rows) + "</section>"
    )


def _plot_section(plot_uri: str) -> str:
    if not plot_uri:
        return ""
    return (
        '<section id="plots"><h2>Angles over time</h2>'
        f'<img class="plot" src="{plot_uri}" alt="Hip, knee, trunk and lumbar flexion angles over time">'
        '<p class="explain">Grey bands and lines mark the reps; shaded spans show where a '
        '<span class="swatch fault"></span>&nbsp;fault or <span class="swatch caution"></span>&nbsp;caution '
        "was measured. Hip and knee flexion are 0° when straight; trunk lean is 0° upright; lumbar "
        "flexion is relative to the lifter's neutral, + rounded.</p></section>"
    )


def _bar_section(plot_uri: str, report: Mapping[str, Any]) -> str:
    """The bar's path and speed, and each rep's numbers (when the bar was followed)."""
    if not plot_uri:
        return ""
    rows = []
    for rep in report.get("reps", []):
        m = rep.get("metrics", {}) or {}
        cells = [_speed_text(m.get("mean_concentric_velocity_m_s")), _speed_text(m.get("peak_concentric_velocity_m_s")),
                 _cm_text(m.get("bar_drift_cm"))]
        rows.append(f'<tr><td class="num">{int(rep["index"])}</td>' + "".join(f'<td class="num">{c}</td>' for c in cells) + "</tr>")
    table = (
        '<div class="scroll"><table class="reps"><thead><tr><th>Rep</th><th>Mean speed up</th><th>Peak speed up</th>'
        f"<th>Bar drift</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>" if rows else ""
    )
    return (
        '<section id="bar"><h2>The bar</h2>'
        f'<img class="plot" src="{plot_uri}" alt="The bar\'s path seen from the side, and its vertical speed over time">'
        + table +
        '<p class="explain">Followed from the near plate, scaled by its diameter (450 mm unless given with '
        "<code>--plate-diameter</code>). <b>Mean speed up</b>: the rise from where the bar leaves the floor to "
        "lockout over the time it took (mean concentric velocity); <b>peak</b>: the fastest moment of it; "
        "<b>bar drift</b>: the furthest the bar moved forward (+) or back (−) of where it left the floor. "
        "— means the bar was not seen well enough.</p></section>"
    )


def _speed_text(value) -> str:
    return f"{value:.2f} m/s" if is_number(value) else "—"


def _cm_text(value) -> str:
    return f"{value:+.1f} cm" if is_number(value) else "—"


def _limits_section(report: Mapping[str, Any], extra_notes: Sequence[str]) -> str:
    items = [f"<p>{escape(view_sentence(report))}</p>"]
    not_assessable = report.get("not_assessable", {}) or {}
    if not_assessable:
        lines = "".join(
            f"<li><b>{escape(fault_title(str(code)))}</b> — {escape(as_sentence(str(why)))}</li>"
            for code, why in not_assessable.items()
        )
        items.append(f"<h3>What could not be assessed</h3><ul>{lines}</ul>")
    else:
        items.append("<p>Every check for this exercise could be made from this video.</p>")
    advice = [str(text) for text in (report.get("advice", {}) or {}).values() if str(text).strip()]
    if advice:
        lines = "".join(f"<li>{escape(as_sentence(text))}</li>" for text in advice)
        items.append(f"<h3>For a fuller check next time</h3><ul>{lines}</ul>")
    notes = [str(n) for n in report.get("notes", [])] + [str(n) for n in extra_notes]
    if notes:
        lines = "".join(f"<li>{escape(as_sentence(n))}</li>" for n in notes)
        items.append(f"<h3>Notes</h3><ul>{lines}</ul>")
    return f'<section id="limits"><h2>Camera view and limits</h2>{"".join(items)}</section>'


def _footer(report: Mapping[str, Any]) -> str:
    version = report.get("formcheck_version") or "?"
    return (
        f"<footer><p>Made with formcheck {escape(str(version))}. The video was analysed on the computer "
        "that made this report; nothing was uploaded. Angles are estimated from a single camera by a pose "
        "model: this is a coaching aid, not a medical assessment.</p></footer>"
    )


# ====================================================================== small helpers
def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
