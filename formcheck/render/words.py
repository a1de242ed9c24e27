"""What the report says, in words: the verdict, the main cue, the camera view, titles and numbers.

The functions take ``report.json`` as a dict (:meth:`Report.to_dict
<formcheck.analysis.report.Report.to_dict>` gives one from a report in
memory) and return plain text: HTML escaping is the page's job
(:mod:`formcheck.render.html`).

>>> verdict_sentence({"exercise": "squat", "reps": [{"index": 1, "faults": []}]})
('The squat rep looks good: no faults found.', 'good')
>>> degrees_text(-3.4), percent_text(0.256), seconds_text(None)
('−3°', '26 %', '—')
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from formcheck.exercises import EXERCISES
from formcheck.faults.catalogue import entry


# ====================================================================== titles
def exercise_title(name: str) -> str:
    """"Squat", "Romanian deadlift", … from the exercise plug-in (or the name itself)."""
    exercise = EXERCISES.get(name)
    if exercise is not None:
        return exercise.title
    return name.replace("_", " ").capitalize()


def fault_title(code: str) -> str:
    """The fault's heading from the catalogue ("Rounded lower back")."""
    return entry(code).title


def pulls_from_floor(exercise: str | None) -> bool:
    """A rep of this exercise is a pull from the floor (timed as pull and lowering, set up at the bottom)."""
    plugin = EXERCISES.get(exercise or "")
    return plugin is not None and plugin.pulls_from_floor


# ====================================================================== sentences
def verdict_sentence(report: Mapping[str, Any]) -> tuple[str, str]:
    """The verdict in one sentence, and its tone (``good``, ``caution``, ``fault``, ``none``).

    Parameters
    ----------
    report : mapping
        ``report.json`` as a dict (only ``exercise``, ``reps`` and
        ``not_assessable`` are read).

    Returns
    -------
    sentence : str
    tone : str
    """
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
    """What the camera view allowed: side (all checks), oblique, front or rear (side-view checks withheld)."""
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


def as_sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop (unless it ends in one already)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def shown_name(source: str) -> str:
    """Only the file name of ``source``: a report sent to a client should not show the coach's folders."""
    return Path(str(source)).name or "(unnamed)"


# ====================================================================== numbers
def is_number(value) -> bool:
    """A finite int or float (``report.json`` writes ``null`` for what was not measured)."""
    return isinstance(value, (int, float)) and math.isfinite(value)


def degrees_text(value) -> str:
    """Whole degrees with a real minus sign, or ``—`` when not measured."""
    if not is_number(value):
        return "—"
    rounded = round(value) + 0  # + 0 turns -0 into 0
    return f"{rounded:.0f}°".replace("-", "−")


def percent_text(value) -> str:
    """A 0–1 share as whole percent, or ``—``."""
    return f"{100 * value:.0f} %" if is_number(value) else "—"


def seconds_text(value) -> str:
    """Seconds to a tenth, or ``—``."""
    return f"{value:.1f} s" if is_number(value) else "—"


# ====================================================================== helpers
def _rep_list(indices: list[int]) -> str:
    words = [str(i) for i in indices]
    return ("rep " if len(words) == 1 else "reps ") + _join(words)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
