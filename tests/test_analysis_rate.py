"""High-frame-rate video is analysed at about 30 Hz; outputs still speak in the video's own frames."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from conftest import cycle, stick_track
from formcheck.analysis.offline import analyze_track
from formcheck.apps.cli import main
from formcheck.io.video import probe, read_frames
from formcheck.pose.estimator import AnalysisClock
from formcheck.pose.track import PoseTrack, interpolate_pose
from formcheck.render.stills import pick_key_frames
from formcheck.synth import SynthSpec, write_clip


def squats_at(fps: float) -> PoseTrack:
    """Three stick-figure squats sampled at ``fps`` (same motion in seconds at any rate)."""
    per_rep = int(round(2.0 * fps))
    knee = cycle(per_rep, 3, 5, 140, stand_frames=int(fps))
    hip = cycle(per_rep, 3, 5, 110, stand_frames=int(fps))
    return stick_track(knee, hip, fps=fps, arms_down=False)


def test_the_clock_keeps_every_second_frame_at_60_fps_and_every_frame_at_30():
    clock = AnalysisClock(30.0)
    assert [clock.due(i / 60) for i in range(8)] == [True, False] * 4
    clock = AnalysisClock(30.0)
    assert all(clock.due(i / 30) for i in range(8))
    clock = AnalysisClock(30.0)
    assert sum(clock.due(i / 120) for i in range(120)) == 40  # every third frame of 120 fps
    assert all(AnalysisClock(0).due(i / 240) for i in range(10))


def test_a_track_kept_at_every_second_frame_reports_in_the_video_s_frames():
    full = squats_at(60.0)
    half = dataclasses.replace(full[::2], meta={**full.meta, "source_frames": len(full), "source_fps": full.fps})
    np.testing.assert_array_equal(half.source_index, np.arange(0, len(full), 2))
    at_60, at_30 = analyze_track(full), analyze_track(half)
    assert at_30.rep_count == at_60.rep_count == 3
    assert at_30.fps == pytest.approx(60.0) and at_30.frame_count == len(full)
    assert any("every second frame" in note for note in at_30.notes)
    for slow, fast in zip(at_60.reps, at_30.reps):
        # Frame numbers are the video's (even: every second frame was analysed); the
        # bottom of a squat is a plateau, so its exact frame wanders by a few.
        assert fast.bottom_frame % 2 == 0 and abs(fast.bottom_frame - slow.bottom_frame) <= 6
        assert fast.metrics["descent_s"] == pytest.approx(slow.metrics["descent_s"], abs=0.07)
    np.testing.assert_array_equal(at_30.frames["frame"], half.source_index)


def test_source_frame_numbers_survive_saving(tmp_path):
    track = squats_at(60.0)[::2]
    loaded = PoseTrack.load(track.save(tmp_path / "t.npz"))
    np.testing.assert_array_equal(loaded.source_index, track.source_index)


def test_key_frames_are_picked_in_video_frames():
    report = {"exercise": "squat", "video": {"frames": 100, "fps": 60.0},
              "reps": [{"index": 1, "frames": {"start": 10, "bottom": 40, "end": 80},
                        "phases": {"lockout": [1.0, 1.2]}, "faults": [], "metrics": {}}]}
    time_s = np.arange(50) / 30.0  # analysed frames: every second frame of the video
    picks = pick_key_frames(report, time_s, np.arange(0, 100, 2))
    assert picks[-1] == (1, "Lockout", 66)  # 1.1 s → analysed frame 33 → video frame 66


def test_the_pose_between_two_analysed_frames_is_interpolated_for_drawing():
    track = squats_at(30.0)
    a, b = track[40], track[41]
    mid = interpolate_pose(a, b, 0.5 * (a.time_s + b.time_s))
    np.testing.assert_allclose(mid.xy, 0.5 * (a.xy + b.xy), atol=1e-4)
    gone = dataclasses.replace(b, xy=np.full_like(b.xy, np.nan))
    assert np.array_equal(interpolate_pose(a, gone, a.time_s + 0.001).xy, a.xy)


@pytest.mark.pose_model
def test_a_60_fps_video_is_posed_at_30_hz_and_annotated_at_60(tmp_path):
    clip = tmp_path / "squat60.mp4"
    write_clip(clip, SynthSpec("squat", reps=1, setup_s=0.6, fps=60.0, image_size=(480, 360), focal_px=560.0))
    frames = probe(clip).frame_count
    out = tmp_path / "out"
    assert main(["analyze", str(clip), "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["video"]["frames"] == frames and report["video"]["fps"] == pytest.approx(60.0, abs=0.5)
    assert report["rep_count"] == 1
    track = PoseTrack.load(out / "landmarks.npz")
    assert len(track) == (frames + 1) // 2 and np.all(np.diff(track.source_index) == 2)
    annotated = probe(out / "annotated.mp4")
    assert annotated.frame_count == frames and annotated.fps == pytest.approx(60.0, abs=0.5)
    # --analysis-fps 0: every frame through the pose model.
    every = tmp_path / "every"
    assert main(["analyze", str(clip), "--out", str(every), "--quiet", "--analysis-fps", "0", "--no-video"]) == 0
    assert len(PoseTrack.load(every / "landmarks.npz")) == frames
    assert sum(1 for _ in read_frames(out / "annotated.mp4")) == frames
