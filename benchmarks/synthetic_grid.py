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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
    """One cell of the grid: overrides of the nominal spec, swept over flexion levels."""

    name: str
    description: str
    overrides: dict = field(default_factory=dict)
    levels: tuple = SWEEP_LEVELS
    height_px: float | None = None  # lifter height to set through the focal length


CONDITIONS = (
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
#: The spine subset (issue 3).
SPINE_MODE = ("nominal", "yaw15", "yaw30", "yaw45", "yaw60", "front")


@dataclass(frozen=True)
class Case:
    condition: str
    level: float
    replicate: int
    spec_kwargs: dict

    @property
    def name(self) -> str:
        digest = hashlib.sha1(json.dumps(self.spec_kwargs, sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.condition}-L{self.level:02.0f}-r{self.replicate}-{digest}"


def build_cases(conditions) -> list[Case]:
    cases = []
    for cond in conditions:
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
    fps = case.spec_kwargs.get("fps", 30.0)
    per_s = {"deadlift": 332 / 30.0, "squat": 226 / 30.0}[case.spec_kwargs["exercise"]]
    return int(per_s * fps)


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
def report(results: list[se.ClipEval], mode: str) -> None:
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("grid", "spine"), default="grid",
                        help="grid: every condition (issue 8); spine: side/oblique/front views only (issue 3)")
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
    args = parser.parse_args(argv)

    conditions = [c for c in CONDITIONS if args.mode == "grid" or c.name in SPINE_MODE]
    if args.only:
        wanted = {s.strip() for s in args.only.split(",") if s.strip()}
        unknown = wanted - {c.name for c in CONDITIONS}
        if unknown:
            parser.error(f"unknown condition(s): {', '.join(sorted(unknown))}")
        conditions = [c for c in CONDITIONS if c.name in wanted]
    if args.list:
        for c in conditions:
            print(f"{c.name:12s} {len(c.levels):3d} clips  {c.description}")
        return 0
    cases = build_cases(conditions)
    if args.rescore:
        results = rescore_cases(cases, args.out)
    else:
        results = run_cases(cases, args.out, max(1, args.workers), args.fresh)
    if not results:
        print("no results", file=sys.stderr)
        return 1
    report(results, args.mode)
    plots = args.plots
    if plots is None and args.mode == "grid" and not args.only:
        plots = ROOT / "docs" / "img"
    if plots is not None and not args.no_plots:
        for path in make_plots(results, plots):
            print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
