"""Matplotlib plots of one analysis: joint angles over time, reps and faults marked.

Used by the HTML report (:mod:`formcheck.html_report`, as a PNG) and in
notebooks (as a live figure). The functions take the plain data a report is
made of, so they work the same on a :class:`~formcheck.report.Report`
(``report.frames``, ``report.to_dict()``) and on ``angles.csv`` +
``report.json`` read back from disk.

Matplotlib is imported lazily and, for :func:`signals_png`, with the
non-interactive ``Agg`` backend, so rendering never needs a display.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Panels drawn, top to bottom: (column, title, colour).
PANELS: tuple[tuple[str, str, str], ...] = (
    ("hip_flexion", "Hip flexion", "#2563eb"),
    ("knee_flexion", "Knee flexion", "#059669"),
    ("trunk_inclination", "Trunk lean from vertical", "#7c3aed"),
    ("lumbar_flexion", "Lumbar flexion (+ rounded)", "#db2777"),
)

#: Which panels a fault is shaded in (faults not listed are shaded in all).
FAULT_PANELS: dict[str, tuple[str, ...]] = {
    "shallow_depth": ("hip_flexion", "knee_flexion"),
    "hips_rise_early": ("hip_flexion", "trunk_inclination"),
    "squatted_start": ("trunk_inclination",),
    "lumbar_flexion": ("lumbar_flexion",),
    "butt_wink": ("lumbar_flexion",),
    "lumbar_hyperextension": ("lumbar_flexion",),
    "lockout_hyperextension": ("lumbar_flexion",),
    "excessive_forward_lean": ("trunk_inclination",),
    "heel_rise": ("knee_flexion",),
    "knees_forward": ("knee_flexion",),
    "knees_too_bent": ("knee_flexion",),
    "squatting_the_swing": ("knee_flexion",),
    "insufficient_hinge": ("hip_flexion",),
    "soft_lockout": ("hip_flexion", "knee_flexion"),
}

SEVERITY_COLORS = {"caution": "#f59e0b", "fault": "#dc2626"}
#: Smallest y range of a panel (degrees), so a few degrees of noise do not look dramatic.
MIN_SPAN_DEG = 20.0
_REP_BAND = "#eef2f7"
_UNIT_SUFFIXES = ("deg", "s", "score", "leg_lengths")


def column(table: Mapping[str, Any], name: str) -> np.ndarray | None:
    """Column ``name`` of a per-frame table as floats, with or without its unit suffix.

    ``Report.frames`` names columns ``knee_flexion``; ``angles.csv`` names them
    ``knee_flexion_deg``. Returns None if the table has neither.
    """
    for key in [name] + [f"{name}_{unit}" for unit in _UNIT_SUFFIXES]:
        if key in table:
            try:
                return np.asarray(table[key], dtype=np.float64)
            except (TypeError, ValueError):
                return None
    return None


def plot_signals(frames: Mapping[str, Any], report: Mapping[str, Any] | Any, fig=None):
    """Draw hip, knee, trunk and lumbar-flexion angles over time.

    Reps are light bands labelled above the top panel; each fault's span is
    shaded (red for a fault, amber for a caution) in the panels of the signals
    it was judged from. A signal that is missing or never assessed gets a
    note in its panel instead of a line.

    Parameters
    ----------
    frames : mapping
        Per-frame table: ``Report.frames`` or the columns of ``angles.csv``.
    report : mapping or Report
        ``report.json`` as a dict (or a Report, whose ``to_dict()`` is used).
    fig : matplotlib Figure, optional
        Drawn into (cleared first); a new figure is made if None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if hasattr(report, "to_dict"):
        report = report.to_dict()
    time = column(frames, "time")
    if time is None:
        raise ValueError("the per-frame table has no time column")
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(9.0, 6.6))
    fig.clear()
    axes = fig.subplots(len(PANELS), 1, sharex=True)
    faults = [f for rep in report.get("reps", []) for f in rep.get("faults", [])]
    not_assessable = report.get("not_assessable", {}) or {}
    span = (float(np.nanmin(time)), float(np.nanmax(time))) if len(time) else (0.0, 1.0)

    for ax, (name, title, color) in zip(axes, PANELS):
        _mark_reps(ax, report.get("reps", []))
        for fault in faults:
            if name in FAULT_PANELS.get(fault["code"], (name,)):
                _shade_fault(ax, fault, time)
        values = column(frames, name)
        if values is not None and np.isfinite(values).any():
            ax.plot(time, values, color=color, linewidth=1.6)
            if name == "lumbar_flexion":
                ax.axhline(0.0, color="#9ca3af", linewidth=0.8, linestyle="--")
            _at_least_span(ax, values, MIN_SPAN_DEG)
        else:
            ax.text(0.5, 0.5, _missing_note(name, report, not_assessable), transform=ax.transAxes,
                    ha="center", va="center", fontsize=9, color="#6b7280", wrap=True)
            ax.set_yticks([])
        ax.set_title(title, loc="left", fontsize=10, color="#111827", pad=3)
        ax.set_ylabel("deg", fontsize=8, color="#6b7280")
        ax.tick_params(labelsize=8, colors="#4b5563")
        ax.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_color("#d1d5db")
        ax.set_xlim(*span)
    axes[-1].set_xlabel("time (s)", fontsize=9, color="#4b5563")
    _label_reps(axes[0], report.get("reps", []), span)
    # Fixed margins rather than tight_layout: as good here, and a third of the time.
    fig.subplots_adjust(left=0.075, right=0.985, top=0.95, bottom=0.075, hspace=0.42)
    return fig


def signals_png(frames: Mapping[str, Any], report: Mapping[str, Any] | Any, dpi: int = 96) -> bytes:
    """:func:`plot_signals` rendered to PNG bytes (Agg backend, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 6.6))
    FigureCanvasAgg(fig)
    plot_signals(frames, report, fig=fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


# ---------------------------------------------------------------------- helpers
def _mark_reps(ax, reps) -> None:
    for i, rep in enumerate(reps):
        if i % 2 == 0:  # alternate bands so neighbouring reps stay apart
            ax.axvspan(rep["start_s"], rep["end_s"], color=_REP_BAND, zorder=0, linewidth=0)
        for edge in (rep["start_s"], rep["end_s"]):
            ax.axvline(edge, color="#cbd5e1", linewidth=0.8, zorder=0.5)


def _at_least_span(ax, values: np.ndarray, span: float) -> None:
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if hi - lo < span:
        middle = 0.5 * (lo + hi)
        ax.set_ylim(middle - 0.5 * span, middle + 0.5 * span)


def _label_reps(ax, reps, span) -> None:
    for rep in reps:
        middle = 0.5 * (rep["start_s"] + rep["end_s"])
        if span[0] <= middle <= span[1]:
            ax.text(middle, 1.02, f"Rep {rep['index']}", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8, color="#475569")


def _shade_fault(ax, fault, time: np.ndarray) -> None:
    start, end = float(fault["start_s"]), float(fault["end_s"])
    # A span of a single frame would be invisible: show at least two frames.
    step = float(np.nanmedian(np.diff(time))) if len(time) > 1 else 0.033
    if end - start < 2 * step:
        end = start + 2 * step
    color = SEVERITY_COLORS.get(fault.get("severity"), SEVERITY_COLORS["caution"])
    ax.axvspan(start, end, color=color, alpha=0.25, zorder=0.6, linewidth=0)


def _missing_note(name: str, report, not_assessable) -> str:
    if name == "lumbar_flexion":
        reasons = [why for code, why in not_assessable.items() if code in FAULT_PANELS and
                   FAULT_PANELS[code] == ("lumbar_flexion",)]
        if reasons:
            return "Not assessed: " + reasons[0]
        return "Not assessed in this video"
    return "Not measured in this video"
