"""``report.html``: the analysis as one self-contained page a coach can send.

The page is a single file: the plot and the key frames are embedded as
``data:`` images, the styles are inline, and there is no script at all. A
strict Content-Security-Policy (``default-src 'none'; img-src data:;
style-src 'unsafe-inline'``) makes the browser refuse anything external or
scripted even if it somehow got into the page, and every string that came
from outside (file names, client names, messages) is HTML-escaped.

Contents: the verdict in one sentence (and the main cue), the set at a
glance, a per-rep table (timing, depth or set-up, peak lumbar flexion, hinge
ratio, faults with cues), key frames per rep with the skeleton and the back
outline drawn, the angles over time (:mod:`formcheck.render.plots`), and the camera
view with what could not be assessed and why.

:func:`write_html_report` builds it from an output folder (``report.json``,
``angles.csv``, ``landmarks.npz`` and the source video);
:func:`render_html` from data already in memory. ``formcheck report DIR``
(:func:`add_arguments`, :func:`run`) regenerates it.
"""

from __future__ import annotations

import base64
import csv
import json
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from formcheck.io.provenance import FORMCHECK_VERSION
from formcheck.render import draw as overlay
from formcheck.errors import InputError
from formcheck.exercises import EXERCISES
from formcheck.faults.catalogue import entry
from formcheck.io.files import write_bytes_atomic, write_text_atomic
from formcheck.render.plots import column, signals_svg

REPORT_NAME = "report.html"

#: Content-Security-Policy of the page: embedded images and inline styles only.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

#: Key frames: height of the embedded still (shown at about 2/3 of it, sharp on
#: high-density screens), and how much smaller the pose layer is drawn.
STILL_HEIGHT = 480
_LAYER_FACTOR = 2
_BACK_LAYER_FACTOR = 3  # the back outline bolder still: it is what a coach looks for
_JPEG_QUALITY = 82
#: Landmarks left out of stills (eyes, mouth, fingers): at thumbnail size they are clutter.
_STILL_HIDDEN = [1, 2, 3, 4, 5, 6, 9, 10, 17, 18, 19, 20, 21, 22]

@dataclass(frozen=True)
class KeyFrame:
    """One still for the report: an encoded image of a moment in a rep."""

    rep: int
    label: str
    time_s: float
    image: bytes
    mime: str = "image/jpeg"


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
        :func:`grab_key_frames`): re-writing the page after a re-analysis of
        the same landmarks then decodes no video.
    track : PoseTrack, optional
        The folder's ``landmarks.npz`` if already loaded.

    Returns
    -------
    Path
        The written ``report.html``.

    Raises
    ------
    InputError
        No readable ``report.json`` in ``out_dir``.
    """
    out_dir = Path(out_dir)
    report = load_report_json(out_dir / "report.json")
    frames = read_angles_csv(out_dir / "angles.csv") if (out_dir / "angles.csv").is_file() else {}
    notes: list[str] = []
    video_path = _find_video(report, out_dir, video)
    key_frames: list[KeyFrame] = []
    if report.get("reps"):
        if video_path is None:
            notes.append(_missing_video_note(report, video))
        else:
            track = track if track is not None else _load_track(out_dir / "landmarks.npz")
            picks = pick_key_frames(report, track.time_s if track is not None else column(frames, "time"))
            key_frames = grab_key_frames(video_path, picks, track, frames, cache=still_cache)
            if picks and not key_frames:
                notes.append(f"The frames of the reps could not be read from {video_path.name}.")
    page = render_html(report, frames, key_frames, client=client, extra_notes=notes)
    return write_text_atomic(out_dir / REPORT_NAME, page)


def render_html(
    report: Mapping[str, Any] | Any,
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
        ``report.json`` as a dict, or a :class:`~formcheck.analysis.report.Report`.
    frames_table : mapping or None
        Per-frame columns (``Report.frames`` or ``angles.csv``); None or empty
        leaves out the plot.
    key_frames : sequence of KeyFrame
    client : str, optional
        Name of the person filmed.
    extra_notes : sequence of str
        Shown with the notes (e.g. why key frames are missing).
    """
    if hasattr(report, "to_dict"):
        report = report.to_dict()
    frames_table = frames_table or {}
    name = _file_name(report.get("source", ""))
    exercise = str(report.get("exercise", "unknown"))
    title = f"{exercise_title(exercise)} check" if exercise != "unknown" else "Form check"
    heading = f"{title} — {client}" if client else title
    verdict, tone = verdict_sentence(report)
    cue = main_cue(report)
    plot = ""
    if column(frames_table, "time") is not None and len(column(frames_table, "time")):
        plot = _data_uri(signals_svg(frames_table, report), "image/svg+xml")

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(heading)} · {escape(name)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
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
        _limits_section(report, extra_notes),
        _footer(report),
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


# ====================================================================== words
def exercise_title(name: str) -> str:
    """"Squat", "Romanian deadlift", … from the exercise plug-in (or the name itself)."""
    exercise = EXERCISES.get(name)
    if exercise is not None:
        return exercise.title
    return name.replace("_", " ").capitalize()


def fault_title(code: str) -> str:
    """The fault's heading from the catalogue ("Rounded lower back")."""
    return entry(code).title


def _pulls_from_floor(exercise: str | None) -> bool:
    """A rep of this exercise is a pull from the floor (timed as pull and lowering)."""
    plugin = EXERCISES.get(exercise or "")
    return plugin is not None and plugin.pulls_from_floor


def verdict_sentence(report: Mapping[str, Any]) -> tuple[str, str]:
    """The verdict in one sentence, and its tone (``good``, ``caution``, ``fault``, ``none``)."""
    reps = report.get("reps", [])
    exercise = report.get("exercise", "unknown")
    if exercise == "unknown":
        return "The movement was not recognised as a squat or a deadlift, so no reps were judged.", "none"
    if not reps:
        return f"No complete {exercise_title(exercise).lower()} reps were found in this video.", "none"
    n = len(reps)
    exercise = exercise_title(exercise).lower().replace("romanian", "Romanian")
    noun = f"{exercise} rep{'s' if n != 1 else ''}"
    clean = [r for r in reps if not r.get("faults")]
    if len(clean) == n:
        subject = f"The {noun} looks" if n == 1 else (f"Both {noun} look" if n == 2 else f"All {n} {noun} look")
        withheld = " (some checks could not be made from this video; see below)" if report.get("not_assessable") else ""
        return f"{subject} good: no faults found{withheld}.", "good"
    by_code: dict[str, list[tuple[int, str]]] = {}
    for rep in reps:
        for fault in rep.get("faults", []):
            by_code.setdefault(fault["code"], []).append((int(rep["index"]), fault["severity"]))
    found = []
    for code, hits in by_code.items():
        severities = {sev for _, sev in hits}
        if len(severities) == 1:
            where = f"{_rep_list(sorted({i for i, _ in hits}))} ({severities.pop()})"
        else:  # say which reps were faults and which cautions
            where = _join([f"{_rep_list(sorted({i for i, s in hits if s == sev}))} ({sev})" for sev in ("fault", "caution")])
        found.append(f"{fault_title(code).lower()} in {where}")
    if clean:
        lead = f"{len(clean)} of {n} {noun} look{'s' if len(clean) == 1 else ''} good"
    else:
        lead = f"Every {exercise} rep needs work" if n > 1 else f"The {exercise} rep needs work"
    tone = "fault" if any(f["severity"] == "fault" for r in reps for f in r.get("faults", [])) else "caution"
    return f"{lead}; {_join(found)}.", tone


def main_cue(report: Mapping[str, Any]) -> str | None:
    """The cue to give first: of the worst severity, the most frequent one (earliest on ties)."""
    cues: dict[str, list[int]] = {}
    for rep in report.get("reps", []):
        for fault in rep.get("faults", []):
            if fault.get("cue"):
                score = cues.setdefault(fault["cue"], [0, 0])
                score[0] = max(score[0], 1 if fault["severity"] == "fault" else 0)
                score[1] += 1
    if not cues:
        return None
    return max(cues, key=lambda c: (cues[c][0], cues[c][1]))


def view_sentence(report: Mapping[str, Any]) -> str:
    view = report.get("view", {}) or {}
    label = view.get("label", "unknown")
    sideness = view.get("sideness_deg")
    angle = f" (body turned {sideness:.0f}° from facing the camera)" if isinstance(sideness, (int, float)) else ""
    if label == "side":
        return f"Filmed from the side{angle}: the view that depth, hip and back checks need."
    if label == "oblique":
        return (f"Filmed at an angle{angle}: reps are counted and most checks work, but the most reliable "
                "verdicts need a side view at hip height.")
    if label in ("front", "rear"):
        return (f"Filmed from the {label}{angle}: reps are counted, but checks that need a side view were "
                "not made (listed below). Film from the side at hip height for a full check.")
    return "The camera view could not be determined."


def _rep_list(indices: list[int]) -> str:
    words = [str(i) for i in indices]
    return ("rep " if len(words) == 1 else "reps ") + _join(words)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# ====================================================================== sections
def _set_summary(report: Mapping[str, Any]) -> str:
    """Patterns over the set (e.g. the back rounding as the lifter tired), if the analysis found any."""
    lines = [str(line) for line in report.get("set_summary", []) or [] if str(line).strip()]
    if not lines:
        return ""
    return '<p class="set"><span>Over the set</span> ' + escape(_sentence("; ".join(x.rstrip(". ") for x in lines))) + "</p>"


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
        ("Length", _seconds(video.get("duration_s")), f"{video.get('frames', '?')} frames"),
        ("Lifter seen", _percent(found), "of frames"),
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
            f'<td class="num">{_degrees(m.get("peak_lumbar_flexion_deg"))}</td>'
            f'<td class="num">{_percent(m.get("hinge_ratio"))}</td>'
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
    if _pulls_from_floor(exercise):
        tempo = [("pull", m.get("ascent_s")), ("lower", m.get("descent_s"))]
    else:
        tempo = [("down", m.get("descent_s")), ("up", m.get("ascent_s"))]
    detail = " · ".join(f"{word} {_seconds(v)}" for word, v in tempo if _finite(v))
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
        f'<span class="sub">{escape(_sentence(str(obs.get("message", ""))))}</span></div>'
        for obs in rep.get("info", []) or []
    )
    # Checks the video supports but this rep could not be judged on (report schema 1.2).
    unjudged = rep.get("not_assessed", {}) or {}
    for reason in dict.fromkeys(unjudged.values()):
        codes = ", ".join(fault_title(str(code)).lower() for code, why in unjudged.items() if why == reason)
        notes += (f'<div class="finding"><span class="badge info">not judged</span> <b>{escape(codes)}</b>'
                  f'<span class="sub">{escape(_sentence(str(reason)))}</span></div>')
    if not faults:
        verdict = "No faults found" if not unjudged else "No faults found in what could be judged"
        return f'<span class="ok">✓ {verdict}</span>' + notes
    items = []
    for fault in faults:
        severity = "fault" if fault.get("severity") == "fault" else "caution"
        items.append(
            f'<div class="finding"><span class="badge {severity}">{severity}</span> '
            f'<b>{escape(fault_title(str(fault.get("code", ""))))}</b>'
            f'<span class="sub">{escape(_sentence(str(fault.get("message", ""))))}</span></div>'
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


def _limits_section(report: Mapping[str, Any], extra_notes: Sequence[str]) -> str:
    items = [f"<p>{escape(view_sentence(report))}</p>"]
    not_assessable = report.get("not_assessable", {}) or {}
    if not_assessable:
        lines = "".join(
            f"<li><b>{escape(fault_title(str(code)))}</b> — {escape(_sentence(str(why)))}</li>"
            for code, why in not_assessable.items()
        )
        items.append(f"<h3>What could not be assessed</h3><ul>{lines}</ul>")
    else:
        items.append("<p>Every check for this exercise could be made from this video.</p>")
    advice = [str(text) for text in (report.get("advice", {}) or {}).values() if str(text).strip()]
    if advice:
        lines = "".join(f"<li>{escape(_sentence(text))}</li>" for text in advice)
        items.append(f"<h3>For a fuller check next time</h3><ul>{lines}</ul>")
    notes = [str(n) for n in report.get("notes", [])] + [str(n) for n in extra_notes]
    if notes:
        lines = "".join(f"<li>{escape(_sentence(n))}</li>" for n in notes)
        items.append(f"<h3>Notes</h3><ul>{lines}</ul>")
    return f'<section id="limits"><h2>Camera view and limits</h2>{"".join(items)}</section>'


def _footer(report: Mapping[str, Any]) -> str:
    version = report.get("formcheck_version") or "?"
    return (
        f"<footer><p>Made with formcheck {escape(str(version))}. The video was analysed on the computer "
        "that made this report; nothing was uploaded. Angles are estimated from a single camera by a pose "
        "model: this is a coaching aid, not a medical assessment.</p></footer>"
    )


# ====================================================================== key frames
def pick_key_frames(report: Mapping[str, Any], time_s: np.ndarray | None) -> list[tuple[int, str, int]]:
    """Which frames to show per rep, as ``(rep, label, frame index)``.

    Squat: set-up (rep start), bottom, lockout. Deadlift: set-up (start of the
    pull), mid-pull (or the most rounded moment when the lower back rounded
    past a threshold), lockout.

    Parameters
    ----------
    report : mapping
        ``report.json`` as a dict.
    time_s : ndarray or None
        Time of each frame (the track's, best: ``angles.csv`` keeps only 4
        significant digits); None falls back to the frame rate.
    """
    time = None if time_s is None else np.asarray(time_s, np.float64)
    n_frames = int((report.get("video", {}) or {}).get("frames") or (len(time) if time is not None else 0))
    fps = float((report.get("video", {}) or {}).get("fps") or 30.0)

    def index_at(t: float) -> int:
        if time is not None and len(time):
            i = int(np.searchsorted(time, t))
            if i > 0 and (i >= len(time) or abs(time[i - 1] - t) <= abs(time[i] - t)):
                i -= 1
            return int(np.clip(i, 0, len(time) - 1))
        return int(np.clip(round(t * fps), 0, max(n_frames - 1, 0)))

    def middle_of(rep, phase: str) -> int | None:
        span = (rep.get("phases", {}) or {}).get(phase)
        return index_at(0.5 * (span[0] + span[1])) if span and None not in span else None

    picks = []
    for rep in report.get("reps", []):
        index = int(rep["index"])
        frames = rep.get("frames", {}) or {}
        start, bottom, end = (int(frames.get(k, 0)) for k in ("start", "bottom", "end"))
        last = max(start, end - 1)
        lockout = middle_of(rep, "lockout")
        if _pulls_from_floor(report.get("exercise")):
            middle, label = middle_of(rep, "ascent"), "Mid-pull"
            peak = (rep.get("metrics", {}) or {}).get("peak_flexion_time_s")
            if any(f["code"] == "lumbar_flexion" for f in rep.get("faults", [])) and _finite(peak):
                middle, label = index_at(peak), "Most rounded"
            chosen = [("Set-up", bottom), (label, middle if middle is not None else bottom),
                      ("Lockout", lockout if lockout is not None else last)]
        else:
            chosen = [("Set-up", start), ("Bottom", bottom), ("Lockout", lockout if lockout is not None else last)]
        picks.extend((index, label, int(i)) for label, i in chosen)
    return picks


def grab_key_frames(
    video: Path,
    picks: Sequence[tuple[int, str, int]],
    track=None,
    frames_table: Mapping[str, Any] | None = None,
    *,
    cache: str | Path | None = None,
) -> list[KeyFrame]:
    """Decode the picked frames, draw the pose and back outline, crop to the lifter, encode JPEG.

    Frames are decoded in order and decoding stops after the last one needed.
    ``track`` (a :class:`~formcheck.pose.track.PoseTrack`) gives the skeleton and
    the crop; without it the whole frame is shown undrawn. The back outline is
    drawn only on frames whose lumbar flexion was assessed (a finite
    ``lumbar_flexion`` in ``frames_table``).

    With a ``cache`` folder (and a track), each still is also stored there
    under a name made of everything it is drawn from (the video file and the
    track's content, the frame, the frames of its rep that set the crop,
    whether the back outline is drawn), and taken from there when all picks
    are found: a still does not depend on the thresholds, so re-analysing
    the same landmarks with another profile decodes nothing.
    """
    from formcheck.io.video import read_frames

    if not picks:
        return []
    lumbar = column(frames_table or {}, "lumbar_flexion")
    stored = _StillCache(Path(cache), video, track, picks, lumbar) if cache is not None and track is not None else None
    if stored is not None and (cached := stored.load()) is not None:
        return cached
    wanted: dict[int, list[tuple[int, str]]] = {}
    for rep, label, index in picks:
        wanted.setdefault(index, []).append((rep, label))
    smoothed, back = _pose_for_drawing(track) if track is not None else (None, None)
    crops = _rep_crops(picks, smoothed) if smoothed is not None else {}
    grabbed: dict[tuple[int, str], KeyFrame] = {}
    try:
        reader = read_frames(video)
    except InputError:
        return []
    with reader:
        for i, time_s, frame in reader.frames_at(wanted):
            for rep, label in wanted[i]:
                xy = vis = curve = None
                if smoothed is not None and i < len(smoothed):
                    sx = frame.shape[1] / smoothed.frame_size[0]
                    sy = frame.shape[0] / smoothed.frame_size[1]
                    scale = np.array([sx, sy])
                    xy, vis = smoothed.xy[i] * scale, smoothed.visibility[i]
                    if back is not None and lumbar is not None and i < len(lumbar) and np.isfinite(lumbar[i]):
                        curve = back[i] * scale
                    crop = crops.get(rep)
                    crop = None if crop is None else (crop * np.array([sx, sy, sx, sy])).astype(int)
                else:
                    crop = None
                image = _draw_still(frame, xy, vis, curve, crop)
                grabbed[(rep, label)] = KeyFrame(rep, label, float(time_s), image)
                if stored is not None:
                    stored.save(rep, label, image)
    return [grabbed[(rep, label)] for rep, label, _ in picks if (rep, label) in grabbed]


#: Changes whenever stills would be drawn differently (invalidates cached ones). The version covers
#: changes of the smoothing and back-outline code the drawing uses.
_STILL_STYLE = f"{FORMCHECK_VERSION}-{STILL_HEIGHT}-{_LAYER_FACTOR}-{_BACK_LAYER_FACTOR}-{_JPEG_QUALITY}-{_STILL_HIDDEN}"


class _StillCache:
    """Key-frame JPEGs kept between runs, named by what they are drawn from."""

    def __init__(self, folder: Path, video: Path, track, picks, lumbar: np.ndarray | None):
        import hashlib

        digest = hashlib.sha256(_STILL_STYLE.encode())
        digest.update(f"{Path(video).stat().st_size}:{track.frame_size}:{len(track)}".encode())
        for array in (track.time_s, track.xy, track.visibility, track.detected):
            digest.update(np.ascontiguousarray(array).tobytes())
        self.folder = folder / digest.hexdigest()[:24]
        self.track = track
        self.picks = picks
        rep_frames = {rep: "_".join(str(i) for r, _, i in picks if r == rep) for rep, _, _ in picks}
        self.names = {}
        for rep, label, i in picks:
            back = lumbar is not None and i < len(lumbar) and bool(np.isfinite(lumbar[i]))
            self.names[(rep, label)] = f"{i}-{rep_frames[rep]}-{int(back)}.jpg"

    def load(self) -> list[KeyFrame] | None:
        """Every pick's still, or None if any is missing."""
        key_frames = []
        for rep, label, i in self.picks:
            if i >= len(self.track):
                return None
            try:
                image = (self.folder / self.names[(rep, label)]).read_bytes()
            except OSError:
                return None
            key_frames.append(KeyFrame(rep, label, float(self.track.time_s[i]), image))
        return key_frames

    def save(self, rep: int, label: str, image: bytes) -> None:
        try:
            write_bytes_atomic(self.folder / self.names[(rep, label)], image)
        except OSError:  # a cache we cannot write only costs time
            pass


def _pose_for_drawing(track):
    """Smoothed track (as analysed) and the back outline points per frame, or None."""
    from formcheck.pose.filters import smooth_track
    from formcheck.measure.kinematics import compute_kinematics
    from formcheck.spine import back_profile, dorsal_side

    if not track.detected.any():
        return None, None
    smoothed = smooth_track(track)
    kin = compute_kinematics(smoothed)
    side, _ = dorsal_side(smoothed, kin) if kin.view == "side" else (None, "")
    if side is None:
        return smoothed, None
    _, _, points, _ = back_profile(smoothed, side)
    return smoothed, points


def _rep_crops(picks, track) -> dict[int, np.ndarray]:
    """Per rep, a box ``(x0, y0, x1, y1)`` in track pixels around the lifter in its key frames."""
    boxes: dict[int, np.ndarray] = {}
    w, h = track.frame_size
    for rep in sorted({p[0] for p in picks}):
        indices = [i for r, _, i in picks if r == rep and i < len(track)]
        pts = track.xy[indices].reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) < 4:
            continue
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        size = max(x1 - x0, y1 - y0)
        # Room for the head above the face landmarks, plates and bar around the body.
        x0, x1 = x0 - 0.18 * size, x1 + 0.18 * size
        y0, y1 = y0 - 0.22 * size, y1 + 0.1 * size
        # Not too tall and thin nor too wide: between 3:4 portrait and 4:3 landscape.
        bw, bh = x1 - x0, y1 - y0
        if bw < 0.75 * bh:
            x0, x1 = x0 - (0.75 * bh - bw) / 2, x1 + (0.75 * bh - bw) / 2
        elif bw > 1.33 * bh:
            y0, y1 = y0 - (bw / 1.33 - bh) / 2, y1 + (bw / 1.33 - bh) / 2
        box = np.array([max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)])
        if box[2] - box[0] >= 16 and box[3] - box[1] >= 16:
            boxes[rep] = box
    return boxes


def _draw_still(frame: np.ndarray, xy, visibility, curve, crop) -> bytes:
    if crop is not None:
        x0, y0, x1, y1 = crop
        frame = frame[y0:y1, x0:x1]
        offset = np.array([x0, y0], np.float64)
    else:
        offset = np.zeros(2)
    zoom = STILL_HEIGHT / frame.shape[0]
    size = (max(2, round(frame.shape[1] * zoom)), STILL_HEIGHT)
    still = cv2.resize(frame, size, interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
    if xy is not None or curve is not None:
        _draw_pose_layer(still, None if xy is None else (xy - offset) * zoom, visibility,
                         None if curve is None else (curve - offset) * zoom)
    ok, encoded = cv2.imencode(".jpg", still, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise RuntimeError("could not encode a key frame as JPEG")
    return encoded.tobytes()


def _draw_pose_layer(still: np.ndarray, xy, visibility, curve) -> None:
    """Draw the back outline and the skeleton on ``still``, bolder than on video, with a dark rim.

    The overlay annotators size their lines for a whole video frame; a still
    cropped to the lifter and shown small needs bolder ones. So each draws on
    a layer ``factor`` times smaller, which is scaled up and blended in with a
    darkened rim, so the lines read on light and dark backgrounds alike.
    """
    if curve is not None:
        _blend_layer(still, _BACK_LAYER_FACTOR, lambda img, s, color: overlay.draw_back_curve(img, curve * s, **color))
    if xy is not None:
        shown = np.array(visibility, np.float32, copy=True) if visibility is not None else np.ones(len(xy), np.float32)
        shown[_STILL_HIDDEN] = 0.0
        _blend_layer(still, _LAYER_FACTOR, lambda img, s, color: overlay.draw_skeleton(img, xy * s, shown, **color))


def _blend_layer(still: np.ndarray, factor: int, draw) -> None:
    """Run ``draw(image, scale, color_kwargs)`` on a small layer and blend it into ``still``."""
    h, w = still.shape[:2]
    small = (max(2, w // factor), max(2, h // factor))
    scale = np.array([small[0] / w, small[1] / h])
    color = np.zeros((small[1], small[0], 3), np.uint8)
    mask = np.zeros_like(color)
    draw(color, scale, {})
    draw(mask, scale, {"color": overlay.WHITE})  # the same shapes in white: the layer's alpha
    rim = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))

    def up(layer):
        return cv2.resize(layer, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0

    alpha = up(mask)
    out = still.astype(np.float32) * (1.0 - 0.6 * up(rim))
    out = out * (1.0 - alpha) + up(color) * 255.0 * alpha
    still[:] = np.clip(out, 0, 255).astype(np.uint8)


# ====================================================================== reading outputs
def load_report_json(path: Path) -> dict[str, Any]:
    """``report.json`` as a dict; :class:`InputError` if missing or unreadable."""
    if not path.is_file():
        raise InputError(f"{path} does not exist (run `formcheck analyze` first)")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} is not a readable report: {exc}") from None
    if not isinstance(report, dict) or "reps" not in report:
        raise InputError(f"{path} is not a formcheck report (no 'reps')")
    return report


def read_angles_csv(path: Path) -> dict[str, np.ndarray]:
    """``angles.csv`` as columns: numbers as float arrays (empty = NaN), text as object arrays."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    table: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        cells = [row[j] if j < len(row) else "" for row in body]
        try:
            table[name] = np.array([float(c) if c != "" else np.nan for c in cells], np.float64)
        except ValueError:
            table[name] = np.array(cells, dtype=object)
    return table


def _load_track(path: Path):
    from formcheck.pose.track import PoseTrack

    if not path.is_file():
        return None
    try:
        return PoseTrack.load(path)
    except (ValueError, OSError):
        return None


def _find_video(report: Mapping[str, Any], out_dir: Path, video: str | Path | None) -> Path | None:
    if video is not None:
        path = Path(video)
        return path if path.is_file() else None
    source = str(report.get("source", "") or "")
    if not source or source.lower().endswith(".npz"):
        return None
    path = Path(source)
    for candidate in (path, out_dir / path, out_dir / path.name):
        if candidate.is_file():
            return candidate
    return None


def _missing_video_note(report: Mapping[str, Any], video) -> str:
    name = _file_name(str(video) if video is not None else report.get("source", ""))
    if name.lower().endswith(".npz"):
        return "Key frames are not shown: this analysis was made from saved landmarks, without the video."
    return (f"Key frames are not shown: the video {name} was not found "
            "(regenerate with `formcheck report DIR --video PATH`).")


# ====================================================================== small helpers
def _file_name(source: str) -> str:
    # Only the name: a report sent to a client should not show the coach's folders.
    return Path(str(source)).name or "(unnamed)"


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _degrees(value) -> str:
    if not _finite(value):
        return "—"
    rounded = round(value) + 0  # + 0 turns -0 into 0
    return f"{rounded:.0f}°".replace("-", "−")  # a real minus sign


def _percent(value) -> str:
    return f"{100 * value:.0f} %" if _finite(value) else "—"


def _seconds(value) -> str:
    return f"{value:.1f} s" if _finite(value) else "—"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


_CSS = """
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f4f6f9;--card:#fff;--good:#15803d;
--caution:#b45309;--fault:#b91c1c;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",
Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:1000px;margin:0 auto;padding:28px 20px 40px}
header .brand{margin:0;font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:var(--accent);font-weight:600}
h1{margin:2px 0 0;font-size:28px;line-height:1.2}
header .file{margin:2px 0 18px;color:var(--muted);word-break:break-all}
h2{font-size:18px;margin:0 0 12px}
h3{font-size:15px;margin:14px 0 8px}
section{background:var(--card);border-radius:12px;padding:18px 20px;margin:0 0 16px;
box-shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.04)}
.verdict{border-left:6px solid var(--muted)}
.verdict.good{border-color:var(--good);background:#f0fdf4}
.verdict.caution{border-color:#f59e0b;background:#fffbeb}
.verdict.fault{border-color:#dc2626;background:#fef2f2}
.verdict .sentence{font-size:19px;font-weight:600;margin:0}
.verdict .cue{margin:8px 0 0;font-size:16px}
.verdict .set{margin:6px 0 0;font-size:15px}
.verdict .cue span,.verdict .set span{display:inline-block;font-size:11px;text-transform:uppercase;letter-spacing:.06em;
background:var(--ink);color:#fff;border-radius:4px;padding:1px 6px;margin-right:6px;vertical-align:2px}
.glance{display:grid;grid-template-columns:repeat(5,1fr);gap:8px}
.stat{display:flex;flex-direction:column}
.stat .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.stat .v{font-size:20px;font-weight:600}
.stat .s{font-size:12px;color:var(--muted)}
.scroll{overflow-x:auto}
table.reps{width:100%;border-collapse:collapse;font-size:14px}
table.reps th{text-align:left;font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;
letter-spacing:.04em;border-bottom:2px solid var(--line);padding:6px 8px;vertical-align:bottom}
table.reps td{border-bottom:1px solid var(--line);padding:9px 8px;vertical-align:top}
table.reps tr:last-child td{border-bottom:0}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}
.sub{display:block;color:var(--muted);font-size:12.5px;font-weight:400}
h3 .sub{display:inline;margin-left:8px}
.ok{color:var(--good);font-weight:600}
.finding{margin-bottom:4px}
.badge{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.05em;
border-radius:4px;padding:1px 6px;vertical-align:1px}
.badge.fault{background:#fee2e2;color:var(--fault)}
.badge.caution{background:#fef3c7;color:var(--caution)}
.badge.info{background:#e0e7ff;color:#3730a3}
.repcue{margin-top:6px;font-weight:600}
.explain{color:var(--muted);font-size:13px;margin:10px 0 0}
.keyrow{border-top:1px solid var(--line);padding-top:6px}
.keyrow:first-of-type{border-top:0}
.frames{display:flex;gap:10px;flex-wrap:wrap}
figure{margin:0;flex:1 1 0;min-width:160px;max-width:270px}
figure img{display:block;width:100%;height:auto;border-radius:8px;border:1px solid var(--line)}
figcaption{font-size:13px;color:var(--muted);margin-top:4px;text-align:center}
img.plot{display:block;width:100%;height:auto}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;vertical-align:-1px}
.swatch.fault{background:#f4b4b4}.swatch.caution{background:#fbd89a}
ul{margin:6px 0 0;padding-left:20px}
footer{color:var(--muted);font-size:12.5px;padding:4px 4px 0}
@media (max-width:700px){.glance{grid-template-columns:repeat(2,1fr)}h1{font-size:23px}}
@media print{body{background:#fff}section{box-shadow:none;border:1px solid var(--line);break-inside:avoid}
main{padding:0}}
"""
