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


#: A change of the lumbar reading faster than this between two frames is the
#: outline flickering, not the back moving (a back rounding 30° in a fifth of a
#: second is already fast; the flicker seen is 10–20° in one frame at 30 fps).
FLICKER_DEG_PER_S = 240.0
#: Share of a rep's graded frame pairs that may flicker before the reading is
#: not trusted. Rendered phones on the floor close by (0.2 m, pitched up 17°):
#: 0.10–0.19 on the reps that read a flat back 35–39° rounded; every other
#: rendered deadlift rep and every real one ≤ 0.07 (rounded backs ≤ 0.03).
MAX_FLICKER_SHARE = 0.08
#: Outline confidence of a frame the back was clearly seen in.
CLEAR_OUTLINE_CONFIDENCE = 0.8


def flicker_share(values: np.ndarray, frames: np.ndarray, time_s: np.ndarray,
                  limit_per_s: float = FLICKER_DEG_PER_S) -> float:
    """Share of consecutive pairs of ``frames`` over which ``values`` change faster
    than ``limit_per_s`` (0 when no two frames are consecutive).

    >>> flicker_share(np.array([0.0, 15.0, 0.0, 1.0, 2.0]), np.arange(5), np.arange(5) / 30)
    0.5
    """
    frames = np.asarray(frames, int)
    pairs = frames[1:][np.diff(frames) == 1]
    if len(pairs) == 0:
        return 0.0
    rate = np.abs(values[pairs] - values[pairs - 1]) / np.maximum(time_s[pairs] - time_s[pairs - 1], 1e-6)
    return float(np.mean(rate > limit_per_s))


def check_lumbar_flexion(ctx: RepContext) -> Fault | NotJudged | None:
    """Deadlift and hinges: the lower back rounds during the pull or the lowering.

    The value is the highest flexion beyond neutral held for
    :data:`formcheck.spine.summary.HOLD_S` while the trunk leans at least
    ``LOADED_LEAN_DEG``.

    A rounded reading the outline itself contradicts is not graded (rendered
    phones on the floor close by read a flat back 27–39° rounded on 3 of 12
    clean reps):

    - the reading flickers (:func:`flicker_share` over ``MAX_FLICKER_SHARE``):
      a back does not round and straighten 10–20° from one frame to the next;
    - frames where the back was clearly seen (confidence at least
      ``CLEAR_OUTLINE_CONFIDENCE``) hold a flat back below caution while the
      rounding comes only from frames where the outline was unclear. A rep
      with no clearly seen frame is graded as before (on real clips the
      rounded backs are seen with confidence about 0.6).
    """
    spine, ok = _spine_ctx(ctx)
    if spine is None:
        return None
    lean = np.asarray(ctx.signals["trunk_inclination"], np.float64)
    frames = _frames_in(ctx, ok, "setup", "bottom", "ascent", "lockout", "descent")
    frames = frames[lean[frames] >= LOADED_LEAN_DEG]
    hold = spine_hold_frames(ctx.time_s)
    peak, at = sustained_max(spine.lumbar_flexion_deg, frames, hold)
    if at < 0:
        return None
    caution = ctx.thresholds["lumbar_flexion"].caution
    if peak >= caution:
        film = "film from the side at hip height to have the lower back judged"
        if flicker_share(spine.lumbar_flexion_deg, frames, np.asarray(ctx.time_s, np.float64)) > MAX_FLICKER_SHARE:
            return NotJudged(f"the back's outline flickered from frame to frame; {film}")
        clear = frames[spine.confidence[frames] >= CLEAR_OUTLINE_CONFIDENCE]
        clear_peak, clear_at = sustained_max(spine.lumbar_flexion_deg, clear, hold)
        if clear_at >= 0 and clear_peak < caution:
            return NotJudged(f"the back looked rounded only where its outline was unclear, flat where it was clear; {film}")
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

    A lean back that was never graded is not passed as fine: when the lifter
    was lost for most of the rep's top (:func:`top_span`), or when the graded frames stay
    under caution while top frames that could not be graded (outline unseen,
    hip behind the plate) lean back past caution by the smaller of the two
    estimates, the check is not judged and says why (rendered lean-backs of
    17°: 11 of 15 missed reps were such silent passes).
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
    hold = spine_hold_frames(ctx.time_s)
    pulled = _frames_in(ctx, rep_frames, "ascent", "lockout", "descent")
    if untracked_share(lean, top_span(lean, pulled, _frames_in(ctx, rep_frames, "lockout"))) > MAX_UNTRACKED_SHARE:
        return NotJudged("you were lost from view at lockout, so the lean back could not be measured")
    placed = spine.lean_deg if spine.lean_deg is not None else np.full(len(lean), np.nan)
    # Of two estimates of the lean, the one that leans back less: a guess never raises an alarm.
    smaller_lean = np.where(np.isfinite(placed), np.fmax(lean, placed), lean)
    if plate_covers(ctx.signals, "hip", top):
        hidden = "the plate hid the hips at lockout"
        both = ok[np.isfinite(placed[ok]) & np.isfinite(lean[ok])]
        frames = _frames_in(ctx, both, "ascent", "lockout", "descent")
        if len(frames) == 0:
            return NotJudged(hidden)
        if float(np.median(np.abs(placed[frames] - lean[frames]))) > MAX_HIP_DISAGREEMENT_DEG:
            return NotJudged(f"{hidden} (the hip could not be placed)")
        lean, source = smaller_lean, " (the plate hid the hip; the lean is the smaller of two estimates)"
    else:
        hidden = "the back was not seen at lockout"
        # The lean needs no outline, so frames where only the load at the hips hides it count too.
        load = np.flatnonzero(spine.load_at_hips) if spine.load_at_hips is not None else np.zeros(0, int)
        window = np.union1d(ok, load[(load >= ctx.rep.start) & (load < ctx.rep.end)])
        frames = _frames_in(ctx, window[np.isfinite(lean[window])], "ascent", "lockout", "descent")
        source = ""
    graded, frames = frames, frames[lean[frames] < 0]
    lean_back, _ = sustained_max(-lean, frames, hold)
    caution = ctx.thresholds["lockout_hyperextension"].caution
    if not lean_back >= caution:  # NaN too: nothing graded leaned back enough
        # No number in the reason: a lean read from a guess must not reach the lifter as a finding.
        ungraded_back, _ = sustained_max(-smaller_lean, np.setdiff1d(top, graded), hold)
        if ungraded_back >= caution:
            return NotJudged(f"{hidden}, so the lean back could not be checked")
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
#: Share of the rep's top (:func:`top_span`) without a trunk line (the lifter lost) above which it is not judged.
MAX_UNTRACKED_SHARE = 0.5


def top_span(lean: np.ndarray, frames: np.ndarray, lockout: np.ndarray, upright: float = UPRIGHT_DEG) -> np.ndarray:
    """The top of a rep: the unbroken run of ``frames`` where the trunk does not lean
    forward past ``upright`` (deg), frames with no trunk line included, that overlaps
    the ``lockout`` frames most (the longest run if none does: a lifter who lets go
    and stands up after the last rep makes a second run).

    >>> lean = np.array([60.0, 20.0, np.nan, -15.0, 40.0, 70.0, 5.0, 3.0, 2.0, 1.0])
    >>> top_span(lean, np.arange(10), lockout=np.array([2, 3])).tolist()
    [1, 2, 3]
    """
    frames = np.asarray(frames, int)
    near = frames[~(np.asarray(lean, np.float64)[frames] >= upright)]
    if len(near) == 0:
        return near
    runs = np.split(near, np.flatnonzero(np.diff(near) > 1) + 1)
    return max(runs, key=lambda run: (len(np.intersect1d(run, lockout)), len(run)))


def untracked_share(lean: np.ndarray, frames: np.ndarray) -> float:
    """Share of ``frames`` where the trunk lean is missing (0 without frames).

    >>> untracked_share(np.array([5.0, np.nan, np.nan, np.nan, -3.0]), np.arange(5))
    0.6
    """
    frames = np.asarray(frames, int)
    if len(frames) == 0:
        return 0.0
    return float(np.mean(~np.isfinite(np.asarray(lean, np.float64)[frames])))


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
