"""Rendered filming set-ups (issue 16): camera pitch, close framing, a second person, letting go of the bar,
and the per-check truth the synthetic grid scores every check against."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from formcheck.analysis.offline import analyze_track
from formcheck.apps import synth_checks as sc
from formcheck.apps.synth_eval import ClipEval, RepEval, evaluate
from formcheck.pose import landmarks as lm
from formcheck.synth import SynthSpec, SynthTruth, make_track, make_truth
from formcheck.synth import body as bm
from formcheck.synth.framing import framed, in_frame_share, pitch_to_centre
from formcheck.synth.measures import BEHIND_PLATE, OUT_OF_FRAME, inside_convex
from formcheck.synth.render import Renderer, silhouette_masks
from formcheck.synth.timeline import PHASE_CODE
from formcheck.synth.truth import build_truth
from formcheck.pose.track import TRUNK_STATIONS

ROOT = Path(__file__).resolve().parents[1]
#: A short clip: one rep after half a second of standing.
SHORT = {"reps": 1, "setup_s": 0.5}
#: A phone on the floor, portrait.
FLOOR = {"camera_height_m": 0.3, "camera_distance_m": 3.0, "image_size": (360, 640)}


def _truth(spec: SynthSpec) -> SynthTruth:
    """Truth without the silhouette's trunk edges (fast: nothing is drawn)."""
    motion, camera = spec.motion(), spec.camera()
    edges = np.full((len(motion), TRUNK_STATIONS, 2, 2), np.nan, np.float32)
    return build_truth(motion, camera, edges, meta={"spec": spec.to_dict()}, bystander=spec.bystander_body(motion))


def _mask_rows(mask: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero(mask.max(axis=1) > 0.5)
    return int(rows[0]), int(rows[-1])


# ---------------------------------------------------------------- camera pitch and framing
def test_a_phone_on_the_floor_loses_the_trunk_unless_pitched_up():
    level = SynthSpec("deadlift", **SHORT, **FLOOR)
    aimed = framed(level, 0.7)
    assert -20.0 <= aimed.camera_pitch_deg <= -5.0  # aimed up, as people do
    assert aimed.camera_pitch_deg == pytest.approx(pitch_to_centre(0.3, 3.0, 0.875), abs=0.05)
    level_truth, aimed_truth = _truth(level), _truth(aimed)
    top = [lm.RIGHT_SHOULDER, lm.NOSE]  # the near shoulder (the camera is on the lifter's right) and the head
    # Level: they are above the frame whenever the lifter stands.
    standing = level_truth.trunk_inclination_deg < 10
    assert np.all(level_truth.landmarks_xy[standing][:, top, 1] < 0)
    assert in_frame_share(level_truth.landmarks_xy[standing], level.image_size) == 0.0
    # Aimed up: every landmark in every frame inside the image, and so is the rendered outline.
    assert in_frame_share(aimed_truth.landmarks_xy, aimed.image_size) == 1.0
    assert not (aimed_truth.landmark_hidden == OUT_OF_FRAME).any()
    masks = silhouette_masks(aimed.motion(), aimed.camera())
    first = next(masks)
    top_row, bottom_row = _mask_rows(first)
    assert top_row > 0 and bottom_row < aimed.image_size[1] - 1
    level_top, _ = _mask_rows(next(silhouette_masks(level.motion(), level.camera())))
    assert level_top == 0  # the level camera cuts the head off


def test_close_framing_fills_the_stated_share_of_the_frame():
    for fill in (0.8, 0.9, 0.95):
        spec = framed(SynthSpec("squat", **SHORT, camera_distance_m=2.5), fill)
        truth = _truth(spec)
        assert truth.person_height_px / spec.image_size[1] == pytest.approx(fill, abs=0.005)
        top_row, bottom_row = _mask_rows(next(silhouette_masks(spec.motion(), spec.camera())))
        # The outline spans the same share (the soles sit on the floor, the hair tops the head).
        assert (bottom_row - top_row + 1) / spec.image_size[1] == pytest.approx(fill, abs=0.03)


def test_framing_rejects_a_share_outside_the_frame():
    with pytest.raises(ValueError, match="fill"):
        framed(SynthSpec("squat", **SHORT), 3.0)
    with pytest.raises(ValueError, match="pitch"):
        SynthSpec("squat", camera_pitch_deg=60.0)


# ---------------------------------------------------------------- a second person
def _frames(spec: SynthSpec, indices) -> dict[int, object]:
    motion = spec.motion()
    renderer = Renderer(spec.camera(), spec.style(), bystander=spec.bystander_body(motion))
    wanted, out = set(indices), {}
    for f in renderer.frames(motion):
        if f.index in wanted:
            out[f.index] = f
        if len(out) == len(wanted):
            break
    return out


def test_a_second_person_walking_behind_is_rendered_and_labelled_in_the_truth():
    look = {"image_size": (320, 240), "focal_px": 400.0, "supersample": 1, "noise": 0.0, "seed": 4}
    alone = SynthSpec("squat", **SHORT, **look)
    walker = dataclasses.replace(alone, bystander="walk_behind")
    truth = _truth(walker)
    assert _truth(alone).bystander_xy is None
    other = truth.bystander_xy
    assert other.shape == (len(truth), 33, 2)
    # It walks: in view for part of the clip, from one side of the lifter to the other.
    hips = other[:, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=1)
    seen = (hips[:, 0] > 0) & (hips[:, 0] < 319)
    assert 0.1 < seen.mean() < 0.9
    assert np.ptp(hips[seen, 0]) > 100 and np.all(np.diff(hips[seen, 0]) > 0)  # walking across, one way
    # Behind the lifter: smaller (further from the camera).
    def height(xy):
        return np.nanmax(xy[..., 1], axis=-1) - np.nanmin(xy[..., 1], axis=-1)
    assert np.median(height(other[seen])) < 0.85 * np.median(height(truth.landmarks_xy[seen]))
    # Rendered where the truth puts it, and left out of the lifter's silhouette mask.
    k = int(np.flatnonzero(seen & (np.abs(hips[:, 0] - truth.landmarks_xy[:, lm.LEFT_HIP, 0]) > 80))[0])
    with_person, without = _frames(walker, [k])[k], _frames(alone, [k])[k]
    np.testing.assert_array_equal(with_person.mask, without.mask)
    changed = np.abs(with_person.image.astype(int) - without.image.astype(int)).sum(axis=2) > 30
    x, y = np.round(hips[k]).astype(int)
    assert changed[max(0, y - 10): y + 10, max(0, x - 10): x + 10].mean() > 0.5
    lifter = np.round(truth.landmarks_xy[k, lm.LEFT_HIP]).astype(int)
    assert changed[lifter[1] - 3: lifter[1] + 3, lifter[0] - 3: lifter[0] + 3].mean() == 0.0


def test_a_coach_stands_beside_without_hiding_the_lifter():
    spec = SynthSpec("squat", **SHORT, bystander="stand_beside", supersample=1)
    truth = _truth(spec)
    coach_x = truth.bystander_xy[..., 0]
    lifter_x = truth.landmarks_xy[..., 0]
    assert np.all(np.nanmin(coach_x, axis=1) > np.nanmax(lifter_x, axis=1))  # never in front of the lifter
    assert in_frame_share(truth.bystander_xy, spec.image_size) == 1.0
    assert np.ptp(coach_x[:, lm.NOSE]) < 5  # standing still


# ---------------------------------------------------------------- letting go of the bar
def test_letting_go_and_standing_up_is_not_a_rep():
    up = SynthSpec("deadlift", reps=2, setup_s=0.5, seed=3)
    down = dataclasses.replace(up, finish="stay_down")
    up_motion, down_motion = up.motion(), down.motion()
    assert len(up_motion.reps) == len(down_motion.reps) == 2
    assert _truth(up).rep_count == _truth(down).rep_count == 2
    after = up_motion.time_s > up_motion.reps[-1].end_s + 1e-9
    # Standing up: hands off the bar, hips rising to standing, outside every rep (set-up phase).
    assert not up_motion.implement_attached[after][-1]
    assert up_motion.pose.arrays()["hip_flexion"][-1] < 10.0
    assert up_motion.pose.arrays()["hip_flexion"][after][0] > 80.0
    assert set(np.unique(up_motion.phase[after])) <= {PHASE_CODE["setup"], PHASE_CODE["bottom"]}
    # Staying down: still set at the bar, holding it.
    down_after = down_motion.time_s > down_motion.reps[-1].end_s + 1e-9
    assert down_motion.implement_attached[down_after].all()
    assert down_motion.pose.arrays()["hip_flexion"][down_after].min() > 80.0


def test_the_reset_between_deadlift_reps_is_smooth():
    motion = SynthSpec("deadlift", reps=3, seed=3).motion()
    trunk = bm.trunk_inclination_deg(motion.skeleton())
    knee = motion.pose.arrays()["knee_flexion"]
    for rep in motion.reps[1:]:
        k = int(round(rep.start_s * motion.fps))
        window = slice(k - 3, k + 3)
        assert np.abs(np.diff(trunk[window])).max() < 1.0  # no jump into the next rep's start pose
        assert np.abs(np.diff(knee[window])).max() < 2.0


# ---------------------------------------------------------------- truth of what the checks measure
def _measures(**kwargs):
    return _truth(SynthSpec(**{**SHORT, "setup_s": 0.8, **kwargs})).rep_measures[0]


def test_truth_gives_the_thigh_angle_heel_rise_and_lockout_lean():
    above, parallel, below = (_measures(exercise="squat", depth=d)["thigh_above_parallel_deg"]
                              for d in (0.77, 1.0, 1.23))
    assert above == pytest.approx(15.0, abs=1.5) and parallel == pytest.approx(0.0, abs=1.5)
    assert below == pytest.approx(-15.0, abs=1.5)
    assert _measures(exercise="squat")["heel_rise_cm"] == pytest.approx(0.0, abs=0.05)
    rising = _measures(exercise="squat", depth=1.2, faults={"heel_rise": 20.0})
    assert 6.0 < rising["heel_rise_cm"] < 8.0 and abs(rising["thigh_above_parallel_deg"]) < 3.0
    fine = _measures(exercise="deadlift", faults={"lockout_hyperextension": 7.0})
    fault = _measures(exercise="deadlift", faults={"lockout_hyperextension": 25.0})
    assert 1.0 < fine["lockout_lean_back_deg"] < 5.0  # a few degrees behind vertical: fine
    assert fault["lockout_lean_back_deg"] > 15.0
    assert _measures(exercise="deadlift", faults={"bar_drift": 15.0})["bar_forward_cm"] == pytest.approx(15.0, abs=0.5)
    upright = _measures(exercise="deadlift", faults={"squatted_start": 35.0})
    assert upright["start_trunk_deg"] < _measures(exercise="deadlift")["start_trunk_deg"] - 20.0
    hips_first = _measures(exercise="deadlift", faults={"hips_rise_early": 1.0})
    assert hips_first["early_trunk_rise_deg"] > 15.0 and _measures(exercise="deadlift")["early_trunk_rise_deg"] < 1.0


def test_the_near_plate_hides_the_hips_at_lockout_and_the_knees_only_from_the_floor():
    side = _truth(SynthSpec("deadlift", **SHORT))
    floor = _truth(framed(SynthSpec("deadlift", **SHORT, **FLOOR), 0.7))
    bare = _truth(SynthSpec("deadlift", **SHORT, implement="bar"))
    assert side.rep_measures[0]["hip_hidden_at_top"] > 0.9 and side.rep_measures[0]["knee_hidden_at_start"] == 0.0
    assert floor.rep_measures[0]["knee_hidden_at_start"] > 0.9
    assert not (bare.landmark_hidden == BEHIND_PLATE).any()
    # Hidden means inside the outline and behind the plate: the near-side wrist holds the bar, in front of it.
    lock = int(round(side.rep_lockout_s[0] * side.fps))
    assert side.landmark_hidden[lock, lm.RIGHT_HIP] == BEHIND_PLATE
    assert side.landmark_hidden[lock, lm.NOSE] == 0


def test_point_in_convex_polygon_either_orientation():
    square = np.array([[0, 0], [0, 2], [2, 2], [2, 0]], float)  # clockwise in image coordinates
    assert inside_convex(square, np.array([[1, 1], [3, 1], [1, -0.1]])).tolist() == [True, False, False]


def test_truth_files_carry_the_check_truth_and_old_files_still_load(tmp_path):
    spec = SynthSpec("squat", **SHORT, bystander="walk_behind")
    truth = _truth(spec)
    truth.save(tmp_path / "clip.mp4")
    again = SynthTruth.load(tmp_path / "clip.mp4")
    assert again.rep_measures[0]["thigh_above_parallel_deg"] == pytest.approx(
        truth.rep_measures[0]["thigh_above_parallel_deg"])
    np.testing.assert_array_equal(again.landmark_hidden, truth.landmark_hidden)
    np.testing.assert_allclose(again.bystander_xy, truth.bystander_xy)
    summary = truth.summary()
    assert "thigh_above_parallel_deg" in summary["reps"][0]["check_truth"]
    # A truth file from before these fields: loads with them empty.
    old = dataclasses.replace(truth, landmark_hidden=None, bystander_xy=None, rep_measures=())
    old.save(tmp_path / "old.mp4")
    loaded = SynthTruth.load(tmp_path / "old.mp4")
    assert loaded.rep_measures == () and loaded.landmark_hidden is None and loaded.bystander_xy is None


# ---------------------------------------------------------------- scoring every check (no pose model)
#: Small frames: the synthetic track's trunk edges come from a drawn silhouette.
SMALL = {"image_size": (320, 240), "focal_px": 400.0, "setup_s": 0.5}


def _score(track, spec: SynthSpec) -> ClipEval:
    return evaluate(analyze_track(track), make_truth(spec), name="clip", condition="test",
                    probe=sc.probe_report(track))


@pytest.fixture(scope="module")
def squats():
    """A squat set 15° above parallel (a fault) and one 10° below (clean), scored from synthetic tracks;
    and the shallow set's track."""
    specs = SynthSpec("squat", reps=2, depth=0.77, seed=2, **SMALL), SynthSpec("squat", reps=2, depth=1.15, seed=3, **SMALL)
    tracks = [make_track(spec) for spec in specs]
    return _score(tracks[0], specs[0]), _score(tracks[1], specs[1]), tracks[0]


def test_the_probe_reads_the_values_the_report_grades(squats):
    track = squats[2]
    report, probe = analyze_track(track), sc.probe_report(track)
    assert [r.start_frame for r in report.reps] == [r.start_frame for r in probe.reps]
    fired = [(i, f) for i, r in enumerate(report.reps) for f in r.faults]
    assert fired, "a squat 15° above parallel raised nothing"
    for i, f in fired:
        probed = {p.code: p.value for p in probe.reps[i].faults}
        assert probed[f.code] == pytest.approx(f.value)
    # Every check that judged the rep has a value in the probe; forward lean waits for depth.
    assert "above parallel" in report.reps[0].not_assessed["excessive_forward_lean"]
    assert {"shallow_depth", "heel_rise", "tempo"} <= {f.code for f in probe.reps[0].faults}


def test_shallow_squats_are_scored_as_detections_and_deep_ones_as_clean_reps(squats):
    shallow, deep, _ = squats
    for rep in shallow.reps:
        assert "shallow_depth" in rep.truth_faults
        v = rep.checks["shallow_depth"]
        assert v["value"] == pytest.approx(rep.truth_measures["thigh_above_parallel_deg"], abs=5.0)
    stats = sc.check_stats([shallow, deep])
    depth = stats[("squat", "shallow_depth")]
    # A clean rep counts as clean whether judged or withheld (its hips hidden at the bottom, say).
    assert depth.positives == 2 and depth.clean + depth.clean_withheld == 2
    assert depth.found == sum(r.checks["shallow_depth"]["severity"] in sc.ALARMS for r in shallow.reps)
    assert depth.caution + depth.fault == sum(r.checks["shallow_depth"]["severity"] in sc.ALARMS for r in deep.reps)
    assert len(depth.value_errors) == 4 - depth.clean_withheld - depth.positives_withheld
    assert stats[("squat", "knee_valgus")].clean_withheld == 2  # front-view check, withheld in a side view
    assert "front" in stats[("squat", "knee_valgus")].main_reason()


def _rep(faults=(), checks=None, index=1) -> RepEval:
    return RepEval(truth_index=0, report_index=index, truth_peak_deg=0.0, estimate_peak_deg=0.0, severity="",
                   fault_confidence=float("nan"), spine_confidence=1.0, truth_lean_deg=60.0,
                   truth_faults=tuple(faults), checks=checks or {})


def test_check_stats_counts_false_alarms_detection_and_alarms_on_reps_that_are_not_reps(squats):
    verdict = {"severity": "", "value": 1.0, "withheld": ""}
    reps = (
        _rep(checks={"bar_drift": {**verdict, "severity": "caution"}}),
        _rep(checks={"bar_drift": {**verdict, "severity": "fault"}}),
        _rep(checks={"bar_drift": verdict}),
        _rep(checks={"bar_drift": {**verdict, "withheld": "needs a side view"}}),
        _rep(faults=("bar_drift",), checks={"bar_drift": {**verdict, "severity": "caution"}}),
        _rep(faults=("bar_drift",), checks={}, index=0),  # not counted: a miss
        _rep(faults=("lockout_hyperextension",), checks={"bar_drift": verdict}),  # other fault: not clean
    )
    clip = dataclasses.replace(squats[0], exercise="deadlift", reps=reps, spec={"faults": {"bar_drift": 15.0}},
                               extra_reps=({"bar_drift": "caution"}, {}))
    st = sc.check_stats([clip])[("deadlift", "bar_drift")]
    assert (st.clean, st.clean_withheld, st.caution, st.fault) == (3, 1, 1, 1)
    assert (st.positives, st.found, st.found_fault) == (2, 1, 0)
    assert (st.phantom, st.phantom_alarms) == (2, 1)
    assert st.sizes == ["bar_drift=15"]
    assert st.main_reason() == "needs a side view"
    assert sc.check_for_fault("kettlebell_swing", "lockout_hyperextension") == "lumbar_hyperextension"


def test_bar_metrics_are_compared_where_both_sides_carry_them(squats):
    assert squats[0].bar == {}  # neither side has bar metrics yet
    report = analyze_track(make_track(SynthSpec("deadlift", reps=1, **SMALL)))
    rep = dataclasses.replace(report.reps[0], metrics={**report.reps[0].metrics, "mean_concentric_velocity_m_s": 0.5})
    report = dataclasses.replace(report, reps=(rep,) + report.reps[1:])
    assert sc.bar_pairs(report, [{"mean_concentric_velocity_m_s": 0.45}], {0: 0}) == {
        "mean_concentric_velocity_m_s": [[0.5, 0.45]]}
    assert sc.bar_pairs(report, [{"mean_concentric_velocity_m_s": None}], {0: 0}) == {}


# ---------------------------------------------------------------- the grid script
def _grid():
    spec = importlib.util.spec_from_file_location("synthetic_grid", ROOT / "benchmarks" / "synthetic_grid.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["synthetic_grid"] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop("synthetic_grid", None)
    return module


def test_grid_rescore_prints_the_per_check_tables_and_a_summary(tmp_path, capsys):
    grid = _grid()
    cases = [c for c in grid.build_cases(grid.CHECK_CONDITIONS) if c.condition == "sq_side"]
    assert len({c.name for c in grid.build_cases(grid.CONDITIONS)}) == len(grid.build_cases(grid.CONDITIONS))
    tracks = tmp_path / "tracks"
    tracks.mkdir()
    for case in [c for c in cases if c.label in ("clean0", "shallow_depth")]:
        spec = SynthSpec(**{**case.spec_kwargs, "reps": 1, "image_size": (320, 240), "focal_px": 400.0})
        make_track(spec).save(tracks / f"{case.name}.npz")  # stands in for the pose model's track
        make_truth(spec).save(tracks / f"{case.name}.mp4")
    assert grid.main(["--mode", "checks", "--only", "sq_side", "--rescore", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "re-scored 2 of" in out
    assert "Every check: false alarms" in out and "squat     shallow_depth" in out and "Every check: detection" in out
    assert "Alarms by rendered variant" in out
    assert grid.main(["--mode", "checks", "--only", "sq_side", "--rescore", "--summary", "--out", str(tmp_path)]) == 0
    summary = capsys.readouterr().out
    assert "squat:shallow_depth" in summary and "Every check: false alarms" not in summary
