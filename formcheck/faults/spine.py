"""The spine's fault checks: rounded back, leaning back at lockout, butt wink, over-arched back.

Each reads the spine estimate (:mod:`formcheck.spine`) and is withheld where
that is: outside side views, with the back's outline hidden or unclear. The
values are changes from the lifter's own neutral (degrees).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from formcheck.faults.core import Check, Fault, NotJudged, RepContext, Threshold
from formcheck.measure.occlusion import outside_share, plate_covers
from formcheck.measure.held import sustained_max
from formcheck.spine import LOADED_LEAN_DEG, SpineEstimate, rep_summary, spine_hold_frames


def _spine_ctx(ctx: RepContext) -> tuple[SpineEstimate | None, np.ndarray]:
    """The spine estimate and the rep's assessable frames (empty if none)."""
    spine = ctx.spine
    if spine is None or spine.reason:
        return None, np.zeros(0, int)
    window = np.arange(ctx.rep.start, min(ctx.rep.end, len(spine)))
    summary = ctx.spine_rep or rep_summary(spine, ctx.signals["trunk_inclination"], ctx.time_s, ctx.rep)
    if not summary.assessable:
        return None, np.zeros(0, int)
    return spine, window[spine.assessable[window]]


def _grade(ctx: RepContext, spine: SpineEstimate, code: str, value: float, frames: np.ndarray, cue: str, message: str,
           confidence: float | None = None):
    """make_fault with the span where the value is past caution and the spine's
    confidence over it (or ``confidence`` when the value does not come from the outline)."""
    if len(frames) == 0:
        return None
    if confidence is None:
        confidence = float(np.median(spine.confidence[frames]))
    quality = min(ctx.quality, confidence)
    ctx = dataclasses.replace(ctx, quality=quality)
    return ctx.make_fault(code, value, (int(frames.min()), int(frames.max()) + 1), cue=cue, message=message, unit="deg")


def _frames_in(ctx: RepContext, ok: np.ndarray, *phases: str) -> np.ndarray:
    keep = np.zeros(0, int)
    for name in phases:
        if name in ctx.rep.phases:
            a, b = ctx.rep.phases[name]
            keep = np.concatenate([keep, ok[(ok >= a) & (ok < b)]])
    return np.unique(keep)


def check_lumbar_flexion(ctx: RepContext) -> Fault | None:
    """Deadlift and hinges: the lower back rounds during the pull or the lowering.

    The value is the highest flexion beyond neutral held for
    :data:`formcheck.spine.summary.HOLD_S` while the trunk leans at least
    ``LOADED_LEAN_DEG``.
    """
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    lean = np.asarray(ctx.signals["trunk_inclination"], np.float64)
    frames = _frames_in(ctx, ok, "setup", "bottom", "ascent", "lockout", "descent")
    frames = frames[lean[frames] >= LOADED_LEAN_DEG]
    peak, at = sustained_max(spine.lumbar_flexion_deg, frames, spine_hold_frames(ctx.time_s))
    if at < 0:
        return None
    caution = ctx.thresholds["lumbar_flexion"].caution
    span = frames[spine.lumbar_flexion_deg[frames] >= min(caution, peak)]
    lowering_from = ctx.rep.phases.get("lockout", (ctx.rep.end, ctx.rep.end))[0]
    when = "while lowering the bar" if at >= lowering_from else "during the pull"
    return _grade(
        ctx, spine, "lumbar_flexion", peak, span,
        cue="Brace and keep your lower back flat as the bar leaves the floor.",
        message=f"the lower back rounded about {peak:.0f}° beyond neutral {when}",
    )


def check_lockout_hyperextension(ctx: RepContext) -> Fault | NotJudged | None:
    """Deadlift: leaning back and over-arching the lower back at lockout.

    With the hips and knees straight, a lean behind vertical comes mostly from
    arching the lower back, so the value is the lean behind vertical held
    near the top of the rep (a lean back often falls outside the short
    ``lockout`` phase: the landmark hip angle cannot tell hip hyperextension
    from flexion). The outline's own extension is reported in the message but
    not graded: at lockout the bar and plates sit at the hips, and on rendered
    lifters that alone moved the kink by ≈ 10° from the walk-in standing
    reference.

    Where the near plate may cover the hips at the top
    (:func:`formcheck.measure.occlusion.plate_covers`), the pose model's hip is
    a guess that sits on the plate and can make an upright lifter lean 20°
    back. The lean is then judged only on frames where the back's outline was
    seen, as the smaller lean back of the model's hip and the hip placed from
    the outline (``SpineEstimate.lean_deg``), and only where the two agree
    within ``MAX_HIP_DISAGREEMENT_DEG`` (rendered phones on the floor: the
    placed hip read 28° forward to 13° back for an upright lifter); otherwise
    the check is not judged. Shoulders or hips
    outside the picture at the top are not judged either.
    """
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    lean = np.asarray(ctx.signals["trunk_inclination"], np.float64)
    rep_frames = np.arange(ctx.rep.start, min(ctx.rep.end, len(lean)))
    top = _frames_in(ctx, rep_frames[np.abs(lean[rep_frames]) < UPRIGHT_DEG], "ascent", "lockout", "descent")
    outside = outside_share(ctx.signals, ("shoulder", "hip"), top)
    if outside > MAX_OUTSIDE_SHARE:
        return NotJudged("the shoulders or hips were outside the picture at lockout")
    if plate_covers(ctx.signals, "hip", top):
        placed = spine.lean_deg if spine.lean_deg is not None else np.full(len(lean), np.nan)
        both = ok[np.isfinite(placed[ok]) & np.isfinite(lean[ok])]
        frames = _frames_in(ctx, both, "ascent", "lockout", "descent")
        if len(frames) == 0:
            return NotJudged("the plate hid the hips at lockout")
        if float(np.median(np.abs(placed[frames] - lean[frames]))) > MAX_HIP_DISAGREEMENT_DEG:
            return NotJudged("the plate hid the hips at lockout (the hip could not be placed)")
        # Of two estimates of a hidden hip, the one that leans back less: a guess never raises an alarm.
        lean, source = np.fmax(lean, placed), " (the plate hid the hip; the lean is the smaller of two estimates)"
    else:
        # The lean needs no outline, so frames where only the load at the hips hides it count too.
        hidden = np.flatnonzero(spine.load_at_hips) if spine.load_at_hips is not None else np.zeros(0, int)
        window = np.union1d(ok, hidden[(hidden >= ctx.rep.start) & (hidden < ctx.rep.end)])
        frames = _frames_in(ctx, window[np.isfinite(lean[window])], "ascent", "lockout", "descent")
        source = ""
    frames = frames[lean[frames] < 0]
    hold = spine_hold_frames(ctx.time_s)
    lean_back, _ = sustained_max(-lean, frames, hold)
    if not np.isfinite(lean_back):
        return None
    arch, _ = sustained_max(-spine.lumbar_flexion_deg, np.intersect1d(frames, ok), hold)
    arched = f" and the lower back arched about {arch:.0f}°" if np.isfinite(arch) and arch > 5 else ""
    return _grade(
        ctx, spine, "lockout_hyperextension", lean_back, frames,
        cue="Finish tall: squeeze your glutes and stop when you are straight, don't lean back.",
        message=f"at lockout you leaned back {lean_back:.0f}° behind vertical{arched}{source}",
        confidence=float(np.median(spine.confidence[ok])) if len(ok) else 0.0,
    )


#: Top-of-the-rep frames for the lockout: the trunk within this of vertical (deg).
UPRIGHT_DEG = 25.0
#: Two estimates of a hip the plate hides that differ more than this (median, deg) are not graded.
MAX_HIP_DISAGREEMENT_DEG = 8.0
#: Share of those frames with shoulders or hips outside the picture above which the lockout is not judged.
MAX_OUTSIDE_SHARE = 0.4


def _descent_start_level(ctx: RepContext, spine: SpineEstimate, ok: np.ndarray) -> float:
    """Median lumbar flexion over the first quarter (≥ 3 frames) of the descent: the
    same rep's own reference for squat checks (NaN without assessable descent frames)."""
    start = _frames_in(ctx, ok, "descent")
    if len(start) == 0:
        return float("nan")
    return float(np.median(spine.lumbar_flexion_deg[start[: max(3, len(start) // 4)]]))


def check_butt_wink(ctx: RepContext) -> Fault | None:
    """Squat: the lower back rounds at the bottom compared with the start of the descent."""
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    start_level = _descent_start_level(ctx, spine, ok)
    bottom = _frames_in(ctx, ok, "bottom")
    if not np.isfinite(start_level) or len(bottom) == 0:
        return None
    wink = float(np.max(spine.lumbar_flexion_deg[bottom]) - start_level)
    return _grade(
        ctx, spine, "butt_wink", wink, bottom,
        cue="Stop just above where your lower back starts to tuck under; brace before you go down.",
        message=f"at the bottom the lower back tucked under about {wink:.0f}° compared with the start",
    )


def check_lumbar_hyperextension(ctx: RepContext) -> Fault | None:
    """Squat: the lower back over-arches under load, compared with the start of the descent."""
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    start_level = _descent_start_level(ctx, spine, ok)
    frames = _frames_in(ctx, ok, "descent", "bottom", "ascent")
    if not np.isfinite(start_level) or len(frames) == 0:
        return None
    arch, _ = sustained_max(start_level - spine.lumbar_flexion_deg, frames, spine_hold_frames(ctx.time_s))
    if not np.isfinite(arch):
        return None
    span = frames[start_level - spine.lumbar_flexion_deg[frames] >= min(ctx.thresholds["lumbar_hyperextension"].caution, arch)]
    return _grade(
        ctx, spine, "lumbar_hyperextension", arch, span,
        cue="Ribs down, brace your belly: keep your lower back neutral, not arched.",
        message=f"the lower back arched about {arch:.0f}° more than at the start of the squat",
    )


# Default thresholds are changes from the lifter's neutral (degrees).
LUMBAR_FLEXION = Check("lumbar_flexion", check_lumbar_flexion, Threshold(caution=25.0, fault=35.0), needs=("spine",))
LOCKOUT_HYPEREXTENSION = Check(
    "lockout_hyperextension", check_lockout_hyperextension, Threshold(caution=12.0, fault=20.0), needs=("spine",)
)
BUTT_WINK = Check("butt_wink", check_butt_wink, Threshold(caution=15.0, fault=25.0), needs=("spine",))
LUMBAR_HYPEREXTENSION = Check(
    "lumbar_hyperextension", check_lumbar_hyperextension, Threshold(caution=20.0, fault=30.0), needs=("spine",)
)
