"""Synthetic benchmark of the whole analysis: rendered lifters with known spines, through ``formcheck analyze``.

Usage::

    python benchmarks/synthetic_grid.py                 # the full grid (issue 8), ≈ 120 clips
    python benchmarks/synthetic_grid.py --mode spine    # the spine subset (issue 3): side, oblique, front
    python benchmarks/synthetic_grid.py --only nominal,yaw30 --workers 2 --out /tmp/grid

Every case renders a clip (:func:`formcheck.synth.write_clip`), runs it
through :func:`formcheck.apps.analyze.analyze_video` (the real pose model, no
annotated video) and scores the report against the clip's truth
(:mod:`formcheck.apps.synth_eval`). Cases run in ``--workers`` processes (one pose
model each). Each finished case is appended to ``<out>/results.jsonl``; a
rerun skips cases already there (same spec → same name), so ``--mode spine``
after the grid costs nothing. Use ``--fresh`` after changing the analyser.

Conditions vary one factor at a time around a nominal side view (deadlift,
2 reps, camera at hip height 4 m away, lifter ≈ 350 px tall in 640×480,
painted room, tight clothes, 30 fps), each over a sweep of true lumbar
flexion. Tables: spine per condition, angles and reps per condition,
detection by flexion level over the goal set (side views ≤ 30° of yaw,
lifter ≥ 200 px), and the views where a verdict must be withheld. Plots go to
``docs/img/`` (``--plots``).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from formcheck.exercises import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formcheck.apps import synth_checks as sc  # noqa: E402
from formcheck.apps import synth_eval as se  # noqa: E402

# ---------------------------------------------------------------- the grid
#: Lumbar flexion levels (degrees), one clip each. Neutral appears several times
#: (different seeds) because false alarms are counted on it.
NOMINAL_LEVELS = (0, 0, 0, 0, 5, 10, 15, 20, 25, 30, 35, 40)
SWEEP_LEVELS = (0, 0, 10, 15, 20, 30, 40)
VIEW_LEVELS = (0, 0, 20, 40)
#: Every clip: two deadlift reps after a short stand (≈ 11 s, 332 frames at 30 fps).
BASE = {"exercise": "deadlift", "reps": 2, "setup_s": 0.8, "tempo": 0.85}
#: Lifter height in the image at the default camera (f = 800 px, 4 m); heights scale with f.
_NOMINAL_FOCAL_PX = 800.0
#: Goal set of issue 8: side views up to this yaw, lifter at least this tall.
GOAL_MAX_YAW_DEG = 30.0
GOAL_MIN_HEIGHT_PX = 200.0
#: Views where a spine verdict must be withheld or at least never confidently wrong (issue 3).
WITHHOLD_FROM_YAW_DEG = 45.0


@dataclass(frozen=True)
class Condition:
    """One cell of the grid: overrides of the nominal spec, swept over flexion levels.

    Conditions of the every-check grid (issue 16) list ``variants`` instead:
    ``(label, overrides)`` pairs, one clip each, on top of ``base``; ``fill``
    zooms so the standing lifter spans that share of the frame height and
    ``aim`` pitches the camera at the lifter's middle
    (:func:`formcheck.synth.framing.framed`).
    """

    name: str
    description: str
    overrides: dict = field(default_factory=dict)
    levels: tuple = SWEEP_LEVELS
    height_px: float | None = None  # lifter height to set through the focal length
    variants: tuple = ()
    base: dict = field(default_factory=dict)
    fill: float | None = None
    aim: bool = False
    setup: str = ""


SPINE_CONDITIONS = (
    Condition("nominal", "side view, 350 px, room, tight clothes, 30 fps", levels=NOMINAL_LEVELS),
    Condition("yaw15", "camera 15° toward the lifter's front", {"camera_yaw_deg": 15.0}),
    Condition("yaw30", "camera 30° toward the lifter's front", {"camera_yaw_deg": 30.0}),
    Condition("yaw45", "oblique: camera 45° round", {"camera_yaw_deg": 45.0}, VIEW_LEVELS),
    Condition("yaw60", "oblique: camera 60° round", {"camera_yaw_deg": 60.0}, VIEW_LEVELS),
    Condition("front", "front view (camera 89° round)", {"camera_yaw_deg": 89.0}, VIEW_LEVELS),
    Condition("h150", "lifter 150 px tall", {}, VIEW_LEVELS, height_px=150.0),
    Condition("h200", "lifter 200 px tall", {}, SWEEP_LEVELS, height_px=200.0),
    Condition("h450", "lifter 450 px tall (800×600 frame)", {"image_size": (800, 600)}, SWEEP_LEVELS, height_px=450.0),
    Condition("gym_dark", "busy dark gym, black shirt (low contrast)", {"background": "gym", "clothing": "black_grey"}),
    Condition("plain_white", "plain light wall, white shirt (low contrast)",
              {"background": "plain", "clothing": "white_blue"}),
    Condition("loose50", "looser clothes (0.5)", {"looseness": 0.5}),
    Condition("loose100", "loose clothes (1.0)", {"looseness": 1.0}),
    Condition("noise_blur", "pixel noise 8, blur 1.5 px", {"noise": 8.0, "blur": 1.5}),
    Condition("fps60", "60 fps", {"fps": 60.0}),
    Condition("upright", "upright start (squatted start 25°: trunk ≈ 48° at the floor)",
              {"faults": {"squatted_start": 25.0}}),
    Condition("hips_first", "hips rise first (0.6: trunk ≈ 77° early in the pull)",
              {"faults": {"hips_rise_early": 0.6}}),
    Condition("no_plates", "bar without plates (legs and hips not hidden)", {"implement": "bar"}, VIEW_LEVELS),
    Condition("squat", "bodyweight squat with butt wink, side view", {"exercise": "squat", "tempo": 1.0},
              (0, 0, 10, 20, 30, 40)),
)

# ---------------------------------------------------------------- the every-check grid (issue 16)
#: How people film (issue 16): camera placement and framing, applied to every lift below.
#: name → (description, spec overrides, fill, aim).
SETUPS = {
    "side": ("side view, camera at hip height 4 m away", {}, None, False),
    "yaw30": ("camera 30° toward the lifter's front", {"camera_yaw_deg": 30.0}, None, False),
    "floor": ("phone on the floor: 0.3 m high, 3 m away, pitched up at the lifter (≈ −11°), portrait, "
              "lifter 70 % of the frame", {"camera_height_m": 0.3, "camera_distance_m": 3.0,
                                           "image_size": (360, 640)}, 0.70, True),
    "floor_close": ("phone on the floor close up: 0.2 m high, 2.2 m away, pitched up ≈ −17°, portrait, "
                    "lifter 92 % of the frame", {"camera_height_m": 0.2, "camera_distance_m": 2.2,
                                                 "image_size": (360, 640)}, 0.92, True),
    "close": ("close: camera at hip height 2.5 m away, lifter 90 % of the frame height",
              {"camera_distance_m": 2.5}, 0.90, True),
    "far": ("far and small: 7 m away in a 1280×720 frame, lifter 28 % of the frame height (≈ 200 px)",
            {"camera_distance_m": 7.0, "image_size": (1280, 720)}, 0.28, True),
    "walker": ("a second person walks across the room behind the lifter", {"bystander": "walk_behind"}, None, False),
    "coach": ("a coach stands beside the lifter", {"bystander": "stand_beside"}, None, False),
}
#: Side views (≤ 30° of yaw): the goal set of issue 16.
CHECK_GOAL_SETUPS = tuple(SETUPS)
_CLEAN = tuple((f"clean{k}", {}) for k in range(4))
#: Every lift of the every-check grid: three reps per clip, clean clips and one clip per fault at a stated size.
#: The sizes are clear faults by the true value the check measures (docs/accuracy.md).
LIFT_VARIANTS = {
    "dl": ({"exercise": "deadlift", "reps": 3, "setup_s": 0.8, "tempo": 0.85}, _CLEAN + (
        ("lean_fine", {"faults": {"lockout_hyperextension": 7.0}}),        # ≈ 3° behind vertical: fine
        ("lumbar_flexion", {"faults": {"lumbar_flexion": 30.0}}),
        ("lockout_hyperextension", {"faults": {"lockout_hyperextension": 25.0}}),  # ≈ 17° behind vertical
        ("hips_rise_early", {"faults": {"hips_rise_early": 1.0}}),         # trunk tips 20° early in the pull
        ("squatted_start", {"faults": {"squatted_start": 35.0}}),          # trunk ≈ 37° at lift-off
        ("bar_drift", {"faults": {"bar_drift": 15.0}}),
    )),
    "sq": ({"exercise": "squat", "reps": 3, "setup_s": 0.8, "implement": "barbell"}, _CLEAN + (
        ("butt_wink", {"faults": {"butt_wink": 30.0}}),
        ("lumbar_hyperextension", {"faults": {"lumbar_hyperextension": 15.0}}),
        ("excessive_forward_lean", {"faults": {"excessive_forward_lean": 25.0}}),  # trunk − shin ≈ 35°
        ("heel_rise", {"faults": {"heel_rise": 20.0}, "depth": 1.2}),      # ≈ 7 cm, thigh at parallel
        ("shallow_depth", {"depth": 0.77}),                                 # thigh ≈ 15° above parallel
    )),
}


def _thigh_depth(deg_above_parallel: float) -> float:
    """Squat depth knob for a thigh this many degrees above parallel at the bottom (the
    builder's thigh turns 65° per unit of depth; the truth records the angle reached)."""
    return round(1.0 - deg_above_parallel / 65.0, 3)


DEPTH_SWEEP = tuple((f"thigh{a:+d}", {"depth": _thigh_depth(a)}) for a in (15, 10, 5, 0, -5, -10, -15))
HINGE_VARIANTS = {
    "rdl": ({"exercise": "rdl", "reps": 3, "setup_s": 0.8}, _CLEAN[:3] + (
        ("lumbar_flexion", {"faults": {"lumbar_flexion": 30.0}}),
        ("knees_too_bent", {"faults": {"knees_too_bent": 30.0}}),           # knees ≈ 48° bent
        ("insufficient_hinge", {"faults": {"insufficient_hinge": 0.8}}),   # hips fold ≈ 52°
    )),
    "gm": ({"exercise": "good_morning", "reps": 3, "setup_s": 0.8}, _CLEAN[:3] + (
        ("lumbar_flexion", {"faults": {"lumbar_flexion": 30.0}}),
        ("knees_too_bent", {"faults": {"knees_too_bent": 30.0}}),           # knees ≈ 42° bent
        ("insufficient_hinge", {"faults": {"insufficient_hinge": 0.8}}),   # hips fold ≈ 50°
    )),
    "kb": ({"exercise": "kettlebell_swing", "reps": 3, "setup_s": 0.8}, _CLEAN[:3] + (
        ("lumbar_flexion", {"faults": {"lumbar_flexion": 30.0}}),
        ("squatting_the_swing", {"faults": {"squatting_the_swing": 0.8}}),  # knees ≈ 62° bent
        ("lockout_hyperextension", {"faults": {"lockout_hyperextension": 25.0}}),  # ≈ 19° back vs standing
    )),
}


def _check_conditions() -> tuple[Condition, ...]:
    out = []
    for setup, (words, overrides, fill, aim) in SETUPS.items():
        for short, (base, variants) in LIFT_VARIANTS.items():
            lift = "barbell deadlift" if short == "dl" else "barbell back squat"
            out.append(Condition(f"{short}_{setup}", f"{lift}: {words}", overrides, levels=(), variants=variants,
                                 base=base, fill=fill, aim=aim, setup=setup))
    squat_base = LIFT_VARIANTS["sq"][0]
    for setup in ("side", "floor"):
        words, overrides, fill, aim = SETUPS[setup]
        out.append(Condition(f"sq_depth_{setup}", f"back squats 15° above to 15° below parallel: {words}",
                             overrides, levels=(), variants=DEPTH_SWEEP, base=squat_base, fill=fill, aim=aim,
                             setup=setup))
    for short, (base, variants) in HINGE_VARIANTS.items():
        out.append(Condition(f"{short}_side", f"{base['exercise']}: {SETUPS['side'][0]}", {}, levels=(),
                             variants=variants, base=base, setup="side"))
    out.append(Condition("dl_stay_down", "barbell deadlift that ends set at the bar (no standing up after "
                         "letting go): the rep-count control", {"finish": "stay_down"}, levels=(),
                         variants=_CLEAN[:3], base=LIFT_VARIANTS["dl"][0], setup="side"))
    return tuple(out)


CHECK_CONDITIONS = _check_conditions()
CONDITIONS = SPINE_CONDITIONS + CHECK_CONDITIONS
#: The spine subset (issue 3).
SPINE_MODE = ("nominal", "yaw15", "yaw30", "yaw45", "yaw60", "front")


@dataclass(frozen=True)
class Case:
    condition: str
    level: float
    replicate: int
    spec_kwargs: dict
    label: str = ""

    @property
    def name(self) -> str:
        digest = hashlib.sha1(json.dumps(self.spec_kwargs, sort_keys=True).encode()).hexdigest()[:8]
        if self.label:
            return f"{self.condition}-{self.label}-{digest}"
        return f"{self.condition}-L{self.level:02.0f}-r{self.replicate}-{digest}"


_FRAMING_CACHE: dict[str, tuple[float, float]] = {}


def _framing(cond: Condition, kwargs: dict) -> dict:
    """Pitch and focal length of a framed set-up, from the lift's clean spec (the same for every
    variant and seed, so case names stay stable)."""
    from formcheck.synth import SynthSpec
    from formcheck.synth.framing import framed

    key = json.dumps([cond.overrides, cond.base, cond.fill, cond.aim], sort_keys=True)
    if key not in _FRAMING_CACHE:
        plain = {**cond.base, **cond.overrides}
        if "image_size" in plain:
            plain["image_size"] = tuple(plain["image_size"])
        spec = framed(SynthSpec(**plain), cond.fill, aim=cond.aim)
        _FRAMING_CACHE[key] = (spec.camera_pitch_deg, spec.focal_px)
    pitch, focal = _FRAMING_CACHE[key]
    if cond.aim:
        kwargs["camera_pitch_deg"] = pitch
    if cond.fill is not None:
        kwargs["focal_px"] = focal
    return kwargs


def _variant_cases(cond: Condition) -> list[Case]:
    cases = []
    for label, variant in cond.variants:
        kwargs = {**cond.base, **cond.overrides, **{k: v for k, v in variant.items() if k != "faults"}}
        kwargs["faults"] = dict(variant.get("faults", {}))
        if cond.fill is not None or cond.aim:
            kwargs = _framing(cond, kwargs)
        kwargs["seed"] = int(hashlib.sha1(f"{cond.name}/{label}".encode()).hexdigest()[:6], 16)
        level = float(kwargs["faults"].get("lumbar_flexion", kwargs["faults"].get("butt_wink", 0.0)))
        cases.append(Case(cond.name, level, 0, kwargs, label=label))
    return cases


def build_cases(conditions) -> list[Case]:
    cases = []
    for cond in conditions:
        if cond.variants:
            cases.extend(_variant_cases(cond))
            continue
        seen: dict[float, int] = {}
        for level in cond.levels:
            k = seen.get(level, 0)
            seen[level] = k + 1
            kwargs = dict(BASE)
            kwargs.update({k2: v for k2, v in cond.overrides.items() if k2 != "faults"})
            faults = dict(cond.overrides.get("faults", {}))
            fault_knob = "butt_wink" if kwargs["exercise"] == "squat" else "lumbar_flexion"
            if level:
                faults[fault_knob] = float(level)
            kwargs["faults"] = faults
            if cond.height_px:
                kwargs["focal_px"] = round(_NOMINAL_FOCAL_PX * cond.height_px / _nominal_height_px(), 1)
            # A different lifter look and rep-to-rep variation per clip, reproducibly.
            kwargs["seed"] = int(hashlib.sha1(f"{cond.name}/{level}/{k}".encode()).hexdigest()[:6], 16)
            cases.append(Case(cond.name, float(level), k, kwargs))
    return cases


_HEIGHT_CACHE: dict[str, float] = {}


def _nominal_height_px() -> float:
    """Standing height in the image at the default camera (≈ 351 px)."""
    if "h" not in _HEIGHT_CACHE:
        from formcheck.synth import SynthSpec
        from formcheck.synth.truth import person_height_px

        spec = SynthSpec(**BASE)
        _HEIGHT_CACHE["h"] = person_height_px(spec.motion().skeleton(), spec.camera())
    return _HEIGHT_CACHE["h"]


def case_frames(case: Case) -> int:
    """Frames of a case's clip, roughly (for progress and ordering)."""
    fps = case.spec_kwargs.get("fps", 30.0)
    per_rep = {"deadlift": 3.3, "squat": 3.3, "rdl": 3.6, "good_morning": 3.7, "kettlebell_swing": 1.3}
    seconds = case.spec_kwargs.get("setup_s", 1.5) + 3.5 + per_rep[case.spec_kwargs["exercise"]] * case.spec_kwargs.get(
        "reps", 3) * case.spec_kwargs.get("tempo", 1.0)
    return int(seconds * fps)


# ---------------------------------------------------------------- running
def _run_case(case: Case, workdir: str, track_dir: str) -> dict:
    """Worker: render, analyse, score one case (a fresh pose model per clip, one process per core)."""
    from formcheck.synth import SynthSpec

    kwargs = dict(case.spec_kwargs)
    if "image_size" in kwargs:
        kwargs["image_size"] = tuple(kwargs["image_size"])
    try:
        result = se.run_case(SynthSpec(**kwargs), workdir, case.name, condition=case.condition, track_dir=track_dir)
        return {"ok": True, "result": result.to_dict()}
    except Exception as exc:  # one broken case must not sink a 15-minute run
        return {"ok": False, "name": case.name, "error": f"{type(exc).__name__}: {exc}"}


def run_cases(cases: list[Case], out: Path, workers: int, fresh: bool) -> list[se.ClipEval]:
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.jsonl"
    done: dict[str, se.ClipEval] = {}
    if results_path.exists() and not fresh:
        for r in se.load_results(results_path):
            done[r.name] = r
    elif fresh:
        results_path.unlink(missing_ok=True)
    todo = [c for c in cases if c.name not in done]
    total_frames = sum(case_frames(c) for c in todo)
    print(f"{len(cases)} cases, {len(cases) - len(todo)} cached, {len(todo)} to run "
          f"(≈ {total_frames} frames, {workers} workers)", flush=True)
    started = time.perf_counter()
    if todo:
        # Longest first: the 60 fps clips would otherwise finish alone at the end.
        todo.sort(key=case_frames, reverse=True)
        ctx = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory(prefix="fc-grid-") as workdir, \
                cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool, \
                open(results_path, "a") as sink:
            futures = {pool.submit(_run_case, c, workdir, str(out / "tracks")): c for c in todo}
            for n, fut in enumerate(cf.as_completed(futures), 1):
                case = futures[fut]
                msg = fut.result()
                if not msg["ok"]:
                    print(f"[{n}/{len(todo)}] {case.name}: FAILED {msg['error']}", flush=True)
                    continue
                sink.write(json.dumps(msg["result"]) + "\n")
                sink.flush()
                r = se.ClipEval.from_dict(msg["result"])
                done[r.name] = r
                peaks = " ".join(f"{p.estimate_peak_deg:5.1f}" if p.assessed else "    -" for p in r.reps)
                print(f"[{n}/{len(todo)}] {r.name:34s} {r.view:8s} reps {r.found_reps}/{r.truth_reps} "
                      f"truth {case.level:4.0f}° est {peaks}  render {r.render_s:5.1f}s analyse {r.analyze_s:5.1f}s "
                      f"({time.perf_counter() - started:6.0f}s)", flush=True)
    wall = time.perf_counter() - started
    results = [done[c.name] for c in cases if c.name in done]
    if todo:
        ran = [r for r in results if r.name in {c.name for c in todo}]
        frames = max(sum(r.frames for r in ran), 1)

        def ms(key):
            return 1000 * sum(getattr(r, key) for r in ran) / frames

        print(f"\nwall time {wall:.0f} s for {len(ran)} clips ({frames} frames, {workers} workers); per frame in a "
              f"worker: render {ms('render_s'):.1f} ms wall / {ms('render_cpu_s'):.1f} ms CPU, analyse "
              f"{ms('analyze_s'):.1f} ms wall / {ms('analyze_cpu_s'):.1f} ms CPU")
        cpu_s = sum(r.render_cpu_s + r.analyze_cpu_s for r in ran)
        print(f"CPU time {cpu_s:.0f} s: on two otherwise idle cores the grid would take ≈ {cpu_s / 2:.0f} s "
              "of wall time")
    return results


def rescore_cases(cases: list[Case], out: Path) -> list[se.ClipEval]:
    """Re-run the analysis on the saved pose tracks (no rendering, no pose model), score again
    and rewrite ``results.jsonl`` (keeping the render and pose timings of the original run)."""
    from dataclasses import replace

    results_path = out / "results.jsonl"
    old = {r.name: r for r in se.load_results(results_path)} if results_path.exists() else {}
    fresh = {}
    for case in cases:
        track = out / "tracks" / f"{case.name}.npz"
        if track.exists():
            r = se.rescore(track, case.name, case.condition)
            if case.name in old:
                o = old[case.name]
                r = replace(r, render_s=o.render_s, analyze_s=o.analyze_s, render_cpu_s=o.render_cpu_s,
                            analyze_cpu_s=o.analyze_cpu_s)
            fresh[case.name] = r
    old.update(fresh)
    text = "".join(json.dumps(r.to_dict()) + "\n" for r in old.values())
    from formcheck.io.files import write_text_atomic

    write_text_atomic(results_path, text)
    print(f"re-scored {len(fresh)} of {len(cases)} cases from {out / 'tracks'}")
    return [fresh[c.name] for c in cases if c.name in fresh]


# ---------------------------------------------------------------- summaries
def _nanmean(values) -> float:
    """Mean of the finite values (NaN when there are none, without a warning)."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def reps_of(results, *, assessed_only=False):
    return [r for c in results for r in c.reps if (r.assessed or not assessed_only)]


def in_goal_set(c: se.ClipEval) -> bool:
    return (c.exercise == "deadlift" and abs(c.camera_yaw_deg) <= GOAL_MAX_YAW_DEG
            # 2 % slack: the h200 lifters measure 199.7 px (sway, rounding of the focal length).
            and c.person_height_px >= 0.98 * GOAL_MIN_HEIGHT_PX and c.spec.get("implement") in (None, "barbell"))


def pooled_rmse(results, key: str | None = None, loaded: bool = False) -> float:
    """RMS over all frames of several clips (each clip weighted by its frames).

    ``key`` None: lumbar flexion (``loaded``: only frames with the true trunk
    lean ≥ 25°); else one of ``ClipEval.angle_rmse``.
    """
    num = den = 0.0
    for c in results:
        if key is None and loaded:
            rmse, n = c.lumbar_loaded_rmse_deg, c.lumbar_loaded_frames
        elif key is None:
            rmse, n = c.lumbar_rmse_deg, c.lumbar_frames
        else:
            rmse, n = c.angle_rmse.get(key, float("nan")), c.frames
        if np.isfinite(rmse) and n:
            num += rmse**2 * n
            den += n
    return float(np.sqrt(num / den)) if den else float("nan")


def peak_rmse(reps) -> tuple[float, float]:
    err = np.array([r.error_deg for r in reps if r.assessed])
    if len(err) == 0:
        return float("nan"), float("nan")
    return float(np.sqrt(np.mean(err**2))), float(np.mean(err))


def auc_of(reps, positive_from: float) -> float:
    pos = [r.estimate_peak_deg for r in reps if r.truth_peak_deg >= positive_from and r.assessed]
    neg = [r.estimate_peak_deg for r in reps if r.neutral and r.assessed]
    return se.auc(pos, neg)


def rate(flags) -> str:
    flags = list(flags)
    return f"{sum(flags)}/{len(flags)}" if flags else "-"


def spine_table(groups: dict[str, list[se.ClipEval]]) -> str:
    rows = []
    for name, clips in groups.items():
        reps = reps_of(clips)
        rmse, bias = peak_rmse(reps)
        floor = se.detection_floor(reps)
        views = "/".join(sorted({c.view for c in clips}))
        rows.append([
            name, len(clips), views, rate(c.withheld for c in clips), rate(r.assessed for r in reps),
            pooled_rmse(clips), pooled_rmse(clips, loaded=True), rmse, bias, auc_of(reps, 20.0), auc_of(reps, 15.0),
            floor.smallest_deg,
            rate(r.flagged for r in reps if r.neutral), rate(r.flagged for r in reps if r.truth_peak_deg >= 30),
        ])
    return se.format_table(rows, [
        "condition", "clips", "view", "withheld", "assessed reps", "RMSE/frame", "loaded", "peak RMSE",
        "peak bias", "AUC≥20", "AUC≥15", "floor", "FA verdict", "flag ≥30°"], align="lrlrrrrrrrrrrr")


def angle_table(groups: dict[str, list[se.ClipEval]]) -> str:
    rows = []
    for name, clips in groups.items():
        exact = sum(c.found_reps == c.truth_reps for c in clips)
        extra = sum(max(c.found_reps - sum(r.report_index > 0 for r in c.reps), 0) for c in clips)
        missed = sum(r.report_index == 0 for c in clips for r in c.reps)
        side = [c for c in clips if c.view == "side"]
        rows.append([
            name, f"{exact}/{len(clips)}", extra, missed,
            pooled_rmse(side, "knee"), pooled_rmse(side, "trunk"), pooled_rmse(side, "hip_landmark"),
            pooled_rmse(side, "hip_spine_excluded"),
            _nanmean([c.angle_bias.get("hip_spine_excluded", np.nan) for c in side]),
        ])
    return se.format_table(rows, [
        "condition", "reps exact", "extra reps", "missed reps", "knee RMSE", "trunk RMSE", "hip(lmk) RMSE",
        "hip−spine RMSE", "hip−spine bias"])


def level_table(reps, floor: se.DetectionFloor) -> str:
    rows = []
    levels = sorted({float(5 * np.round(r.truth_peak_deg / 5)) for r in reps})
    for level in levels:
        sel = [r for r in reps if float(5 * np.round(r.truth_peak_deg / 5)) == level]
        est = np.array([r.estimate_peak_deg for r in sel if r.assessed])
        rows.append([
            f"{level:.0f}", len(sel), sum(r.assessed for r in sel),
            float(np.mean(est)) if len(est) else float("nan"), float(np.std(est)) if len(est) > 1 else float("nan"),
            "-" if level <= se.NEUTRAL_MAX_DEG else f"{floor.recall_by_level.get(level, float('nan')):.2f}",
            rate(r.flagged for r in sel),
        ])
    return se.format_table(rows, ["true flexion°", "reps", "assessed", "mean est°", "sd est°",
                                  f"recall @≥{floor.threshold_deg:.1f}°", "analyser flagged"])


def withheld_table(groups: dict[str, list[se.ClipEval]]) -> str:
    rows = []
    for name, clips in groups.items():
        reps = reps_of(clips)
        views = ", ".join(f"{v}×{sum(c.view == v for c in clips)}" for v in sorted({c.view for c in clips}))
        reasons = sorted({c.withheld_reason.split(";")[0][:60] for c in clips if c.withheld})
        rows.append([name, len(clips), views, rate(c.withheld for c in clips), rate(r.assessed for r in reps),
                     sum(r.confidently_wrong() for r in reps), "; ".join(reasons) or "-"])
    return se.format_table(rows, ["condition", "clips", "views found", "withheld clips", "assessed reps",
                                  "confident wrong", "reason"], align="lrlrrrl")


def goal_lines(results, mode: str) -> list[str]:
    by = {c.condition for c in results}
    lines = []

    def check(label, value, ok):
        lines.append(f"{'PASS' if ok else 'FAIL'}  {label}: {value}")

    side_names = [n for n in ("nominal", "yaw15", "yaw30") if n in by]
    side = [c for c in results if c.condition in side_names]
    side_reps = reps_of(side)
    nonside = [c for c in results if c.exercise == "deadlift" and abs(c.camera_yaw_deg) >= WITHHOLD_FROM_YAW_DEG]
    lines.append(f"Issue 3 (side views = {', '.join(side_names)}; {len(side)} clips):")
    v = pooled_rmse(side)
    check("lumbar flexion RMSE per frame ≤ 5°", f"{v:.2f}° over all assessable frames", v <= 5)
    pk, _ = peak_rmse(side_reps)
    lines.append(f"      (frames with trunk lean ≥ 25°: {pooled_rmse(side, loaded=True):.2f}°; "
                 f"per-rep peak RMSE {pk:.2f}°)")
    v = pooled_rmse(side, "hip_spine_excluded")
    check("hip angle (spine excluded) RMSE ≤ 2°", f"{v:.2f}°  (landmark hip vs true landmark angle: "
          f"{pooled_rmse(side, 'hip_landmark'):.2f}°)", v <= 2)
    v = auc_of(side_reps, 20.0)
    check("ROC AUC ≥ 20° vs ≤ 5° ≥ 0.95", f"{v:.3f}", v >= 0.95)
    wrong = sum(r.confidently_wrong() for r in reps_of(nonside))
    check("oblique ≥ 45° / front: never a confident wrong verdict",
          f"{wrong} confident wrong in {len(reps_of(nonside))} reps; "
          f"withheld clips {rate(c.withheld for c in nonside)}",
          wrong == 0)
    if mode == "grid":
        goal = [c for c in results if in_goal_set(c)]
        reps = reps_of(goal)
        floor = se.detection_floor(reps)
        lines.append(f"Issue 8 (goal set: deadlift side views ≤ {GOAL_MAX_YAW_DEG:.0f}° yaw, lifter ≥ "
                     f"{GOAL_MIN_HEIGHT_PX:.0f} px; {len(goal)} clips, {len(reps)} reps):")
        check("smallest flexion detected at ≥ 90 % recall, ≤ 5 % false alarms ≤ 15°",
              f"{floor.smallest_deg:.0f}° (score threshold {floor.threshold_deg:.1f}°, false alarms "
              f"{floor.false_alarm:.1%} of {floor.negatives} neutral reps)", floor.smallest_deg <= 15)
        v = pooled_rmse(goal)
        check("lumbar flexion RMSE per frame ≤ 5°", f"{v:.2f}° over all assessable frames", v <= 5)
        pk, bias = peak_rmse(reps)
        lines.append(f"      (frames with trunk lean ≥ 25°: {pooled_rmse(goal, loaded=True):.2f}°; "
                     f"per-rep peak RMSE {pk:.2f}°, bias {bias:+.2f}°; AUC ≥20 vs ≤5 {auc_of(reps, 20):.3f}, "
                     f"≥15 vs ≤5 {auc_of(reps, 15):.3f})")
        verdict_fa = [r.flagged for r in reps if r.neutral]
        lines.append(f"      analyser's own verdict (caution ≥ 25°): false alarms {rate(verdict_fa)} neutral reps, "
                     f"flagged {rate(r.flagged for r in reps if r.truth_peak_deg >= 30)} reps ≥ 30°, "
                     f"{rate(r.flagged for r in reps if 15 <= r.truth_peak_deg < 30)} reps 15–25°")
    return lines


# ---------------------------------------------------------------- every check (issue 16)
def pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:.1f}% ({n}/{d})" if d else "-"


def in_check_goal_set(c: se.ClipEval) -> bool:
    """Side views (≤ 30° of yaw) of every filming set-up: where each check has a false-alarm budget."""
    return abs(c.camera_yaw_deg) <= GOAL_MAX_YAW_DEG and any(r.checks for r in c.reps)


def _mean_measure(clips, key) -> float:
    return _nanmean([r.truth_measures.get(key, np.nan) for c in clips for r in c.reps])


#: Short names of the bar metrics in the set-up table (median/worst |error| per rep).
BAR_LABELS = {"mean_concentric_velocity_m_s": "mcv", "peak_concentric_velocity_m_s": "peak",
              "bar_drift_cm": "drift", "bar_path_cm": "path"}


def setup_table(groups: dict[str, list[se.ClipEval]]) -> str:
    """Per condition: recognition, rep counts, hip angle (spine excluded), what the plates and the frame hide,
    and the bar metrics once both sides carry them."""
    rows = []
    for name, clips in groups.items():
        exact = sum(c.found_reps == c.truth_reps for c in clips)
        extra = sum(len(c.extra_reps) for c in clips)
        missed = sum(r.report_index == 0 for c in clips for r in c.reps)
        side = [c for c in clips if c.view == "side"]
        bar = {}
        for c in clips:
            for key, pairs in c.bar.items():
                bar.setdefault(key, []).extend(e - t for e, t in pairs)
        bar_text = " ".join(f"{BAR_LABELS.get(k, k)} {np.median(np.abs(v)):.3g}/{np.max(np.abs(v)):.3g}"
                            for k, v in sorted(bar.items())) or "-"
        rows.append([
            name, len(clips), rate(c.found_exercise == c.exercise for c in clips),
            "/".join(sorted({c.view for c in clips})), f"{exact}/{len(clips)}", extra, missed,
            pooled_rmse(side, "hip_spine_excluded"), pooled_rmse(side, "hip_landmark"),
            _nanmean([c.person_height_px for c in clips]),
            _mean_measure(clips, "in_frame_share"), _mean_measure(clips, "hip_hidden_at_top"),
            _mean_measure(clips, "knee_hidden_at_start"), bar_text,
        ])
    return se.format_table(rows, [
        "condition", "clips", "exercise right", "view", "reps exact", "extra reps", "missed reps",
        "hip−spine RMSE", "hip(lmk) RMSE", "lifter px", "all in frame", "hips behind plate @top",
        "knees behind plate @start", "bar |error| median/worst per rep (m/s, cm)"], align="lrrlrrrrrrrrrl")


def stated_sizes() -> dict[tuple[str, str], str]:
    """(exercise, check) → the fault size the every-check grid renders for it (its detection goal)."""
    out = {}
    for base, variants in list(LIFT_VARIANTS.values()) + list(HINGE_VARIANTS.values()):
        exercise = base["exercise"]
        for label, variant in variants:
            spec = {"faults": variant.get("faults", {}), "depth": variant.get("depth", base.get("depth", 1.0))}
            codes = [sc.check_for_fault(exercise, k) for k in spec["faults"]] or (
                ["shallow_depth"] if "depth" in variant else [])
            for code in codes:
                knobs = [k for k in spec["faults"] if sc.check_for_fault(exercise, k) == code] or [code]
                out[(exercise, code)] = sc.fault_size(spec, exercise, code, knobs)
    return out


def false_alarm_table(clips: list[se.ClipEval]) -> str:
    """Per check, pooled: false alarms per judged clean rep, alarms on reps that are not reps, and the
    check's reading against the true value on every judged rep."""
    rows = []
    for (exercise, code), st in sorted(sc.check_stats(clips).items()):
        if not (st.clean or st.clean_withheld or st.positives):
            continue
        rows.append([
            exercise, code, st.clean, st.clean_withheld, pct(st.caution, st.clean), pct(st.fault, st.clean),
            f"{st.phantom_alarms}/{st.phantom}" if st.phantom else "-", st.value_bias, st.value_mae,
            len(st.value_errors), st.main_reason()[:60] or "-",
        ])
    return se.format_table(rows, [
        "exercise", "check", "clean reps", "withheld", "FA caution", "FA fault", "alarms on non-reps",
        "value bias", "value MAE", "values", "main reason withheld"], align="llrrrrrrrrl")


def detection_table(clips: list[se.ClipEval]) -> str:
    """Per check and rendered fault size: detection (caution or fault), as a fault, withheld."""
    stated = stated_sizes()
    rows = []
    for (exercise, code), st in sorted(sc.check_stats(clips).items()):
        for size, at in sorted(st.by_size.items(), key=lambda kv: kv[1].true_value):
            mark = " *" if stated.get((exercise, code)) == size else ""
            rows.append([exercise, code, size + mark, at.true_value, at.reps, pct(at.found, at.reps),
                         pct(at.found_fault, at.reps), at.withheld])
    return se.format_table(rows, ["exercise", "check", "rendered fault (* = stated size)", "true value", "reps",
                                  "detected", "as fault", "withheld"], align="lllrrrrr")


def check_matrix(groups: dict[str, list[se.ClipEval]], what: str) -> str:
    """Check × condition: false alarms (caution or fault) per judged clean rep (``what="fa"``), or
    detection on the rendered fault reps (``"det"``)."""
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for name, clips in groups.items():
        for (exercise, code), st in sc.check_stats(clips).items():
            if what == "fa" and (st.clean or st.clean_withheld):
                text = f"{st.caution + st.fault}/{st.clean}" if st.clean else "w"
            elif what == "det" and st.positives:
                text = f"{st.found}/{st.positives}"
            else:
                continue
            cells.setdefault((exercise, code), {})[name] = text
    names = list(groups)
    rows = [[f"{ex}:{code}"] + [cells[(ex, code)].get(n, "") for n in names] for ex, code in sorted(cells)]
    short = [n.split("_", 1)[1] if "_" in n else n for n in names]
    return se.format_table(rows, ["check"] + short)


def variant_table(clips: list[se.ClipEval]) -> str:
    """Alarms by rendered variant (pooled over set-ups): which checks fire on what."""
    by: dict[tuple[str, str], list[se.ClipEval]] = {}
    for c in clips:
        label = c.name.split("-")[1] if c.name.count("-") >= 2 else ""
        if label and not label.startswith("L"):
            by.setdefault((c.exercise, label.rstrip("0123456789") if label.startswith("clean") else label), []).append(c)
    rows = []
    for (exercise, label), group in sorted(by.items()):
        reps = [r for c in group for r in c.reps if r.report_index > 0]
        counts: dict[str, list[int]] = {}
        for r in reps:
            for code, v in r.checks.items():
                if v["severity"] in sc.ALARMS:
                    counts.setdefault(code, [0, 0])[v["severity"] == "fault"] += 1
        alarms = ", ".join(f"{code} {c + f}" + (f" ({f} fault)" if f else "")
                           for code, (c, f) in sorted(counts.items(), key=lambda kv: -sum(kv[1])))
        rows.append([exercise, label, len(group), len(reps), sum(c.found_reps == c.truth_reps for c in group),
                     alarms or "none"])
    return se.format_table(rows, ["exercise", "variant", "clips", "counted reps", "reps exact",
                                  "alarms on counted reps (caution+fault)"], align="llrrrl")


def depth_table(clips: list[se.ClipEval]) -> str:
    """Squat depth sweep: true thigh angle vs the shallow_depth check's reading and verdicts."""
    rows = []
    by: dict[str, list] = {}
    for c in clips:
        label = c.name.split("-")[1]
        by.setdefault(label, []).extend(r for r in c.reps if r.report_index > 0)
    def offset(label: str) -> float:  # "thigh+10" -> 10 ("thigh" alone: 0)
        try:
            return float(label[5:] or 0)
        except ValueError:
            return 0.0

    for label, reps in sorted(by.items(), key=lambda kv: -offset(kv[0])):
        true = [r.truth_measures.get("thigh_above_parallel_deg", np.nan) for r in reps]
        read = [r.checks.get("shallow_depth", {}).get("value", np.nan) for r in reps]
        sev = [r.checks.get("shallow_depth", {}).get("severity", "") for r in reps]
        labelled = sum("shallow_depth" in r.truth_faults for r in reps)
        rows.append([label, len(reps), _nanmean(true), _nanmean(read), _nanmean(np.subtract(read, true)),
                     f"{labelled}/{len(reps)}", sum(s == "caution" for s in sev), sum(s == "fault" for s in sev)])
    return se.format_table(rows, ["rendered", "reps", "true thigh°", "read°", "error°", "labelled shallow",
                                  "caution", "fault"])


def check_goal_lines(clips: list[se.ClipEval]) -> list[str]:
    """Issue 16's budgets per check over the side-view set-ups: ≤ 2 % false alarms per clean rep,
    ≥ 90 % detection at the stated size (or withheld, with the reason)."""
    stated = stated_sizes()
    lines = [f"Issue 16 (every check; side views ≤ {GOAL_MAX_YAW_DEG:.0f}° of yaw, every set-up; {len(clips)} clips; "
             "false alarms ≤ 2 % of clean reps / detected ≥ 90 % at the stated size, n/a: none rendered):"]
    for (exercise, code), st in sorted(sc.check_stats(clips).items()):
        if not (st.clean or st.clean_withheld or st.positives):
            continue
        if st.clean:
            ok = st.alarm_rate <= 0.02
            fa_text = f"false alarms {pct(st.caution + st.fault, st.clean)} of clean reps ({st.fault} faults)"
        else:
            ok, fa_text = True, f"withheld on all {st.clean_withheld} clean reps ({st.main_reason()})"
        size = stated.get((exercise, code))
        at = st.by_size.get(size) if size else None
        if at is not None and at.reps:
            verdict = "PASS" if at.detection >= 0.9 else "FAIL"
            true = f" (true {at.true_value:.1f})" if np.isfinite(at.true_value) else ""
            det = f"detected {pct(at.found, at.reps)} at {size}{true}"
            if verdict == "FAIL" and at.withheld >= 0.5 * at.reps:
                det += f" — withheld: {st.main_reason()}"
        else:
            verdict, det = "n/a ", "no fault rendered at a stated size"
        lines.append(f"{'PASS' if ok else 'FAIL'}/{verdict}  {exercise}:{code}: {fa_text}; {det}")
    return lines


#: Issue 16's per-rep goals for the bar (|error| at most this).
BAR_GOALS = {"mean_concentric_velocity_m_s": 0.05, "bar_path_cm": 2.0}


def bar_goal_lines(clips: list[se.ClipEval]) -> list[str]:
    """Per rep, median and worst |error| of the bar metrics and how many reps meet the goal
    (reps where the plate was followed and the truth has a bar)."""
    pooled: dict[str, list[float]] = {}
    for c in clips:
        for key, pairs in c.bar.items():
            pooled.setdefault(key, []).extend(abs(e - t) for e, t in pairs)
    lines = []
    for key, goal in BAR_GOALS.items():
        errors = np.asarray(pooled.get(key, []), np.float64)
        if not len(errors):
            lines.append(f"bar {key}: no rep with a followed plate and a true bar")
            continue
        within = int((errors <= goal).sum())
        lines.append(f"{'PASS' if within == len(errors) else 'FAIL'}  bar {key}: per rep median {np.median(errors):.3f}, "
                     f"worst {errors.max():.3f}, within {goal:g} on {within}/{len(errors)} reps "
                     f"({len({c.name for c in clips if c.bar.get(key)})} clips with a followed plate)")
    return lines


def checks_report(results: list[se.ClipEval], summary: bool = False) -> None:
    """The every-check section: what ``--rescore`` prints after the spine tables (or alone, ``--summary``)."""
    scored = [c for c in results if any(r.checks for r in c.reps)]
    if not scored:
        return
    goal = [c for c in scored if in_check_goal_set(c)]
    if summary:
        for line in check_goal_lines(goal) + bar_goal_lines(goal):
            print(line)
        return
    order = [c.name for c in CONDITIONS]
    groups: dict[str, list[se.ClipEval]] = {}
    for c in sorted(scored, key=lambda c: order.index(c.condition) if c.condition in order else 99):
        groups.setdefault(c.condition, []).append(c)
    check_groups = {k: v for k, v in groups.items() if k in {c.name for c in CHECK_CONDITIONS}}
    print("\nEvery check: set-ups (hip−spine = hip angle excluding the spine, where the spine is judged; hip(lmk) = "
          "landmark hip angle vs the same angle on the true landmarks; RMSE over side-view clips, degrees; "
          "hidden/in-frame: share of frames, from the truth):")
    print(setup_table(check_groups or groups))
    print(f"\nEvery check: false alarms, pooled over the side views of every condition ({len(goal)} clips; a clean "
          "rep is rendered without any fault; value = the check's reading − the true value, every judged rep):")
    print(false_alarm_table(goal))
    print("\nEvery check: detection by rendered fault size (side views of every condition; true value: median of "
          "what the check measures):")
    print(detection_table(goal))
    for what, words in (("fa", "false alarms (caution or fault) / judged clean reps; w = withheld"),
                        ("det", "detected / reps rendered with the fault")):
        for prefix in ("dl_", "sq_"):
            sub = {k: v for k, v in check_groups.items() if k.startswith(prefix) and not k.startswith("sq_depth")}
            if sub:
                print(f"\n{words}, {prefix.rstrip('_')} set-ups:")
                print(check_matrix(sub, what))
    variants = [c for c in scored if c.condition in {c.name for c in CHECK_CONDITIONS}]
    if variants:
        print("\nAlarms by rendered variant (every set-up pooled):")
        print(variant_table(variants))
    for name in ("sq_depth_side", "sq_depth_floor"):
        if name in groups:
            depth = EXERCISES["squat"].thresholds["shallow_depth"]
            print(f"\nSquat depth sweep, {name} (shallow_depth: caution from {depth.caution:g}°, fault from "
                  f"{depth.fault:g}° above parallel; "
                  "labelled shallow: hip > 2 % of height above the knee):")
            print(depth_table(groups[name]))
    print()
    for line in check_goal_lines(goal):
        print(line)


# ---------------------------------------------------------------- plots
def make_plots(results, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    dead = [c for c in results if c.exercise == "deadlift"]

    # Error vs yaw and vs height: per-rep peak error; withheld reps drawn on a band above.
    for key, label, fname, select in (
        ("camera_yaw_deg", "camera yaw (° toward the lifter's front)", "synthetic_error_vs_yaw.png",
         lambda c: c.condition in ("nominal", "yaw15", "yaw30", "yaw45", "yaw60", "front")),
        ("person_height_px", "lifter height in the image (px)", "synthetic_error_vs_height.png",
         lambda c: c.condition in ("nominal", "h150", "h200", "h450")),
    ):
        clips = [c for c in dead if select(c)]
        if not clips:
            continue
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        rng = np.random.default_rng(0)
        xs = sorted({round(getattr(c, key)) for c in clips})
        span = (max(xs) - min(xs)) or 1.0
        for c in clips:
            x = getattr(c, key)
            for r in c.reps:
                jitter = rng.uniform(-0.012, 0.012) * span
                colour = plt.cm.viridis(min(r.truth_peak_deg / 40.0, 1.0))
                if r.assessed:
                    ax1.scatter(x + jitter, r.error_deg, color=colour, s=18)
                else:
                    ax1.scatter(x + jitter, 22, marker="x", color=colour, s=18)
            if np.isfinite(c.lumbar_rmse_deg):
                ax2.scatter(x, c.lumbar_rmse_deg, color="tab:blue", s=18)
        ax1.axhline(0, color="k", lw=0.8)
        ax1.axhspan(-5, 5, color="0.9", zorder=0)
        ax1.axhline(19, color="0.6", lw=0.6, ls=":")
        ax1.text(min(xs), 22.8, "withheld (×)", fontsize=8, color="0.3")
        ax1.set_ylim(-25, 25)
        ax1.set_xlabel(label)
        ax1.set_ylabel("peak lumbar flexion error per rep (°)")
        ax1.set_title("per-rep peak error (colour: true flexion 0→40°)")
        ax2.axhline(5, color="tab:red", lw=0.8, ls="--")
        ax2.set_xlabel(label)
        ax2.set_ylabel("RMSE over assessable frames (°)")
        ax2.set_title("per-frame lumbar flexion RMSE per clip")
        fig.tight_layout()
        path = out_dir / fname
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    # ROC curves, ≥ 20° vs ≤ 5°, per side-view condition and pooled over the goal set.
    fig, ax = plt.subplots(figsize=(5.6, 5.2))
    groups = {}
    for c in results:
        if c.exercise in ("deadlift", "squat") and c.view == "side":
            groups.setdefault(c.condition, []).append(c)
    groups["goal set (pooled)"] = [c for c in results if in_goal_set(c)]
    for name, clips in groups.items():
        reps = reps_of(clips)
        pos = [r.estimate_peak_deg for r in reps if r.truth_peak_deg >= 20 and r.assessed]
        neg = [r.estimate_peak_deg for r in reps if r.neutral and r.assessed]
        if not pos or not neg:
            continue
        fpr, tpr = se.roc_curve(pos, neg)
        pooled = name.startswith("goal")
        ax.step(fpr, tpr, where="post", lw=2.5 if pooled else 1.0, color="k" if pooled else None,
                alpha=1 if pooled else 0.7,
                label=f"{name} ({se.auc(pos, neg):.2f})")
    ax.plot([0, 1], [0, 1], color="0.7", lw=0.6, ls=":")
    ax.set_xlabel("false-alarm rate (neutral reps)")
    ax.set_ylabel("recall (reps with ≥ 20° lumbar flexion)")
    ax.set_title("ROC per condition, score = per-rep peak (AUC)")
    ax.legend(fontsize=6.5, loc="lower right", ncol=2)
    fig.tight_layout()
    path = out_dir / "synthetic_roc.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)

    # Estimate vs truth over the goal set.
    goal = [c for c in results if in_goal_set(c)]
    if goal:
        fig, ax = plt.subplots(figsize=(5.6, 5.2))
        names = sorted({c.condition for c in goal})
        cmap = plt.get_cmap("tab20")
        rng = np.random.default_rng(1)
        for k, name in enumerate(names):
            reps = reps_of([c for c in goal if c.condition == name], assessed_only=True)
            ax.scatter([r.truth_peak_deg + rng.uniform(-0.8, 0.8) for r in reps],
                       [r.estimate_peak_deg for r in reps], s=14, color=cmap(k % 20), label=name)
        ax.plot([0, 45], [0, 45], color="k", lw=0.8)
        ax.axhline(25, color="tab:orange", lw=0.8, ls="--", label="caution threshold")
        ax.set_xlabel("true peak lumbar flexion (°)")
        ax.set_ylabel("analyser's peak lumbar flexion (°)")
        ax.set_title("goal set: estimate vs truth per rep")
        ax.legend(fontsize=6.5, ncol=2)
        fig.tight_layout()
        path = out_dir / "synthetic_estimate_vs_truth.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


# ---------------------------------------------------------------- main
def report(results: list[se.ClipEval], mode: str, summary: bool = False) -> None:
    if summary:
        checks_report(results, summary=True)
        return
    spine_names = {c.name for c in SPINE_CONDITIONS}
    checks = results
    results = [c for c in results if c.condition in spine_names]
    if not results:
        checks_report(checks)
        return
    order = [c.name for c in CONDITIONS]
    groups: dict[str, list[se.ClipEval]] = {}
    for c in sorted(results, key=lambda c: order.index(c.condition) if c.condition in order else 99):
        groups.setdefault(c.condition, []).append(c)
    print("\nSpine per condition (per rep: score = peak_lumbar_flexion_deg; neutral = true peak ≤ 5°):")
    print(spine_table(groups))
    print("\nAngles (side-view clips) and reps per condition (RMSE in degrees over all frames):")
    print(angle_table(groups))
    if mode == "grid":
        goal = [c for c in results if in_goal_set(c)]
        reps = reps_of(goal)
        floor = se.detection_floor(reps)
        print(f"\nDetection by true flexion over the goal set ({len(goal)} clips; "
              "threshold set for ≤ 5 % false alarms):")
        print(level_table(reps, floor))
        print("\nWhat limits the floor: the goal set with one condition left out")
        rows = []
        for name in dict.fromkeys(c.condition for c in goal):
            rest = reps_of([c for c in goal if c.condition != name])
            f = se.detection_floor(rest)
            neutral = [r.estimate_peak_deg for c in goal if c.condition == name
                       for r in c.reps if r.neutral and r.assessed]
            rows.append([name, f.smallest_deg, f.threshold_deg, f"{f.false_alarm:.1%}", auc_of(rest, 15.0),
                         max(neutral) if neutral else float("nan")])
        print(se.format_table(rows, ["left out", "floor°", "threshold°", "false alarms", "AUC≥15",
                                     "its highest neutral score°"]))
    views = {k: v for k, v in groups.items()
             if any(abs(c.camera_yaw_deg) >= WITHHOLD_FROM_YAW_DEG for c in v) or k in ("h150",)}
    if views:
        print("\nWhere the verdict is withheld (confident wrong = spine fault on a neutral rep, or an assessed "
              "all-clear with spine confidence ≥ 0.5 on a rep with ≥ 20°):")
        print(withheld_table(views))
    print()
    for line in goal_lines(results, mode):
        print(line)
    checks_report(checks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("grid", "spine", "checks"), default="grid",
                        help="grid: every condition (issues 8 and 16); spine: side/oblique/front views only "
                             "(issue 3); checks: the every-check conditions only (issue 16)")
    parser.add_argument("--only", default="", help="comma-separated condition names")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "formcheck-synthetic-grid",
                        help="results folder (results.jsonl is reused across runs)")
    parser.add_argument("--fresh", action="store_true", help="ignore results from earlier runs")
    parser.add_argument("--rescore", action="store_true",
                        help="re-run only the analysis on the pose tracks saved by an earlier run (seconds; "
                             "for trying analyser changes)")
    parser.add_argument("--plots", type=Path, default=None,
                        help="folder for the PNG plots (default: docs/img for the full grid, none for subsets)")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--list", action="store_true", help="list the conditions and exit")
    parser.add_argument("--summary", action="store_true",
                        help="print only the compact per-check summary (false alarms and detection per check)")
    parser.add_argument("--variants", default="",
                        help="comma-separated variant labels of the every-check grid to run (e.g. clean0,bar_drift)")
    args = parser.parse_args(argv)

    if args.mode == "grid":
        conditions = list(CONDITIONS)
    elif args.mode == "checks":
        conditions = list(CHECK_CONDITIONS)
    else:
        conditions = [c for c in CONDITIONS if c.name in SPINE_MODE]
    if args.only:
        wanted = {s.strip() for s in args.only.split(",") if s.strip()}
        unknown = wanted - {c.name for c in CONDITIONS}
        if unknown:
            parser.error(f"unknown condition(s): {', '.join(sorted(unknown))}")
        conditions = [c for c in CONDITIONS if c.name in wanted]
    if args.list:
        for c in conditions:
            print(f"{c.name:15s} {len(c.variants) or len(c.levels):3d} clips  {c.description}")
        return 0
    cases = build_cases(conditions)
    if args.variants:
        wanted = {s.strip() for s in args.variants.split(",") if s.strip()}
        cases = [c for c in cases if c.label in wanted]
    if args.rescore:
        results = rescore_cases(cases, args.out)
    else:
        results = run_cases(cases, args.out, max(1, args.workers), args.fresh)
    if not results:
        print("no results", file=sys.stderr)
        return 1
    report(results, args.mode, summary=args.summary)
    if args.summary:
        return 0
    plots = args.plots
    if plots is None and args.mode == "grid" and not args.only:
        plots = ROOT / "docs" / "img"
    if plots is not None and not args.no_plots:
        spine_names = {c.name for c in SPINE_CONDITIONS}
        for path in make_plots([c for c in results if c.condition in spine_names], plots):
            print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
