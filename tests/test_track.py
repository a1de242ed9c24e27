import dataclasses
import json

import numpy as np
import pytest

from formcheck.pose.track import OUTLINE_POINTS, PoseFrame, PoseTrack


def test_save_load_round_trip(tmp_path, squat_track):
    path = squat_track.save(tmp_path / "t.npz")
    loaded = PoseTrack.load(path)
    assert len(loaded) == len(squat_track)
    np.testing.assert_array_equal(loaded.xy, squat_track.xy)
    np.testing.assert_array_equal(loaded.time_s, squat_track.time_s)
    assert loaded.frame_size == squat_track.frame_size
    assert loaded.meta == squat_track.meta
    assert not list(tmp_path.glob(".tmp-*")), "temporary file left behind"


def test_load_rejects_other_files_and_versions(tmp_path, squat_track):
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a formcheck landmark track"):
        PoseTrack.load(other)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a formcheck landmark track"):
        PoseTrack.load(text)


def test_indexing_gives_frames_and_tracks(squat_track):
    frame = squat_track[5]
    assert isinstance(frame, PoseFrame)
    assert frame.xy.shape == (33, 2)
    assert frame.time_s == pytest.approx(squat_track.time_s[5])
    part = squat_track[10:20]
    assert isinstance(part, PoseTrack) and len(part) == 10
    detected = squat_track[squat_track.detected]
    assert len(detected) == len(squat_track)


def test_from_frames_marks_missing_person():
    frames = [PoseFrame.empty(0.0), PoseFrame.empty(0.04)]
    track = PoseTrack.from_frames(frames, (640, 480))
    assert not track.detected.any()
    assert track.fps == pytest.approx(25.0)


def test_shape_and_time_validation(squat_track):
    with pytest.raises(ValueError, match="strictly increasing"):
        PoseTrack(**{**squat_track.__dict__, "time_s": np.zeros(len(squat_track))})
    with pytest.raises(ValueError, match="xy has shape"):
        PoseTrack(**{**squat_track.__dict__, "xy": squat_track.xy[:, :10]})


def test_trunk_outlines_round_trip_slice_and_default(tmp_path, squat_track):
    assert squat_track.trunk_outlines.shape == (len(squat_track), 2, OUTLINE_POINTS, 2)
    assert np.isnan(squat_track.trunk_outlines).all()  # not given: NaN
    rng = np.random.default_rng(0)
    outlines = rng.uniform(0, 400, squat_track.trunk_outlines.shape).astype(np.float32)
    track = dataclasses.replace(squat_track, trunk_outlines=outlines)
    loaded = PoseTrack.load(track.save(tmp_path / "t.npz"))
    np.testing.assert_array_equal(loaded.trunk_outlines, outlines)
    np.testing.assert_array_equal(track[3:7].trunk_outlines, outlines[3:7])
    np.testing.assert_array_equal(track[4].trunk_outlines, outlines[4])
    with pytest.raises(ValueError, match="trunk_outlines has shape"):
        dataclasses.replace(squat_track, trunk_outlines=outlines[:, :1])


def test_a_track_saved_before_outlines_existed_loads_with_nan_outlines(tmp_path, squat_track):
    path = squat_track.save(tmp_path / "t.npz")
    with np.load(path) as data:
        older = {name: data[name] for name in data.files if name != "trunk_outlines"}
    np.savez_compressed(tmp_path / "old.npz", **older)
    loaded = PoseTrack.load(tmp_path / "old.npz")
    np.testing.assert_array_equal(loaded.xy, squat_track.xy)
    assert loaded.trunk_outlines.shape == (len(squat_track), 2, OUTLINE_POINTS, 2)
    assert np.isnan(loaded.trunk_outlines).all()
    assert loaded.derived == {}


def test_derived_arrays_travel_with_the_track_and_answer_only_to_their_version(tmp_path, squat_track):
    values = np.arange(2 * len(squat_track), dtype=np.float32).reshape(-1, 2)
    track = squat_track.with_derived("placed_hip", values, version=3)
    loaded = PoseTrack.load(track.save(tmp_path / "t.npz"))
    np.testing.assert_array_equal(loaded.derived_values("placed_hip", 3), values)
    assert loaded.derived_values("placed_hip", 4) is None and loaded.derived_values("other", 3) is None
    np.testing.assert_array_equal(loaded[2:5].derived["placed_hip"], values[2:5])
    with pytest.raises(ValueError, match="frames"):
        dataclasses.replace(squat_track, derived={"x": values[:3]})


def test_a_track_saved_with_the_old_placed_hip_field_keeps_it(tmp_path, squat_track):
    """Tracks saved before ``derived`` kept the placed hip as ``hip_from_outline``."""
    path = squat_track.save(tmp_path / "t.npz")
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(str(arrays["header"]))
    header["meta"]["hip_from_outline"] = 2
    arrays["header"] = np.array(json.dumps(header))
    arrays["hip_from_outline"] = np.ones((len(squat_track), 2), np.float32)
    np.savez_compressed(tmp_path / "old.npz", **arrays)
    loaded = PoseTrack.load(tmp_path / "old.npz")
    np.testing.assert_array_equal(loaded.derived_values("placed_hip", 2), arrays["hip_from_outline"])
