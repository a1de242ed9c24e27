"""The coach's overview of a batch: ``roster.csv``, ``sets.csv`` and ``index.html``.

Built from the per-video records of :mod:`formcheck.apps.coach.batch` and the
``report.json`` beside each (read with :meth:`Report.load
<formcheck.analysis.report.Report.load>`); every file is written atomically.

``roster.csv`` — one row per client, the clients who need attention first
(sorted by the share of reps with a fault, then with a caution):

``client, attention, sets, errors, reps, reps_with_fault, reps_with_caution,
fault_rate, caution_rate, first_date, last_date, worst_rep`` then, per fault
code seen, ``<code>_faults``, ``<code>_cautions`` (counts) and ``<code>_rate``
(share of the client's reps flagged with it at either severity).
``attention`` is the first that applies of ``faults`` (some rep had one),
``cautions``, ``errors`` (some videos could not be analysed), ``ok`` and
``no reps``. A rep *with a fault*
has at least one finding of severity fault; a rep *with a caution* has
cautions only.

``sets.csv`` — one row per video (error entries included, with the reason).

In both CSV files a cell that a spreadsheet would run as a formula (starting
with ``= + - @``) gets a leading apostrophe, and a file name whose bytes are
not UTF-8 shows them as U+FFFD (:func:`formcheck.io.files.spreadsheet_safe`).

``index.html`` — the roster, then per client the worst reps (links to the
annotated clip at the rep's time and a still of its worst moment), every set
with links to its files, and the error entries. Names are HTML-escaped and
links URL-quoted.
"""

from __future__ import annotations

import csv
import html
import io
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from formcheck.analysis.report import Report
from formcheck.errors import InputError
from formcheck.faults import Fault
from formcheck.io.files import printable, spreadsheet_safe, write_text_atomic

#: Worst reps listed per client in the index.
WORST_REPS_PER_CLIENT = 5


@dataclass(frozen=True)
class RepFinding:
    """One rep with at least one finding, for the worst-reps list."""

    client: str
    set_id: str
    video: str
    date: str
    rep: int
    start_s: float
    end_s: float
    faults: tuple[Fault, ...]
    cue: str | None
    still: str | None  # file name in the set folder

    @property
    def score(self) -> tuple[int, int, float]:
        """Sort key, worst first when reversed: fault count, caution count, highest confidence."""
        severities = Counter(f.severity for f in self.faults)
        return (severities["fault"], severities["caution"], max((f.confidence or 0.0) for f in self.faults))


@dataclass
class ClientSummary:
    client: str
    sets: int = 0
    errors: int = 0
    reps: int = 0
    reps_with_fault: int = 0
    reps_with_caution: int = 0
    codes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # code → severity → reps
    code_reps: Counter = field(default_factory=Counter)  # code → reps flagged with it
    dates: list[str] = field(default_factory=list)
    findings: list[RepFinding] = field(default_factory=list)

    @property
    def fault_rate(self) -> float:
        return self.reps_with_fault / self.reps if self.reps else 0.0

    @property
    def caution_rate(self) -> float:
        return self.reps_with_caution / self.reps if self.reps else 0.0

    @property
    def attention(self) -> str:
        if self.reps_with_fault:
            return "faults"
        if self.reps_with_caution:
            return "cautions"
        if self.errors:
            return "errors"
        return "ok" if self.reps else "no reps"

    def worst(self, n: int = WORST_REPS_PER_CLIENT) -> list[RepFinding]:
        return sorted(self.findings, key=lambda f: f.score, reverse=True)[:n]


def read_report(out: Path, record: dict) -> Report | None:
    """The report in a record's folder (its ``report.json``, without the per-frame table), or None if it has none."""
    try:
        return Report.load(Path(out) / record["set_id"] / "report.json", frames=False)
    except InputError:
        return None


def summarise(out: Path, records: list[dict]) -> tuple[list[ClientSummary], dict[str, Report | None]]:
    """Per-client summaries (attention order) and the reports by set id."""
    clients: dict[str, ClientSummary] = {}
    reports: dict[str, Report | None] = {}
    for record in records:
        summary = clients.setdefault(record["client"], ClientSummary(record["client"]))
        summary.sets += 1
        if record.get("date"):
            summary.dates.append(record["date"])
        report = read_report(out, record) if record["status"] == "ok" else None
        reports[record["set_id"]] = report
        if record["status"] != "ok":
            summary.errors += 1
            continue
        for rep in report.reps if report is not None else ():
            summary.reps += 1
            faults = rep.faults
            severities = {f.severity for f in faults}
            summary.reps_with_fault += "fault" in severities
            summary.reps_with_caution += bool(faults) and "fault" not in severities
            for code in {f.code for f in faults}:
                summary.code_reps[code] += 1
            for f in faults:
                summary.codes[f.code][f.severity] += 1
            if faults:
                summary.findings.append(
                    RepFinding(
                        client=record["client"], set_id=record["set_id"], video=record["video"], date=record.get("date") or "",
                        rep=rep.index, start_s=float(rep.start_s), end_s=float(rep.end_s),
                        faults=tuple(faults), cue=rep.cue,
                        still=(record.get("stills") or {}).get(str(rep.index)),
                    )
                )
    ordered = sorted(clients.values(), key=lambda c: (-c.fault_rate, -c.caution_rate, -c.errors, c.client.casefold()))
    return ordered, reports


def write_all(out: Path, records: list[dict]) -> dict[str, Path]:
    """Write ``roster.csv``, ``sets.csv`` and ``index.html`` into ``out``."""
    out = Path(out)
    clients, reports = summarise(out, records)
    paths = {
        "roster": write_text_atomic(out / "roster.csv", roster_csv(clients)),
        "sets": write_text_atomic(out / "sets.csv", sets_csv(records)),
    }
    paths["index"] = write_text_atomic(out / "index.html", index_html(out, records, clients, reports))
    return paths


# ----------------------------------------------------------------------------- CSV
def roster_csv(clients: list[ClientSummary]) -> str:
    codes = sorted({code for c in clients for code in c.codes})
    header = [
        "client", "attention", "sets", "errors", "reps", "reps_with_fault", "reps_with_caution",
        "fault_rate", "caution_rate", "first_date", "last_date", "worst_rep",
    ]
    for code in codes:
        header += [f"{code}_faults", f"{code}_cautions", f"{code}_rate"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for c in clients:
        worst = c.worst(1)
        row = [
            c.client, c.attention, c.sets, c.errors, c.reps, c.reps_with_fault, c.reps_with_caution,
            f"{c.fault_rate:.3f}", f"{c.caution_rate:.3f}", min(c.dates, default=""), max(c.dates, default=""),
            f"{worst[0].set_id}#rep{worst[0].rep}" if worst else "",
        ]
        for code in codes:
            row += [c.codes[code]["fault"], c.codes[code]["caution"], f"{c.code_reps[code] / c.reps:.3f}" if c.reps else ""]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue()


SETS_COLUMNS = (
    "client", "set_id", "video", "date", "date_source", "status", "error", "exercise", "view", "reps",
    "faults", "cautions", "landmarks_from_cache", "seconds", "analysed_at",
)


def sets_csv(records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SETS_COLUMNS)
    for r in records:
        s = r.get("summary") or {}
        writer.writerow([spreadsheet_safe(cell) for cell in (
            r["client"], r["set_id"], r["video"], r.get("date") or "", r.get("date_source") or "", r["status"],
            r.get("error") or "", s.get("exercise", ""), s.get("view", ""), s.get("rep_count", ""),
            s.get("faults", ""), s.get("cautions", ""), int(bool(r.get("landmarks_from_cache"))),
            r.get("seconds", ""), r.get("analysed_at", ""),
        )])
    return buffer.getvalue()


# ----------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:75em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.faults{color:#b00020;font-weight:600}.cautions{color:#a15c00;font-weight:600}.ok{color:#1b7a1b}
.errors,.error{color:#b00020}
img.still{max-height:9em;border:1px solid #ccc}
small{color:#666}
"""


def _e(value) -> str:
    return html.escape(printable(str(value)), quote=True)


def _href(path: str, fragment: str = "") -> str:
    """A link to a file: its exact bytes percent-encoded (a name that is not UTF-8 still opens)."""
    return _e(quote(os.fsencode(path)) + fragment)


def index_html(out: Path, records: list[dict], clients: list[ClientSummary], reports: dict[str, Report | None]) -> str:
    """The whole index page as one string."""
    anchors = {c.client: f"client-{i}" for i, c in enumerate(clients, start=1)}
    n_err = sum(r["status"] != "ok" for r in records)
    parts = [
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>formcheck batch</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>formcheck batch</h1>",
        f"<p>{len(records)} sets of {len(clients)} clients, {sum(c.reps for c in clients)} reps"
        + (f", <span class=\"error\">{n_err} could not be analysed</span>" if n_err else "")
        + ". Files: <a href=\"roster.csv\">roster.csv</a> · <a href=\"sets.csv\">sets.csv</a>. "
        "Trends per client: <code>formcheck history CLIENT</code>.</p>",
        "<h2>Roster</h2>",
        "<table><tr><th>client</th><th>attention</th><th>sets</th><th>reps</th><th>reps with a fault</th>"
        "<th>reps with a caution</th><th>most frequent finding</th><th>errors</th><th>last session</th></tr>",
    ]
    for c in clients:
        top = c.code_reps.most_common(1)
        parts.append(
            f"<tr><td><a href=\"#{anchors[c.client]}\">{_e(c.client)}</a></td>"
            f"<td class=\"{_e(c.attention.replace(' ', '-'))}\">{_e(c.attention)}</td><td>{c.sets}</td><td>{c.reps}</td>"
            f"<td>{c.reps_with_fault} ({c.fault_rate:.0%})</td><td>{c.reps_with_caution} ({c.caution_rate:.0%})</td>"
            f"<td>{_e(_words(top[0][0])) + f' ({top[0][1]})' if top else ''}</td><td>{c.errors}</td>"
            f"<td>{_e(max(c.dates, default=''))}</td></tr>"
        )
    parts.append("</table>")
    by_client: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_client[r["client"]].append(r)
    for c in clients:
        parts.append(f"<h2 id=\"{anchors[c.client]}\">{_e(c.client)}</h2>")
        parts.extend(_worst_reps_html(out, c))
        parts.extend(_sets_html(out, sorted(by_client[c.client], key=lambda r: (r.get("date") or "", r["set_id"])), reports))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _worst_reps_html(out: Path, client: ClientSummary) -> list[str]:
    worst = client.worst()
    if not worst:
        return ["<p>No faults or cautions in any rep.</p>" if client.reps else "<p>No reps analysed.</p>"]
    rows = ["<h3>Worst reps</h3>", "<table><tr><th>set</th><th>date</th><th>rep</th><th>findings</th><th>cue</th><th>clip</th><th>frame</th></tr>"]
    for f in worst:
        folder = out / f.set_id
        clip = _clip_href(out, f, f"#t={f.start_s:.2f},{f.end_s:.2f}")
        clip_link = f'<a href="{clip}">{f.start_s:.1f}–{f.end_s:.1f} s</a>'
        findings = "<br>".join(
            f"<span class=\"{_e(x.severity)}s\">{_e(x.severity)}</span>: {_e(x.message or _words(x.code))}"
            for x in f.faults
        )
        frame = (
            f"<a href=\"{_href(f'{f.set_id}/{f.still}')}\"><img class=\"still\" loading=\"lazy\" alt=\"rep {f.rep}\" "
            f"src=\"{_href(f'{f.set_id}/{f.still}')}\"></a>"
            if f.still and (folder / f.still).is_file() else ""
        )
        rows.append(
            f"<tr><td>{_set_link(out, f.set_id)}</td><td>{_e(f.date)}</td><td>{f.rep}</td><td>{findings}</td><td>{_e(f.cue or '')}</td>"
            f"<td>{clip_link}</td><td>{frame}</td></tr>"
        )
    rows.append("</table>")
    return rows


def _sets_html(out: Path, records: list[dict], reports: dict[str, Report | None]) -> list[str]:
    rows = ["<h3>Sets</h3>", "<table><tr><th>date</th><th>set</th><th>exercise</th><th>view</th><th>reps</th>"
            "<th>faults / cautions</th><th>files</th><th>notes</th></tr>"]
    for r in records:
        if r["status"] != "ok":
            rows.append(
                f"<tr><td>{_e(r.get('date') or '')}</td><td>{_e(r['set_id'])}</td>"
                f"<td colspan=\"5\" class=\"error\">could not be analysed: {_e(r.get('error') or '')}</td>"
                f"<td>{_files_html(out, r)}</td></tr>"
            )
            continue
        s = r.get("summary") or {}
        report = reports.get(r["set_id"])
        notes = "<br>".join(_e(n) for n in (report.notes if report is not None else ()))
        rows.append(
            f"<tr><td>{_e(r.get('date') or '')}</td><td>{_set_link(out, r['set_id'])}<br><small>{_e(Path(r['video']).name)}</small></td>"
            f"<td>{_e(s.get('exercise', ''))}</td><td>{_e(s.get('view', ''))}</td><td>{_e(s.get('rep_count', ''))}</td>"
            f"<td>{_e(s.get('faults', 0))} / {_e(s.get('cautions', 0))}</td><td>{_files_html(out, r)}</td><td>{notes}</td></tr>"
        )
    rows.append("</table>")
    return rows


def _set_link(out: Path, set_id: str) -> str:
    """The set's name, linked to its report.html when there is one."""
    if (out / set_id / "report.html").is_file():
        return f"<a href=\"{_href(set_id + '/report.html')}\">{_e(set_id)}</a>"
    return _e(set_id)


def _files_html(out: Path, record: dict) -> str:
    links = []
    for name in ("report.html", "annotated.mp4", "report.json", "angles.csv", "landmarks.npz"):
        if (out / record["set_id"] / name).is_file():
            links.append(f"<a href=\"{_href(record['set_id'] + '/' + name)}\">{_e(name)}</a>")
    source = _relative(out, record["video"])
    links.append(f"<a href=\"{_href(source)}\">original</a>")
    return " · ".join(links)


def _clip_href(out: Path, finding: RepFinding, fragment: str) -> str:
    """The annotated clip of a set (else the original video) with a media-fragment time range."""
    if (out / finding.set_id / "annotated.mp4").is_file():
        return _href(f"{finding.set_id}/annotated.mp4", fragment)
    return _href(_relative(out, finding.video), fragment)


def _relative(out: Path, path: str) -> str:
    try:
        return Path(os.path.relpath(path, out)).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(path).as_uri()


def _words(code: str) -> str:
    return str(code).replace("_", " ")
