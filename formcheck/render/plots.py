"""Matplotlib plots of one analysis: joint angles over time, reps and faults marked.

Used by the HTML report (:mod:`formcheck.render.html`, as SVG) and in
notebooks (as a live figure). The functions take a per-frame table and a
:class:`~formcheck.analysis.report.Report` (in memory, or read back from
``report.json`` and ``angles.csv`` by :meth:`Report.load
<formcheck.analysis.report.Report.load>`); ``report.json`` as a dict is read
through :meth:`Report.from_dict <formcheck.analysis.report.Report.from_dict>`.

Two renderings of the same figure: :func:`plot_signals` draws it with
Matplotlib (imported lazily; :func:`signals_png` uses the non-interactive
``Agg`` backend, so it never needs a display), and :func:`signals_svg` writes
it directly as SVG markup from the same data and the same layout rules. The
HTML report embeds the SVG: it is drawn in a few milliseconds instead of a
few hundred (what made re-analysing a batch from cached landmarks slow), and
it stays sharp at any zoom.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping
from html import escape
from typing import Any

import numpy as np

from formcheck.analysis.report import Report
from formcheck.faults import Fault

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


def plot_signals(frames: Mapping[str, Any], report: Report | Mapping[str, Any], fig=None):
    """Draw hip, knee, trunk and lumbar-flexion angles over time.

    Reps are light bands labelled above the top panel; each fault's span is
    shaded (red for a fault, amber for a caution) in the panels of the signals
    it was judged from. A signal that is missing or never assessed gets a
    note in its panel instead of a line.

    Parameters
    ----------
    frames : mapping
        Per-frame table: ``Report.frames`` or the columns of ``angles.csv``.
    report : Report or mapping
        The report (or ``report.json`` as a dict): reps, faults and what was
        not assessable.
    fig : matplotlib Figure, optional
        Drawn into (cleared first); a new figure is made if None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    report = _as_report(report)
    time = column(frames, "time")
    if time is None:
        raise ValueError("the per-frame table has no time column")
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(9.0, 6.6))
    fig.clear()
    axes = fig.subplots(len(PANELS), 1, sharex=True)
    faults = report.faults
    not_assessable = report.not_assessable
    span = (float(np.nanmin(time)), float(np.nanmax(time))) if len(time) else (0.0, 1.0)

    for ax, (name, title, color) in zip(axes, PANELS):
        _mark_reps(ax, report.reps)
        for fault in faults:
            if name in FAULT_PANELS.get(fault.code, (name,)):
                _shade_fault(ax, fault, time)
        values = column(frames, name)
        if values is not None and np.isfinite(values).any():
            ax.plot(time, values, color=color, linewidth=1.6)
            if name == "lumbar_flexion":
                ax.axhline(0.0, color="#9ca3af", linewidth=0.8, linestyle="--")
            ax.set_ylim(*panel_ylim(values))
        else:
            ax.text(0.5, 0.5, _missing_note(name, not_assessable), transform=ax.transAxes,
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
    _label_reps(axes[0], report.reps, span)
    # Fixed margins rather than tight_layout: as good here, and a third of the time.
    fig.subplots_adjust(left=0.075, right=0.985, top=0.95, bottom=0.075, hspace=0.42)
    return fig


def signals_png(frames: Mapping[str, Any], report: Report | Mapping[str, Any], dpi: int = 96) -> bytes:
    """:func:`plot_signals` rendered to PNG bytes (Agg backend, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 6.6))
    FigureCanvasAgg(fig)
    plot_signals(frames, report, fig=fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


#: Size of the SVG figure in CSS pixels: the PNG's 9 × 6.6 inches at 96 dpi.
SVG_SIZE = (864, 634)
#: Figure margins (fractions of the figure) and the gap between panels (fraction of a panel's height).
_LEFT, _RIGHT, _TOP, _BOTTOM, _HSPACE = 0.075, 0.985, 0.95, 0.075, 0.42
_FONT = "font-family:-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,'DejaVu Sans',sans-serif"
_INK, _MUTED, _TICK, _SPINE, _GRID = "#111827", "#6b7280", "#4b5563", "#d1d5db", "#e5e7eb"


def signals_svg(frames: Mapping[str, Any], report: Report | Mapping[str, Any], size: tuple[int, int] = SVG_SIZE) -> bytes:
    """The figure of :func:`plot_signals` written directly as an SVG document (no Matplotlib).

    Same panels, rep bands and labels, fault shading, y ranges and missing-
    signal notes, from the same data; a few milliseconds per figure.

    Parameters
    ----------
    frames : mapping
        Per-frame table: ``Report.frames`` or the columns of ``angles.csv``.
    report : Report or mapping
        The report (or ``report.json`` as a dict).
    size : (int, int)
        Width and height in CSS pixels.

    Returns
    -------
    bytes
        UTF-8 SVG markup (every text from the report is XML-escaped).
    """
    report = _as_report(report)
    time = column(frames, "time")
    if time is None:
        raise ValueError("the per-frame table has no time column")
    width, height = size
    reps = report.reps
    spans = [(f.code, *fault_span(f, time)) for f in report.faults]
    not_assessable = report.not_assessable
    t0, t1 = (float(np.nanmin(time)), float(np.nanmax(time))) if len(time) else (0.0, 1.0)
    if t1 <= t0:
        t1 = t0 + 1.0
    left, right = _LEFT * width, _RIGHT * width
    top, bottom = (1 - _TOP) * height, (1 - _BOTTOM) * height
    panel_h = (bottom - top) / (len(PANELS) + (len(PANELS) - 1) * _HSPACE)

    def x_of(t):
        return left + (np.asarray(t, np.float64) - t0) / (t1 - t0) * (right - left)

    x_ticks = [t for t in nice_ticks(t0, t1, 12) if t0 - 1e-9 <= t <= t1 + 1e-9]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'style="{_FONT}"><rect width="100%" height="100%" fill="#fff"/>'
    ]
    for k, (name, title, color) in enumerate(PANELS):
        y0 = top + k * panel_h * (1 + _HSPACE)
        y1 = y0 + panel_h
        values = column(frames, name)
        measured = values is not None and np.isfinite(values).any()
        lo, hi = panel_ylim(values) if measured else (0.0, 1.0)

        def y_of(v, lo=lo, hi=hi, y1=y1):
            return y1 - (np.asarray(v, np.float64) - lo) / (hi - lo) * panel_h

        out.append(f'<clipPath id="panel{k}"><rect x="{left:.1f}" y="{y0:.1f}" width="{right - left:.1f}" '
                   f'height="{panel_h:.1f}"/></clipPath><g clip-path="url(#panel{k})">')
        for i, rep in enumerate(reps):  # alternate bands so neighbouring reps stay apart
            a, b = x_of(rep.start_s), x_of(rep.end_s)
            if i % 2 == 0:
                out.append(f'<rect x="{a:.1f}" y="{y0:.1f}" width="{max(b - a, 0):.1f}" height="{panel_h:.1f}" fill="{_REP_BAND}"/>')
            out.append(f'<path d="M{a:.1f} {y0:.1f}V{y1:.1f}M{b:.1f} {y0:.1f}V{y1:.1f}" stroke="#cbd5e1" stroke-width="0.8"/>')
        for code, start, end, shade in spans:
            if name in FAULT_PANELS.get(code, (name,)):
                a, b = x_of(start), x_of(end)
                out.append(f'<rect x="{a:.1f}" y="{y0:.1f}" width="{b - a:.1f}" height="{panel_h:.1f}" '
                           f'fill="{shade}" fill-opacity="0.25"/>')
        if measured:
            for tick in nice_ticks(lo, hi, 5):
                if lo <= tick <= hi:
                    out.append(f'<path d="M{left:.1f} {y_of(tick):.1f}H{right:.1f}" stroke="{_GRID}" stroke-width="0.6"/>')
            if name == "lumbar_flexion" and lo < 0 < hi:
                out.append(f'<path d="M{left:.1f} {y_of(0.0):.1f}H{right:.1f}" stroke="#9ca3af" stroke-width="0.8" '
                           'stroke-dasharray="3 2"/>')
            out.append(f'<path d="{_polyline(x_of(time), y_of(values))}" fill="none" stroke="{color}" '
                       'stroke-width="1.6" stroke-linejoin="round"/>')
        out.append("</g>")
        if measured:
            for tick in nice_ticks(lo, hi, 5):
                if lo <= tick <= hi:
                    y = y_of(tick)
                    out.append(f'<path d="M{left - 3.5:.1f} {y:.1f}H{left:.1f}" stroke="{_TICK}" stroke-width="0.8"/>'
                               f'<text x="{left - 6:.1f}" y="{y + 3.5:.1f}" font-size="10.5" fill="{_TICK}" '
                               f'text-anchor="end">{_number(tick)}</text>')
        else:
            note = _missing_note(name, not_assessable)
            lines = _wrap(note, 110)
            first = 0.5 * (y0 + y1) - 7 * (len(lines) - 1) + 4
            out.append(f'<text x="{0.5 * (left + right):.1f}" y="{first:.1f}" font-size="12" fill="{_MUTED}" '
                       'text-anchor="middle">' + "".join(
                           f'<tspan x="{0.5 * (left + right):.1f}" dy="{0 if j == 0 else 14}">{escape(line)}</tspan>'
                           for j, line in enumerate(lines)) + "</text>")
        out.append(f'<path d="M{left:.1f} {y0:.1f}V{y1:.1f}H{right:.1f}" fill="none" stroke="{_SPINE}" stroke-width="0.8"/>')
        out.append(f'<path d="{"".join(f"M{x:.1f} {y1:.1f}v3.5" for x in x_of(x_ticks))}" stroke="{_TICK}" stroke-width="0.8"/>')
        out.append(f'<text x="{left:.1f}" y="{y0 - 5:.1f}" font-size="13" fill="{_INK}">{escape(title)}</text>')
        out.append(f'<text transform="translate({left - 36:.1f} {0.5 * (y0 + y1):.1f}) rotate(-90)" font-size="10.5" '
                   f'fill="{_MUTED}" text-anchor="middle">deg</text>')
        if k == len(PANELS) - 1:
            for tick, x in zip(x_ticks, x_of(x_ticks)):
                out.append(f'<text x="{x:.1f}" y="{y1 + 15:.1f}" font-size="10.5" fill="{_TICK}" '
                           f'text-anchor="middle">{_number(tick)}</text>')
            out.append(f'<text x="{0.5 * (left + right):.1f}" y="{y1 + 31:.1f}" font-size="12" fill="{_TICK}" '
                       'text-anchor="middle">time (s)</text>')
    for rep in reps:
        middle = 0.5 * (rep.start_s + rep.end_s)
        if t0 <= middle <= t1:
            out.append(f'<text x="{x_of(middle):.1f}" y="{top - 3:.1f}" font-size="10.5" fill="#475569" '
                       f'text-anchor="middle">Rep {escape(str(rep.index))}</text>')
    out.append("</svg>")
    return "".join(out).encode("utf-8")


def nice_ticks(lo: float, hi: float, target: int) -> list[float]:
    """About ``target`` round tick values (steps of 1, 2, 2.5 or 5 × 10^k) within ``[lo, hi]``,
    chosen by Matplotlib's own tick locator (no figure needed)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    from matplotlib.ticker import MaxNLocator

    ticks = MaxNLocator(nbins=max(target - 1, 1), steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return [round(float(t), 10) for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]


def _number(value: float) -> str:
    text = f"{value:.10g}"
    return "0" if text == "-0" else text.replace("-", "−")  # a real minus sign, as Matplotlib writes


def _polyline(xs: np.ndarray, ys: np.ndarray) -> str:
    """SVG path data through the finite points; a gap wherever a value is missing."""
    finite = np.isfinite(xs) & np.isfinite(ys)
    starts = (finite & ~np.concatenate(([False], finite[:-1])))[finite].tolist()
    # Plain Python floats rounded to 0.1 px print shortest as they are: several times faster than f-strings.
    points = zip(starts, np.round(xs[finite], 1).tolist(), np.round(ys[finite], 1).tolist())
    return "".join(("M%r %r" if start else "L%r %r") % (x, y) for start, x, y in points)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


# ---------------------------------------------------------------------- helpers
def _as_report(report: Report | Mapping[str, Any]) -> Report:
    return report if isinstance(report, Report) else Report.from_dict(report)


def _mark_reps(ax, reps) -> None:
    for i, rep in enumerate(reps):
        if i % 2 == 0:  # alternate bands so neighbouring reps stay apart
            ax.axvspan(rep.start_s, rep.end_s, color=_REP_BAND, zorder=0, linewidth=0)
        for edge in (rep.start_s, rep.end_s):
            ax.axvline(edge, color="#cbd5e1", linewidth=0.8, zorder=0.5)


def panel_ylim(values: np.ndarray, span: float = MIN_SPAN_DEG) -> tuple[float, float]:
    """y range of a panel: the data with 5 % margins, widened to at least ``span`` around its middle."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if hi - lo < span:
        middle = 0.5 * (lo + hi)
        return middle - 0.5 * span, middle + 0.5 * span
    margin = 0.05 * (hi - lo)
    return lo - margin, hi + margin


def _label_reps(ax, reps, span) -> None:
    for rep in reps:
        middle = 0.5 * (rep.start_s + rep.end_s)
        if span[0] <= middle <= span[1]:
            ax.text(middle, 1.02, f"Rep {rep.index}", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8, color="#475569")


def fault_span(fault: Fault, time: np.ndarray) -> tuple[float, float, str]:
    """``(start_s, end_s, colour)`` of a fault's shading; at least two frames wide, to stay visible."""
    start, end = float(fault.start_s), float(fault.end_s)
    step = float(np.nanmedian(np.diff(time))) if len(time) > 1 else 0.033
    if end - start < 2 * step:
        end = start + 2 * step
    return start, end, SEVERITY_COLORS.get(fault.severity, SEVERITY_COLORS["caution"])


def _shade_fault(ax, fault, time: np.ndarray) -> None:
    start, end, color = fault_span(fault, time)
    ax.axvspan(start, end, color=color, alpha=0.25, zorder=0.6, linewidth=0)


def _missing_note(name: str, not_assessable: Mapping[str, str]) -> str:
    if name == "lumbar_flexion":
        reasons = [why for code, why in not_assessable.items() if code in FAULT_PANELS and
                   FAULT_PANELS[code] == ("lumbar_flexion",)]
        if reasons:
            return "Not assessed: " + reasons[0]
        return "Not assessed in this video"
    return "Not measured in this video"


# ---------------------------------------------------------------------- the bar
#: Size of the bar figure in CSS pixels: path (left) and vertical speed (right).
BAR_SVG_SIZE = (864, 330)
_BAR_COLORS = ("#b45309", "#2563eb", "#059669", "#7c3aed", "#db2777", "#0891b2")


def has_bar(frames: Mapping[str, Any]) -> bool:
    """The per-frame table has a followed bar (``bar_height``, ``bar_forward``, ``bar_velocity``)."""
    height = column(frames, "bar_height")
    return height is not None and bool(np.isfinite(height).any()) and column(frames, "bar_velocity") is not None


def bar_svg(frames: Mapping[str, Any], report: Report | Mapping[str, Any], size: tuple[int, int] = BAR_SVG_SIZE) -> bytes:
    """The bar's path and speed as an SVG document.

    Left: each rep's path seen from the side (forward and height in cm, equal
    scales, + forward to the right), from where the bar left the floor.
    Right: the bar's vertical speed over time (m/s, + up), reps banded and each
    rep's mean concentric velocity written above it.

    Parameters
    ----------
    frames : mapping
        Per-frame table with ``time``, ``bar_forward``, ``bar_height``, ``bar_velocity``.
    report : Report or mapping

    Returns
    -------
    bytes
        UTF-8 SVG markup.

    >>> t = np.linspace(0, 2, 61)
    >>> frames = {"time": t, "bar_forward": 0.01 * t, "bar_height": 0.225 + 0.2 * t, "bar_velocity": 0.2 + 0 * t}
    >>> svg = bar_svg(frames, {"exercise": "deadlift", "reps": []}).decode()
    >>> svg.startswith("<svg") and "Bar path" in svg and "Bar speed" in svg
    True
    """
    report = _as_report(report)
    time, fwd, height, speed = (column(frames, k) for k in ("time", "bar_forward", "bar_height", "bar_velocity"))
    if time is None or fwd is None or height is None or speed is None:
        raise ValueError("the per-frame table has no bar columns")
    width, total_h = size
    top, bottom = 30.0, total_h - 42.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" viewBox="0 0 {width} {total_h}" '
           f'style="{_FONT}"><rect width="100%" height="100%" fill="#fff"/>']
    # ---- path: equal scales, cm
    px0, px1 = 60.0, 0.36 * width
    spans = [(rep, (time >= rep.start_s) & (time <= rep.end_s)) for rep in report.reps] or [(None, np.isfinite(time))]
    xs, ys = 100.0 * np.asarray(fwd, np.float64), 100.0 * np.asarray(height, np.float64)
    seen = np.isfinite(xs) & np.isfinite(ys)
    lo_x, hi_x = (float(np.nanmin(xs[seen])), float(np.nanmax(xs[seen]))) if seen.any() else (0.0, 1.0)
    lo_y, hi_y = (float(np.nanmin(ys[seen])), float(np.nanmax(ys[seen]))) if seen.any() else (0.0, 1.0)
    span = max(hi_y - lo_y, (hi_x - lo_x) * (bottom - top) / (px1 - px0), 20.0) * 1.1
    unit = (bottom - top) / span  # px per cm, both axes
    mid_x, mid_y = 0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y)

    def path_x(v):
        return 0.5 * (px0 + px1) + (np.asarray(v) - mid_x) * unit

    def path_y(v):
        return 0.5 * (top + bottom) - (np.asarray(v) - mid_y) * unit

    out.append(f'<text x="{px0:.1f}" y="{top - 10:.1f}" font-size="13" fill="{_INK}">Bar path (side view)</text>')
    out.append(f'<rect x="{px0:.1f}" y="{top:.1f}" width="{px1 - px0:.1f}" height="{bottom - top:.1f}" fill="none" '
               f'stroke="{_SPINE}" stroke-width="0.8"/>')
    for tick in nice_ticks(mid_y - 0.5 * span, mid_y + 0.5 * span, 6):
        y = float(path_y(tick))
        out.append(f'<path d="M{px0:.1f} {y:.1f}H{px1:.1f}" stroke="{_GRID}" stroke-width="0.6"/>'
                   f'<text x="{px0 - 6:.1f}" y="{y + 3.5:.1f}" font-size="10.5" fill="{_TICK}" text-anchor="end">{_number(tick)}</text>')
    half_w = 0.5 * (px1 - px0) / unit
    for tick in nice_ticks(mid_x - half_w, mid_x + half_w, 4):
        x = float(path_x(tick))
        out.append(f'<path d="M{x:.1f} {top:.1f}V{bottom:.1f}" stroke="{_GRID}" stroke-width="0.6"/>'
                   f'<text x="{x:.1f}" y="{bottom + 15:.1f}" font-size="10.5" fill="{_TICK}" text-anchor="middle">{_number(tick)}</text>')
    out.append(f'<text x="{0.5 * (px0 + px1):.1f}" y="{bottom + 31:.1f}" font-size="12" fill="{_TICK}" '
               'text-anchor="middle">forward (cm)</text>')
    out.append(f'<text transform="translate({px0 - 40:.1f} {0.5 * (top + bottom):.1f}) rotate(-90)" font-size="12" '
               f'fill="{_TICK}" text-anchor="middle">height above the floor (cm)</text>')
    out.append(f'<clipPath id="barpath"><rect x="{px0:.1f}" y="{top:.1f}" width="{px1 - px0:.1f}" height="{bottom - top:.1f}"/></clipPath>'
               '<g clip-path="url(#barpath)">')
    for k, (rep, sel) in enumerate(spans):
        color = _BAR_COLORS[k % len(_BAR_COLORS)]
        out.append(f'<path d="{_polyline(path_x(np.where(sel, xs, np.nan)), path_y(np.where(sel, ys, np.nan)))}" '
                   f'fill="none" stroke="{color}" stroke-width="1.8" stroke-linejoin="round"/>')
    out.append("</g>")
    for k, (rep, _) in enumerate(spans):
        if rep is not None:
            out.append(f'<text x="{px1 - 6:.1f}" y="{top + 14 + 14 * k:.1f}" font-size="11" fill="{_BAR_COLORS[k % len(_BAR_COLORS)]}" '
                       f'text-anchor="end">rep {escape(str(rep.index))}</text>')
    # ---- speed over time
    sx0, sx1 = 0.46 * width, _RIGHT * width
    t0, t1 = (float(np.nanmin(time)), float(np.nanmax(time))) if len(time) else (0.0, 1.0)
    t1 = t1 if t1 > t0 else t0 + 1.0
    v = np.asarray(speed, np.float64)
    lo, hi = panel_ylim(v, span=1.0) if np.isfinite(v).any() else (-1.0, 1.0)

    def sx(t):
        return sx0 + (np.asarray(t, np.float64) - t0) / (t1 - t0) * (sx1 - sx0)

    def sy(val):
        return bottom - (np.asarray(val, np.float64) - lo) / (hi - lo) * (bottom - top)

    out.append(f'<text x="{sx0:.1f}" y="{top - 10:.1f}" font-size="13" fill="{_INK}">Bar speed, vertical (+ up)</text>')
    out.append(f'<clipPath id="barspeed"><rect x="{sx0:.1f}" y="{top:.1f}" width="{sx1 - sx0:.1f}" height="{bottom - top:.1f}"/></clipPath>'
               '<g clip-path="url(#barspeed)">')
    for i, rep in enumerate(report.reps):
        a, b = float(sx(rep.start_s)), float(sx(rep.end_s))
        if i % 2 == 0:
            out.append(f'<rect x="{a:.1f}" y="{top:.1f}" width="{max(b - a, 0):.1f}" height="{bottom - top:.1f}" fill="{_REP_BAND}"/>')
    for tick in nice_ticks(lo, hi, 5):
        out.append(f'<path d="M{sx0:.1f} {float(sy(tick)):.1f}H{sx1:.1f}" stroke="{_GRID}" stroke-width="0.6"/>')
    if lo < 0 < hi:
        out.append(f'<path d="M{sx0:.1f} {float(sy(0.0)):.1f}H{sx1:.1f}" stroke="#9ca3af" stroke-width="0.8" stroke-dasharray="3 2"/>')
    out.append(f'<path d="{_polyline(sx(time), sy(v))}" fill="none" stroke="#b45309" stroke-width="1.6" stroke-linejoin="round"/></g>')
    out.append(f'<path d="M{sx0:.1f} {top:.1f}V{bottom:.1f}H{sx1:.1f}" fill="none" stroke="{_SPINE}" stroke-width="0.8"/>')
    for tick in nice_ticks(lo, hi, 5):
        out.append(f'<text x="{sx0 - 6:.1f}" y="{float(sy(tick)) + 3.5:.1f}" font-size="10.5" fill="{_TICK}" text-anchor="end">{_number(tick)}</text>')
    for tick in nice_ticks(t0, t1, 8):
        out.append(f'<text x="{float(sx(tick)):.1f}" y="{bottom + 15:.1f}" font-size="10.5" fill="{_TICK}" text-anchor="middle">{_number(tick)}</text>')
    out.append(f'<text x="{0.5 * (sx0 + sx1):.1f}" y="{bottom + 31:.1f}" font-size="12" fill="{_TICK}" text-anchor="middle">time (s)</text>')
    out.append(f'<text transform="translate({sx0 - 34:.1f} {0.5 * (top + bottom):.1f}) rotate(-90)" font-size="12" '
               f'fill="{_TICK}" text-anchor="middle">m/s</text>')
    for rep in report.reps:
        mcv = rep.metrics.get("mean_concentric_velocity_m_s")
        middle = 0.5 * (rep.start_s + rep.end_s)
        if mcv is not None and np.isfinite(mcv) and t0 <= middle <= t1:
            out.append(f'<text x="{float(sx(middle)):.1f}" y="{top + 13:.1f}" font-size="10.5" fill="#475569" '
                       f'text-anchor="middle">rep {escape(str(rep.index))}: {mcv:.2f} m/s</text>')
    out.append("</svg>")
    return "".join(out).encode("utf-8")
