"""The fault catalogue: every fault fires on a synthetic lifter that shows it and
stays quiet on the same lifter without it; auto-detection, the one cue per rep,
the set summary and the camera advice; labelled real clips (skipped without
../shared).

Synthetic lifters come from :func:`formcheck.synth.make_track` (no rendering):
the *twin* of a faulty spec is the same spec with the fault's severity 0.
Faults the synthetic body has no knob for (knees caving in, hips shifting
sideways, a soft lockout, a dropped lowering) are put into the same synthetic
tracks by moving the landmarks or the joint angles, or by dropping frames, as
the pose model would see them. The squat's ``lumbar_hyperextension`` needs the
segmentation mask: it is tested on rendered lifters in
``test_squat_spine_rendered.py``. docs/faults.md lists every code with its tests.
"""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from conftest import CLIPS, needs_shared
from formcheck.pose import landmarks as lm
from formcheck.analysis.offline import AnalysisOptions, analyze_track, set_summary
from formcheck.exercises import EXERCISES, get_exercise
from formcheck.faults.catalogue import CATALOGUE, TIERS, cue_sort_key
from formcheck.analysis.report import RepResult
from formcheck.faults.core import Fault
from formcheck.synth import SynthSpec, make_track
from formcheck.synth.timeline import PHASE_CODE
from formcheck.synth.tracks import TrackNoise, synthetic_track

#: Per exercise, spec settings shared by a faulty lifter and its twin.
BASE = {
    "squat": dict(depth=1.15),  # clearly below parallel: the clean twin is not shallow
    "deadlift": {},
    "rdl": {},
    "good_morning": dict(implement="none"),  # the bar on the back hides the back's outline
    "kettlebell_swing": {},
}

#: (exercise, synth fault knob, severity, fault code expected).
SYNTH_FAULTS = [
    ("squat", "shallow_depth", 0.6, "shallow_depth"),
    ("squat", "butt_wink", 40.0, "butt_wink"),
    ("squat", "excessive_forward_lean", 30.0, "excessive_forward_lean"),
    ("squat", "heel_rise", 25.0, "heel_rise"),
    ("deadlift", "lumbar_flexion", 45.0, "lumbar_flexion"),
    ("deadlift", "hips_rise_early", 1.0, "hips_rise_early"),
    ("deadlift", "squatted_start", 30.0, "squatted_start"),
    ("deadlift", "bar_drift", 15.0, "bar_drift"),
    ("deadlift", "lockout_hyperextension", 20.0, "lockout_hyperextension"),
    ("rdl", "lumbar_flexion", 45.0, "lumbar_flexion"),
    ("rdl", "knees_too_bent", 30.0, "knees_too_bent"),
    ("rdl", "insufficient_hinge", 0.6, "insufficient_hinge"),
    ("good_morning", "lumbar_flexion", 45.0, "lumbar_flexion"),
    ("good_morning", "knees_too_bent", 30.0, "knees_too_bent"),
    ("good_morning", "insufficient_hinge", 0.6, "insufficient_hinge"),
    ("kettlebell_swing", "lumbar_flexion", 45.0, "lumbar_flexion"),
    ("kettlebell_swing", "lockout_hyperextension", 20.0, "lumbar_hyperextension"),  # leaning back at the top
    ("kettlebell_swing", "squatting_the_swing", 0.6, "squatting_the_swing"),
]


def analyse(spec: SynthSpec, exercise: str | None = None, view: str | None = None, track=None):
    track = make_track(spec) if track is None else track
    return analyze_track(track, AnalysisOptions(exercise=exercise or spec.exercise, view=view))


def flagged_reps(report, code: str, reps: int) -> list[int]:
    """Reps (of the first ``reps``, the ones the synthetic set really has) with ``code``."""
    return sorted({f.rep for f in report.faults if f.code == code and f.rep <= reps})


@pytest.fixture(scope="module")
def twins():
    """The clean lifter of every exercise, analysed once (auto-detected and forced)."""
    out = {}
    for name, base in BASE.items():
        spec = SynthSpec(name, **base)
        track = make_track(spec)
        out[name] = (spec, analyze_track(track), analyse(spec, track=track))
    return out


# ---------------------------------------------------------------- synthetic fire / clean twin
@pytest.mark.parametrize("exercise, knob, severity, code", SYNTH_FAULTS, ids=[f"{e}-{k}" for e, k, _, _ in SYNTH_FAULTS])
def test_fault_fires_and_its_clean_twin_does_not(exercise, knob, severity, code, twins):
    spec, _, clean = twins[exercise]
    faulty = analyse(dataclasses.replace(spec, faults={knob: severity}))
    assert code not in faulty.not_assessable, faulty.not_assessable
    hit = flagged_reps(faulty, code, spec.reps)
    assert len(hit) >= spec.reps - 1, (code, [(f.rep, f.code, round(f.value, 1)) for f in faulty.faults])
    assert flagged_reps(clean, code, spec.reps) == [], [(f.rep, f.code, round(f.value, 1)) for f in clean.faults]
    fault = next(f for f in faulty.faults if f.code == code)
    assert fault.severity in ("caution", "fault") and 0.0 < fault.confidence <= 1.0
    assert fault.start_frame < fault.end_frame and fault.start_s <= fault.end_s
    assert np.isfinite(fault.value) and np.isfinite(fault.threshold) and fault.cue and fault.message


def test_clean_twins_have_no_faults(twins):
    for name, (spec, _, clean) in twins.items():
        assert clean.rep_count >= spec.reps, (name, clean.rep_count)
        faults = [(f.rep, f.code) for f in clean.faults if f.rep <= spec.reps]
        assert faults == [], (name, faults)


def test_tempo_fires_on_a_rushed_descent(twins):
    spec, _, clean = twins["squat"]
    rushed = analyse(dataclasses.replace(spec, tempo=0.25))
    assert len(flagged_reps(rushed, "tempo", spec.reps)) == spec.reps
    assert flagged_reps(clean, "tempo", spec.reps) == []
    for rep in rushed.reps:
        assert rep.metrics["descent_s"] < 0.3 < clean.reps[0].metrics["descent_s"]
        assert np.isfinite(rep.metrics["ascent_s"])


def _rushed_track(spec: SynthSpec, phase: str = "descent", speed_up: int = 4):
    """The synthetic set with every ``phase`` segment played ``speed_up`` times
    faster (frames dropped, the clock kept even): a lowering that drops."""
    motion = spec.motion()
    index = np.arange(len(motion.phase))
    keep = (motion.phase != PHASE_CODE[phase]) | (index % speed_up == 0)
    track = make_track(spec)[keep]
    return dataclasses.replace(track, time_s=np.arange(int(keep.sum())) / spec.fps)


@pytest.mark.parametrize("exercise", ["deadlift", "rdl", "good_morning"])
def test_tempo_fires_on_a_dropped_lowering_of_the_hinges(exercise, twins):
    spec, _, clean = twins[exercise]
    rushed = analyse(spec, track=_rushed_track(spec))
    hit = flagged_reps(rushed, "tempo", spec.reps)
    assert len(hit) >= spec.reps - 1, [(f.rep, f.code, round(f.value, 2)) for f in rushed.faults]
    assert flagged_reps(clean, "tempo", spec.reps) == []
    limit = EXERCISES[exercise].thresholds["tempo"].caution
    for index in hit:
        assert rushed.reps[index - 1].metrics["descent_s"] <= limit < clean.reps[index - 1].metrics["descent_s"]


def test_every_exercise_times_its_reps(twins):
    """``tempo`` per rep for all: the swing has no tempo fault (a swing is fast by
    design) but, like every exercise, times the way down and up of each rep."""
    for name, (spec, _, clean) in twins.items():
        assert clean.reps, name
        for rep in clean.reps[: spec.reps]:
            assert 0.1 < rep.metrics["descent_s"] < 3.0 and 0.1 < rep.metrics["ascent_s"] < 3.0, (name, rep.metrics)


def _front_squat_track(spec: SynthSpec, knee_in: float = 0.0, hip_shift: float = 0.0):
    """A synthetic squat filmed from the front, with the knees moved in and the
    hips moved sideways in proportion to squat depth (fractions of the leg
    length and of the stance width)."""
    track = make_track(dataclasses.replace(spec, camera_yaw_deg=89.0))
    xy = track.xy.astype(np.float64).copy()
    hip_y = xy[:, [lm.LEFT_HIP, lm.RIGHT_HIP], 1].mean(axis=1)
    depth = np.clip((hip_y - np.nanmin(hip_y)) / (np.nanmax(hip_y) - np.nanmin(hip_y)), 0.0, 1.0)
    leg = np.nanpercentile(np.linalg.norm(xy[:, lm.LEFT_HIP] - xy[:, lm.LEFT_ANKLE], axis=-1), 90)
    stance = np.nanmedian(np.abs(xy[:, lm.LEFT_ANKLE, 0] - xy[:, lm.RIGHT_ANKLE, 0]))
    for knee, other in ((lm.LEFT_KNEE, lm.RIGHT_KNEE), (lm.RIGHT_KNEE, lm.LEFT_KNEE)):
        inward = np.sign(xy[:, other, 0] - xy[:, knee, 0])
        xy[:, knee, 0] += inward * knee_in * leg * depth
    upper = [lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER, lm.NOSE, lm.LEFT_EAR, lm.RIGHT_EAR]
    xy[:, upper, 0] += (hip_shift * stance * depth)[:, None]
    xy[:, [lm.LEFT_KNEE, lm.RIGHT_KNEE], 0] += (0.5 * hip_shift * stance * depth)[:, None]
    return dataclasses.replace(track, xy=xy.astype(np.float32))


@pytest.mark.parametrize("code, change", [("knee_valgus", dict(knee_in=0.12)), ("lateral_shift", dict(hip_shift=0.35))])
def test_front_view_faults_fire_relative_to_standing(code, change):
    spec = SynthSpec("squat", **BASE["squat"])
    clean = analyse(spec, view="front", track=_front_squat_track(spec))
    faulty = analyse(spec, view="front", track=_front_squat_track(spec, **change))
    assert clean.view == "front" and code not in faulty.not_assessable
    assert len(flagged_reps(faulty, code, spec.reps)) == spec.reps, [(f.code, round(f.value, 1)) for f in faulty.faults]
    assert flagged_reps(clean, code, spec.reps) == [], [(f.code, round(f.value, 1)) for f in clean.faults]
    # Relative to the lifter's own standing: a lifter who stands knock-kneed (or
    # off-centre) all the time does not collapse during the rep.
    always = _front_squat_track(spec)
    xy = always.xy.copy()
    if code == "knee_valgus":
        for knee, other in ((lm.LEFT_KNEE, lm.RIGHT_KNEE), (lm.RIGHT_KNEE, lm.LEFT_KNEE)):
            xy[:, knee, 0] += 0.3 * (xy[:, other, 0] - xy[:, knee, 0])
    else:
        xy[:, [lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER], 0] += 25.0
    steady = analyse(spec, view="front", track=dataclasses.replace(always, xy=xy))
    assert flagged_reps(steady, code, spec.reps) == []


def test_front_view_faults_are_withheld_from_the_side(twins):
    _, _, clean = twins["squat"]
    for code in ("knee_valgus", "lateral_shift"):
        assert "front" in clean.not_assessable[code]
    assert "camera_view" in clean.advice and "front" in clean.advice["camera_view"]


def _soft_lockout_track(spec: SynthSpec):
    """The synthetic deadlift with the hips and knees left bent at the top."""
    motion = spec.motion()
    p = motion.pose.arrays()
    near_top = np.clip(1.0 - np.abs(p["pelvis_tilt"]) / 40.0, 0.0, 1.0) * (motion.phase != PHASE_CODE["setup"])
    near_top = np.convolve(near_top, np.ones(9) / 9, mode="same")  # smooth: no jumps at phase edges
    pose = motion.pose.replace(
        pelvis_tilt=p["pelvis_tilt"] + 15 * near_top,
        knee_flexion=p["knee_flexion"] + 20 * near_top,
        hip_flexion=p["hip_flexion"] + 27 * near_top,
    )
    return synthetic_track(dataclasses.replace(motion, pose=pose), spec.camera(), TrackNoise(), rng=spec.seed)


def test_soft_lockout_fires_when_the_top_stays_bent(twins):
    spec, _, clean = twins["deadlift"]
    soft = analyse(spec, track=_soft_lockout_track(spec))
    assert len(flagged_reps(soft, "soft_lockout", spec.reps)) == spec.reps
    assert flagged_reps(clean, "soft_lockout", spec.reps) == []


def test_knees_forward_is_information_never_a_fault(twins):
    spec, _, clean = twins["squat"]
    deep = analyse(dataclasses.replace(spec, depth=1.3))
    info = [i for rep in deep.reps for i in rep.info]
    assert {i.code for i in info} == {"knees_forward"} and all(i.severity == "info" for i in info)
    assert "knees_forward" not in {f.code for f in deep.faults} and "knees_forward" not in deep.to_dict()["fault_counts"]
    assert all(rep.cue is None for rep in deep.reps)  # information never becomes the cue
    assert not any(rep.info for rep in clean.reps)


# ---------------------------------------------------------------- auto-detection
def test_each_exercise_is_recognised(twins):
    for name, (spec, auto, _) in twins.items():
        if name == "good_morning":  # bodyweight, hands on the thighs: see the barbell case below
            continue
        assert auto.exercise == name and auto.exercise_source == "auto", (name, auto.exercise)
        assert auto.rep_count >= spec.reps


@pytest.mark.parametrize("exercise, settings", [
    ("good_morning", dict(implement="bar")),
    ("deadlift", dict(camera_yaw_deg=50.0)),
    ("kettlebell_swing", dict(camera_yaw_deg=50.0)),
    ("rdl", dict(camera_yaw_deg=-40.0)),
])
def test_recognised_with_the_load_high_or_an_oblique_camera(exercise, settings):
    report = analyze_track(make_track(SynthSpec(exercise, **settings)))
    assert report.exercise == exercise and report.rep_count >= 3


def test_exercise_override_and_aliases():
    assert get_exercise("Romanian deadlift").name == "rdl"
    assert get_exercise("kb-swing").name == "kettlebell_swing"
    assert get_exercise("goblet squat").name == "squat"
    with pytest.raises(ValueError, match="unknown exercise"):
        get_exercise("bench press")


def test_walking_in_place_is_unknown():
    from conftest import stick_track

    t = np.arange(300) / 30
    report = analyze_track(stick_track(30 + 30 * np.sin(2 * np.pi * t), 10 + 15 * np.sin(2 * np.pi * t)))
    assert report.exercise == "unknown" and report.rep_count == 0


# ---------------------------------------------------------------- catalogue, cue, summary, advice
def test_every_check_is_catalogued_with_thresholds():
    for name, exercise in EXERCISES.items():
        for code in exercise.codes:
            assert code in CATALOGUE, code
            assert code in exercise.thresholds, (name, code)
            th = exercise.thresholds[code]
            assert (th.caution <= th.fault) == th.higher_is_worse or th.caution == th.fault
        for code, views in exercise.views.items():
            assert code in exercise.codes and set(views) <= {"side", "oblique", "front", "rear"}


def test_cue_priority_is_spine_then_position_then_depth_then_tempo():
    assert TIERS == ("spine", "position", "range", "tempo")
    ranked = sorted(
        [("tempo", "fault", 3), ("shallow_depth", "fault", 2), ("heel_rise", "caution", 1), ("butt_wink", "caution", 0)],
        key=lambda item: cue_sort_key(*item),
    )
    assert [code for code, _, _ in ranked] == ["butt_wink", "heel_rise", "shallow_depth", "tempo"]
    # Within a tier a fault outranks a caution.
    assert cue_sort_key("heel_rise", "fault", 5) < cue_sort_key("knee_valgus", "caution", 2)


def test_one_cue_per_rep_follows_the_priority(twins):
    spec, _, _ = twins["squat"]
    # Heels up (a position fault) on a shallow squat: the heel cue wins over depth.
    report = analyse(dataclasses.replace(spec, depth=0.8, faults={"heel_rise": 25.0}))
    assert report.rep_count == spec.reps
    for rep in report.reps:
        codes = {f.code for f in rep.faults}
        assert {"heel_rise", "shallow_depth"} <= codes, codes
        assert rep.cue == next(f.cue for f in rep.faults if f.code == "heel_rise")
    # Shallow and rushed: depth before tempo.
    report = analyse(dataclasses.replace(spec, depth=0.8, tempo=0.25))
    assert report.reps
    for rep in report.reps:
        assert {"shallow_depth", "tempo"} <= {f.code for f in rep.faults}
        assert rep.cue == next(f.cue for f in rep.faults if f.code == "shallow_depth")


def _rep(index: int, *codes: str) -> RepResult:
    faults = tuple(
        Fault(code, "fault", index, 0, 1, 0.0, 0.1, 1.0, 0.5, "deg", "cue", "message") for code in codes
    )
    return RepResult(index, 0.0, 0.5, 1.0, {}, {}, faults, "cue" if faults else None)


def test_set_summary_groups_reps_and_notices_fatigue():
    reps = [_rep(1), _rep(2, "shallow_depth"), _rep(3, "lumbar_flexion", "shallow_depth"),
            _rep(4, "lumbar_flexion", "shallow_depth"), _rep(5, "lumbar_flexion", "shallow_depth")]
    lines = set_summary(reps)
    assert lines[0] == "reps 3–5: back rounded as you got tired"  # the spine first
    assert lines[1] == "reps 2–5: squat too shallow as you got tired"
    assert set_summary([_rep(1, "tempo"), _rep(2, "tempo")]) == ["every rep: rushed the way down"]
    assert set_summary([_rep(1, "heel_rise"), _rep(2), _rep(3, "heel_rise")]) == ["rep 1: heels came up", "rep 3: heels came up"]
    assert set_summary([_rep(1), _rep(2)]) == []


def test_set_summary_on_a_synthetic_set_that_tires(twins):
    spec, _, _ = twins["squat"]
    report = analyse(dataclasses.replace(spec, reps=5, faults={"butt_wink": 40.0}, fault_reps=(2, 3, 4)))
    assert report.rep_count == 5
    assert "reps 3–5: lower back tucked under at the bottom as you got tired" in report.set_summary
    data = report.to_dict()
    assert data["set_summary"] == list(report.set_summary) and "Set: reps 3–5" in data["summary"]


def test_camera_advice_names_the_view_and_the_checks():
    # A deadlift filmed from the front: the back and the start position need a side view.
    report = analyze_track(make_track(SynthSpec("deadlift", camera_yaw_deg=89.0)), AnalysisOptions(view="front"))
    assert report.exercise == "deadlift"
    advice = report.advice["camera_view"]
    assert advice.startswith("film from the side at hip height") and "back rounded" in advice
    for code in ("lumbar_flexion", "hips_rise_early", "squatted_start", "bar_drift"):
        assert code in report.not_assessable
    assert report.to_dict()["advice"] == report.advice
    # Filmed from the side nothing about a deadlift is withheld.
    assert analyze_track(make_track(SynthSpec("deadlift"))).advice == {}


# ---------------------------------------------------------------- real labelled clips
REAL_FAULTS = [
    ("deadlift/bichraix_bad010.mp4", "squat-like start", "squatted_start"),
    ("deadlift/bichraix_bad005.mp4", "rounded", "lumbar_flexion"),
    ("deadlift/bichraix_bad011.mp4", "rounded", "lumbar_flexion"),
]


@pytest.fixture(scope="module")
def labels():
    with (CLIPS / "LABELS.csv").open(newline="") as fh:
        return {row["clip"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def real_track(tmp_path_factory):
    from formcheck.apps.evaluate import track_for

    cache = tmp_path_factory.mktemp("exercise-tracks")
    return lambda clip: track_for(CLIPS / clip, cache)


@pytest.fixture(scope="module")
def real(real_track):
    return lambda clip: analyze_track(real_track(clip))


@needs_shared
@pytest.mark.parametrize("clip, words, code", REAL_FAULTS)
def test_labelled_real_faults_fire(clip, words, code, labels, real):
    from formcheck.apps.evaluate import labelled_codes

    assert words in labels[clip]["faults_seen"]
    assert code in labelled_codes(labels[clip]["faults_seen"], "deadlift")
    report = real(clip)
    assert report.exercise == "deadlift"
    assert code in {f.code for f in report.faults if f.severity == "fault"}, report.summary()


@needs_shared
@pytest.mark.xfail(strict=True, reason="bichraix_bad006 ('extended') is not caught: from 1.2 s to 2.3 s (the whole "
                   "lockout) the plate covers the hips and the head is above the picture; the model puts hips, "
                   "shoulders and knees on the plate and the ankles above the knees (trunk reads 130-145° then "
                   "-19..+36° within 0.5 s), loses the lifter on 11 frames from 2.1 s, and the plate is followed "
                   "in none of the 107 frames, so the spine is withheld and no lean-back can be measured; "
                   "see docs/faults.md")
def test_labelled_real_lockout_hyperextension(labels, real):
    assert "hyperextension" in labels["deadlift/bichraix_bad006.mp4"]["faults_seen"]
    assert "lockout_hyperextension" in {f.code for f in real("deadlift/bichraix_bad006.mp4").faults}


@needs_shared
def test_labelled_shallow_squats_and_deep_coach_squats(labels, real_track):
    """Squat depth on real clips. The clip labelled "2 shallow squats" (in its
    notes) is filmed 45° off the side: at the bottom the thigh points toward
    the camera (seen at about half its length), where depth readings are
    perspective (the two reps read −2° and +4°, a shallow squat reading as
    parallel; rendered squats: every reading off by more than 15° had the thigh
    seen at 0.13–0.55 of its length), so depth is not judged there, with the
    reason, even at competition depth (``strict``). A coach's squats that go
    clearly below parallel (read 7–13° below) are never flagged even then."""
    from formcheck.exercises.profiles import load_profile

    strict = load_profile("strict")
    shallow, deep = "squat/home_squat_shallow_oblique.mp4", "squat/coach_pvc_front_squat.mp4"
    assert "shallow" in labels[shallow]["notes"]
    report = analyze_track(real_track(shallow), AnalysisOptions(exercise="squat", thresholds=strict))
    assert report.rep_count == int(labels[shallow]["rep_count"])
    assert flagged_reps(report, "shallow_depth", report.rep_count) == [], report.summary()
    assert all("thigh pointed toward the camera" in rep.not_assessed["shallow_depth"] for rep in report.reps)
    report = analyze_track(real_track(deep), AnalysisOptions(exercise="squat", thresholds=strict))
    assert report.rep_count == int(labels[deep]["rep_count"])
    assert flagged_reps(report, "shallow_depth", report.rep_count) == [], report.summary()
    assert all(rep.metrics["depth_thigh_angle_deg"] < 0 for rep in report.reps)  # below parallel


@needs_shared
@pytest.mark.parametrize("clip, exercise", [
    ("other/coach_kettlebell_swing_russian.mp4", "kettlebell_swing"),
    ("other/coach_pvc_good_morning.mp4", "good_morning"),
    ("deadlift/coach_kettlebell_deadlift.mp4", "deadlift"),
])
def test_real_hinges_are_recognised_and_counted(clip, exercise, labels, real):
    report = real(clip)
    assert report.exercise == exercise
    assert report.rep_count == int(labels[clip]["rep_count"])
    if exercise == "deadlift":  # a coach's kettlebell deadlift: no fault-level verdicts
        assert not [f for f in report.faults if f.severity == "fault"], report.summary()


# ---------------------------------------------------------------- formcheck eval: the per-fault table
def test_label_words_map_to_fault_codes():
    from formcheck.apps.evaluate import expected_exercise, labelled_codes

    assert labelled_codes('rounded back (caption "rounded")', "deadlift") == {"lumbar_flexion"}
    assert labelled_codes("rounded back", "squat") == {"butt_wink"}
    assert labelled_codes('hyperextension (caption "extended")', "deadlift") == {"lockout_hyperextension"}
    assert labelled_codes('squat-like start (caption "Squatting deadlift")', "deadlift") == {"squatted_start"}
    assert labelled_codes("hips rising first", "deadlift") == {"hips_rise_early"}
    assert labelled_codes('jerking the bar (caption "instead of ripping the bar")', "deadlift") == set()
    assert [expected_exercise(x) for x in ("kettlebell deadlift", "good morning", "swing", "squat", "row", "RDL")] == [
        "deadlift", "good_morning", "kettlebell_swing", "squat", "unknown", "rdl"]


def test_eval_prints_a_confusion_table_per_fault(tmp_path):
    """End to end through ``run_eval`` on synthetic tracks placed in its cache."""
    import hashlib
    import io

    from formcheck.apps.evaluate import run_eval

    cache = tmp_path / "cache"
    cache.mkdir()
    clips = {
        "squatted.mp4": (SynthSpec("deadlift", faults={"squatted_start": 30.0}), "squat-like start", "bad"),
        "clean.mp4": (SynthSpec("deadlift"), "", "good"),
        "unnamed.mp4": (SynthSpec("deadlift", faults={"bar_drift": 15.0}), "", "bad"),  # bad, fault not named
    }
    rows = ["clip,exercise,view,rep_count,faults_seen,source_label"]
    for name, (spec, seen, source) in clips.items():
        video = tmp_path / name
        video.write_bytes(name.encode() * 10)  # stands in for the video: the cache is keyed by its hash
        digest = hashlib.sha256(video.read_bytes()).hexdigest()[:20]
        make_track(spec).save(cache / f"{video.stem}-{digest}.npz")
        rows.append(f"{name},deadlift,side,4,{seen},{source}")
    labels = tmp_path / "LABELS.csv"
    labels.write_text("\n".join(rows) + "\n")
    out = io.StringIO()
    assert run_eval(labels, cache=str(cache), out=out) == 0
    table = {line.split()[0]: line.split()[1:] for line in out.getvalue().splitlines()[-20:] if line[:1].isalpha()}
    tp, fn, fp, tn = (int(v) for v in table["squatted_start"][:4])
    assert (tp, fn, fp, tn) == (1, 0, 0, 1)  # the unnamed bad clip is left out
    assert [int(v) for v in table["bar_drift"][:4]] == [0, 0, 0, 2]
    assert "per-fault confusion" in out.getvalue()
