"""Key-frame stills draw what was graded: the back line and the hip the spine estimate used.

A deadlift is judged from the hip placed from the back's outline
(``PLACED_HIP``), stored with the landmarks as ``derived["placed_hip"]``.
These tests give a track a stored placed hip well away from the pose
model's and check that the stills draw that one, not the model's.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formcheck.analysis.offline import analyze_track, graded_spine
from formcheck.measure.kinematics import midpoint
from formcheck.pose import landmarks as lm
from formcheck.render import stills
from formcheck.render.html import write_html_report
from formcheck.spine import PLACED_HIP, PLACED_HIP_VERSION
from formcheck.synth import SynthSpec, make_track

#: Where the test puts the "placed" hip: this far from the model's (pixels, image y down).
OFFSET = np.array([0.0, 15.0])


@pytest.fixture(scope="module")
def deadlift():
    """A synthetic deadlift track whose stored placed hip is 15 px below the model's hip."""
    track = make_track(SynthSpec("deadlift", reps=2))
    model_hip = midpoint(track.xy.astype(np.float64), "hip")
    return track.with_derived("placed_hip", (model_hip + OFFSET).astype(np.float32), PLACED_HIP_VERSION)


def test_graded_pose_is_the_spine_estimate_the_analysis_used(deadlift):
    smoothed, spine = graded_spine(deadlift, "deadlift")
    assert spine.calibration is PLACED_HIP, "the placed hip should hold on this track"
    pose = stills.graded_pose(deadlift, "deadlift")
    placed = deadlift.derived["placed_hip"].astype(np.float64)
    stored = np.isfinite(placed).all(axis=1)  # frames without a pose have no placed hip
    assert stored.mean() > 0.9
    np.testing.assert_allclose(pose.hip[stored], placed[stored])
    # The skeleton's hip is the placed hip: both hip landmarks moved with their midpoint ...
    np.testing.assert_allclose(midpoint(pose.xy, "hip")[stored], placed[stored], atol=1e-4)
    model_hip = midpoint(smoothed.xy.astype(np.float64), "hip")
    assert np.nanmedian(np.linalg.norm(midpoint(pose.xy, "hip") - model_hip, axis=1)) > 10
    # ... and nothing else moved.
    others = [i for i in range(lm.NUM_LANDMARKS) if i not in (lm.LEFT_HIP, lm.RIGHT_HIP)]
    np.testing.assert_array_equal(pose.xy[:, others], smoothed.xy[:, others].astype(np.float64))
    # The back line is the one measured from that hip.
    np.testing.assert_array_equal(pose.back, spine.dorsal_points)


def test_a_squat_still_keeps_the_pose_models_hip():
    track = make_track(SynthSpec("squat", reps=2))
    model_hip = midpoint(track.xy.astype(np.float64), "hip")
    track = track.with_derived("placed_hip", (model_hip + OFFSET).astype(np.float32), PLACED_HIP_VERSION)
    smoothed, spine = graded_spine(track, "squat")
    pose = stills.graded_pose(track, "squat")
    # Squats are graded from the model's hip, so the stills draw the landmarks as found.
    np.testing.assert_array_equal(pose.xy, smoothed.xy.astype(np.float64))
    np.testing.assert_array_equal(pose.back, spine.dorsal_points)


def _white(image: np.ndarray, xy: np.ndarray, radius: int = 2) -> bool:
    """A (near-)white pixel near ``xy``: the inside of a drawn joint (bones are cyan, the back magenta)."""
    x, y = np.round(xy).astype(int)
    patch = image[y - radius : y + radius + 1, x - radius : x + radius + 1].astype(int)
    return bool((patch.min(axis=2) > 170).any())


def test_a_deadlift_still_draws_the_placed_hip_not_the_models(deadlift):
    pose = stills.graded_pose(deadlift, "deadlift")
    i = 30  # standing at the start: hip, knee and shoulder well apart
    model_hip = midpoint(pose.track.xy[i : i + 1].astype(np.float64), "hip")[0]
    placed_hip = pose.hip[i]
    h, w = deadlift.frame_size[1], deadlift.frame_size[0]
    assert h == stills.STILL_HEIGHT, "the still is drawn at the frame's own size (no zoom)"
    black = np.zeros((h, w, 3), np.uint8)
    jpeg = stills.draw_still(black, pose.xy[i], pose.track.visibility[i], pose.back[i])
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert _white(image, placed_hip), "the hip joint is drawn where the back was measured from"
    assert not _white(image, model_hip), "no joint is drawn at the pose model's hip"
    # The knees, drawn as found, are joints too: the test's notion of a joint holds.
    assert _white(image, midpoint(pose.xy[i : i + 1], "knee")[0])


def test_the_report_page_draws_stills_from_the_graded_pose(deadlift, tmp_path, monkeypatch):
    """write_html_report → grab_key_frames hands draw_still the placed hip and the graded back line."""
    out = tmp_path / "out"
    out.mkdir()
    video = tmp_path / "deadlift.avi"
    w, h = deadlift.frame_size
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), deadlift.fps, (w, h))
    for _ in range(len(deadlift)):
        writer.write(np.full((h, w, 3), 60, np.uint8))
    writer.release()
    report = analyze_track(deadlift)
    assert report.exercise == "deadlift" and report.rep_count >= 1
    report.write_json(out / "report.json")
    report.write_angles_csv(out / "angles.csv")
    deadlift.save(out / "landmarks.npz")

    drawn = []
    original = stills.draw_still

    def recording(frame, xy, visibility, back, crop=None):
        drawn.append((xy, back))
        return original(frame, xy, visibility, back, crop)

    monkeypatch.setattr(stills, "draw_still", recording)
    write_html_report(out, video)
    assert len(drawn) == 3 * report.rep_count
    smoothed, spine = graded_spine(deadlift, "deadlift")
    placed = deadlift.derived["placed_hip"].astype(np.float64)
    model_hip = midpoint(smoothed.xy.astype(np.float64), "hip")
    picks = stills.pick_key_frames(report.to_dict(), deadlift.time_s)
    on_placed = 0
    for (_, _, i), (xy, back) in zip(picks, drawn):
        hip = midpoint(xy[None], "hip")[0]  # video and track share a size: pixels are the track's
        np.testing.assert_allclose(hip, spine.hip_xy[i], atol=1e-3)
        if np.isfinite(placed[i]).all():
            np.testing.assert_allclose(hip, placed[i], atol=1e-3)
            assert np.linalg.norm(hip - model_hip[i]) > 10
            on_placed += 1
        if back is not None:
            np.testing.assert_array_equal(back, spine.dorsal_points[i])
    assert on_placed >= len(picks) - 1
    assert any(back is not None for _, back in drawn), "the graded back line is drawn where it was assessed"
