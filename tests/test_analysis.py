import json

import numpy as np
import pytest

from conftest import cycle, stick_track
from formcheck.analysis.offline import AnalysisOptions, analyze_track
from formcheck.analysis.report import SCHEMA_VERSION
from formcheck.analysis.streaming import StreamingAnalyzer


def test_squat_is_recognised_and_counted(squat_track):
    report = analyze_track(squat_track)
    assert report.exercise == "squat"
    assert report.view == "side"
    assert report.rep_count == 3
    assert [f.code for f in report.faults] == []  # deep squats: no shallow_depth
    for rep in report.reps:
        assert set(rep.phases) >= {"descent", "bottom", "ascent"}
        assert rep.metrics["depth_thigh_angle_deg"] < 0


def test_shallow_squat_is_flagged():
    knee, hip = cycle(60, 2, 5, 85), cycle(60, 2, 5, 85)  # half squats
    report = analyze_track(stick_track(knee, hip, arms_down=False), AnalysisOptions(exercise="squat"))
    assert report.rep_count == 2
    codes = {(f.rep, f.code, f.severity) for f in report.faults}
    assert codes == {(1, "shallow_depth", "fault"), (2, "shallow_depth", "fault")}
    fault = report.faults[0]
    assert fault.value > fault.threshold and fault.unit == "deg" and fault.cue


def test_deadlift_is_recognised_and_pulls_counted(deadlift_track):
    report = analyze_track(deadlift_track)
    assert report.exercise == "deadlift"
    assert report.rep_count == 2
    assert "squatted_start" not in {f.code for f in report.faults}


def test_squatted_start_and_hips_rising_first():
    # Start with knees bent 120°, and let the hips rise (trunk tips forward) at the start of each pull.
    setup = 40
    n = 60
    knee = np.concatenate([np.full(setup, 120.0), np.linspace(120, 5, n), np.linspace(5, 120, n), np.linspace(120, 5, n), np.full(20, 5.0)])
    hip = np.concatenate([np.full(setup, 120.0), np.linspace(120, 5, n), np.linspace(5, 120, n), np.linspace(120, 5, n), np.full(20, 5.0)])
    report = analyze_track(stick_track(knee, hip), AnalysisOptions(exercise="deadlift"))
    assert report.rep_count == 2
    assert {f.code for f in report.faults} >= {"squatted_start"}

    # Hips shoot up: knees straighten first while the hip angle stays, so the trunk tips forward.
    knee2 = np.concatenate([np.full(setup, 70.0), np.linspace(70, 10, 20), np.full(40, 10.0), np.full(20, 5.0)])
    hip2 = np.concatenate([np.full(setup, 110.0), np.full(20, 110.0), np.linspace(110, 5, 40), np.full(20, 5.0)])
    report2 = analyze_track(stick_track(knee2, hip2), AnalysisOptions(exercise="deadlift"))
    assert report2.rep_count == 1
    early = [f for f in report2.faults if f.code == "hips_rise_early"]
    assert early and early[0].severity == "fault"


def test_walking_in_place_is_not_a_rep():
    t = np.arange(300) / 30
    knee = 30 + 30 * np.sin(2 * np.pi * 1.0 * t)  # knees bend, hips never drop far
    hip = 10 + 15 * np.sin(2 * np.pi * 1.0 * t)
    report = analyze_track(stick_track(knee, hip, arms_down=True))
    assert report.rep_count == 0
    assert report.notes


def test_report_json_and_angles_csv(tmp_path, squat_track):
    report = analyze_track(squat_track)
    data = json.loads(report.write_json(tmp_path / "report.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["exercise"] == "squat" and data["rep_count"] == 3
    rep = data["reps"][0]
    assert {"start_s", "bottom_s", "end_s", "phases", "metrics", "faults", "cue"} <= set(rep)
    lines = (tmp_path / "angles.csv").write_text("") or report.write_angles_csv(tmp_path / "angles.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert "time_s" in header and "knee_flexion_deg" in header and "hip_height_leg_lengths" in header
    assert len(lines) == len(squat_track) + 1


def test_no_person_gives_a_report_that_says_so():
    from formcheck.pose.track import PoseFrame, PoseTrack

    track = PoseTrack.from_frames([PoseFrame.empty(i / 30) for i in range(30)], (640, 480))
    report = analyze_track(track)
    assert report.rep_count == 0
    assert "no person" in report.notes[0]
    json.loads(report.to_json())


@pytest.mark.parametrize("fixture", ["squat_track", "deadlift_track"])
def test_streaming_agrees_with_offline(fixture, request):
    track = request.getfixturevalue(fixture)
    offline = analyze_track(track)
    live = StreamingAnalyzer("auto")
    for i in range(len(track)):
        state = live.update(track[i], track.frame_size)
    assert state.exercise == offline.exercise
    assert live.rep_count == offline.rep_count
    assert [sorted(f.code for f in r.faults) for r in live.reps] == [sorted(f.code for f in r.faults) for r in offline.reps]


def test_angles_csv_keeps_precise_times_in_long_videos(tmp_path, squat_track):
    import dataclasses

    late = dataclasses.replace(squat_track, time_s=squat_track.time_s + 1234.5678)
    lines = analyze_track(late).write_angles_csv(tmp_path / "angles.csv").read_text().splitlines()
    header = lines[0].split(",")
    times = [float(line.split(",")[header.index("time_s")]) for line in lines[1:]]
    np.testing.assert_allclose(times, late.time_s, atol=1e-5)


def test_live_depth_is_the_offline_depth_measure(squat_track):
    """The live depth gauge shows what the offline shallow_depth check judges: the thigh
    angle above parallel from the vertical hip–knee drop (``thigh_drop``)."""
    offline = analyze_track(squat_track)
    depth = np.asarray(offline.frames["thigh_drop"], np.float64)
    live = StreamingAnalyzer("squat")
    seen = []
    for i in range(len(squat_track)):
        seen.append(live.update(squat_track[i], squat_track.frame_size).angles.get("thigh_drop", np.nan))
    seen = np.asarray(seen)
    bottoms = [r.bottom_frame for r in offline.reps]
    assert bottoms and np.isfinite(seen[bottoms]).all()
    # The causal filter and the live window's thigh length differ a little from the offline pass.
    np.testing.assert_allclose(seen[bottoms], depth[bottoms], atol=5.0)
